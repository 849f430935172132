package ssotoken

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cases of this file are edges that decide by one unit: each is
// beside its neighbour on the other side, so that a check moved by one
// (">=" for ">") or turned round fails here.

// TestKindStringOutOfRange: a Kind past the named ones is "unknown kind",
// the first of them included; it never indexes past the names.
func TestKindStringOutOfRange(t *testing.T) {
	for k, want := range map[Kind]string{
		0:                    "unknown kind",
		ErrBadRequest:        "bad request",
		ErrRateLimited:       "rate limited",
		Kind(len(kindNames)): "unknown kind", // ErrRateLimited + 1
		255:                  "unknown kind",
	} {
		assert.Equal(t, want, k.String(), "Kind(%d)", k)
		assert.Equal(t, "ssotoken: "+want, k.Error())
	}
}

// TestAppendDateYears: the fast path of appendDate writes what
// time.Time.AppendFormat writes, at the ends of the years it takes (0 and
// 9999) and past them.
func TestAppendDateYears(t *testing.T) {
	for _, year := range []int{-1, 0, 1, 1970, 2025, 9998, 9999, 10000} {
		at := time.Date(year, 12, 31, 23, 59, 58, 999_999_999, time.UTC)
		assert.Equal(t, at.AppendFormat(nil, DateLayout), appendDate(nil, at), "year %d", year)
	}
}

// TestRedemptionIDOfSigningInput: the id is the digest of what precedes
// the last '.', the signing input, whatever follows it; with no '.', of
// the whole string, and a leading '.' is an empty signing input.
func TestRedemptionIDOfSigningInput(t *testing.T) {
	assert.Equal(t, RedemptionID("a.b.sig1"), RedemptionID("a.b.sig2"))
	assert.Equal(t, RedemptionID("a.b."), RedemptionID("a.b.x"))
	assert.NotEqual(t, RedemptionID("a.b.sig"), RedemptionID("a.c.sig"))
	assert.Equal(t, RedemptionID(""), RedemptionID(".sig1"))
	assert.Equal(t, RedemptionID(".sig1"), RedemptionID(".sig2"))
	assert.NotEqual(t, RedemptionID("abc"), RedemptionID(".abc"))
	assert.Len(t, RedemptionID("x"), RedemptionIDLen)
}

// TestRefNoWideStartupSecond: a wide generator's start-up second is used
// up on the real clock, as a narrow one's (a restarted process must not
// repeat its predecessor's references), and on a test clock, which may
// issue in it, starts at a random point like any other second.
func TestRefNoWideStartupSecond(t *testing.T) {
	for _, wide := range []bool{false, true} {
		g, err := NewRefNoGenerator(RefNoConfig{Wide: wide}) // the real clock
		require.NoError(t, err)
		g.mu.Lock()
		assert.Equal(t, g.limit, g.seq, "wide %v: the real clock's start-up second is used up", wide)
		g.mu.Unlock()
	}

	starts := make(map[uint64]bool)
	for range 5 {
		clock := newTestClock(refnoSeedTime)
		g, err := NewRefNoGenerator(RefNoConfig{Wide: true, Now: clock.Now})
		require.NoError(t, err)
		g.sleep = clock.Sleep
		ref, _ := refnoNext(t, g)
		sec, n := refnoParts(t, ref)
		assert.Equal(t, refnoSeedTime.Unix(), sec, "issued in the start-up second")
		assert.Less(t, n, g.limit*9/10, "a second starts below 9/10 of the range")
		starts[n] = true
		assert.Zero(t, clock.sleeps.Load())
	}
	assert.Len(t, starts, 5, "each start-up second starts at its own random point, not at 0")
}

// TestRefNoIssueTimeFollowsTheClock: within a second, each reference's
// issue time is the clock's reading, not the second's first one; a clock
// that steps back within the second leaves it where it was.
func TestRefNoIssueTimeFollowsTheClock(t *testing.T) {
	s := time.Unix(refnoSeedTime.Unix(), 0)
	g, clock := newTestGenerator(t, RefNoConfig{}, s.Add(100*time.Millisecond))
	for _, tt := range []struct {
		clock, want time.Duration // after the second's start
	}{
		{100 * time.Millisecond, 100 * time.Millisecond},
		{500 * time.Millisecond, 500 * time.Millisecond},
		{300 * time.Millisecond, 500 * time.Millisecond}, // back: not before the last
		{999 * time.Millisecond, 999 * time.Millisecond},
	} {
		clock.Set(s.Add(tt.clock))
		ref, at := refnoNext(t, g)
		assert.Equal(t, strconv.FormatInt(s.Unix(), 10), ref[:10])
		assert.True(t, at.Equal(s.Add(tt.want)), "clock at +%v: issued at %v", tt.clock, at)
	}
}

// TestRefNoClockBehindLimit: a clock behind the used-up second by up to
// maxClockBehind is waited on (the wait then lasts maxClockBehind + 1 s at
// most); a nanosecond further, Next fails at once.
func TestRefNoClockBehindLimit(t *testing.T) {
	t0 := time.Unix(refnoSeedTime.Unix(), 0)
	for _, tt := range []struct {
		behind time.Duration // the clock's reading before t0's second
		wait   time.Duration // 0: refused
	}{
		{behind: maxClockBehind, wait: maxClockBehind + time.Second},
		{behind: maxClockBehind - time.Millisecond, wait: maxClockBehind + time.Second - time.Millisecond},
		{behind: maxClockBehind + time.Nanosecond},
	} {
		g, clock := newTestGenerator(t, RefNoConfig{Instance: 49_999, Instances: 50_000}, t0)
		refnoNext(t, g)
		refnoNext(t, g) // t0's second is used up
		clock.Set(t0.Add(-tt.behind))
		ref, _, err := g.Next(refnoCtx(t))
		if tt.wait == 0 {
			assert.ErrorIs(t, err, errClockBehind, "%v behind", tt.behind)
			assert.Zero(t, clock.slept.Load(), "no wait")
			continue
		}
		require.NoError(t, err, "%v behind", tt.behind)
		assert.Equal(t, strconv.FormatInt(t0.Unix()+1, 10), ref[:10])
		assert.Equal(t, tt.wait, time.Duration(clock.slept.Load()), "%v behind", tt.behind)
	}
}
