package ssotoken

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refnoSeedTime is the issue time of the API document's sample TokenNo.
var refnoSeedTime = time.Date(2025, 1, 20, 8, 49, 46, 756e6, time.UTC)

// refnoNext draws one reference and checks what every reference must be:
// of its length, of ASCII digits, ValidRefNo, and with the second of its
// issue time as its first ten digits.
func refnoNext(t testing.TB, g *RefNoGenerator) (ref string, at time.Time) {
	t.Helper()
	// Next answers at once on a test clock, whose waits take no time: a
	// generator that never stops waiting (the seconds' numbers never
	// count, or the wait never ends) fails here within the deadline,
	// instead of hanging the package's tests.
	ctx, cancel := context.WithTimeout(context.Background(), refnoDeadline)
	defer cancel()
	ref, at, err := g.Next(ctx)
	require.NoError(t, err)
	refnoCheck(t, g.wide, ref, at)
	return ref, at
}

// refnoDeadline bounds a Next of the tests, which answers at once.
const refnoDeadline = 5 * time.Second

// refnoCtx is a context for the Next calls of a test: done after
// refnoDeadline (see refnoNext), canceled when the test ends.
func refnoCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), refnoDeadline)
	t.Cleanup(cancel)
	return ctx
}

func refnoCheck(t testing.TB, wide bool, ref string, at time.Time) {
	t.Helper()
	if bad := refnoBad(wide, ref, at.Unix()); bad != "" {
		t.Fatalf("%q: %s", ref, bad)
	}
}

// refnoBad returns what is wrong with ref as a reference issued in the
// Unix second sec, or "" if nothing is; it is cheap enough for loops of
// 10^5.
func refnoBad(wide bool, ref string, sec int64) string {
	want := RefNoLen
	if wide {
		want = WideRefNoLen
	}
	switch {
	case len(ref) != want:
		return "length " + strconv.Itoa(len(ref)) + ", want " + strconv.Itoa(want)
	case !refnoASCIIDigits(ref):
		return "not ASCII digits"
	case !ValidRefNo(ref):
		return "refused by ValidRefNo"
	case ref[:10] != fmt.Sprintf("%010d", sec):
		return fmt.Sprintf("its second is not its issue time's, %010d", sec)
	}
	return ""
}

// refnoParts splits a TokenRefNo into its second and its number.
func refnoParts(t testing.TB, ref string) (sec int64, n uint64) {
	t.Helper()
	sec, err := strconv.ParseInt(ref[:10], 10, 64)
	require.NoError(t, err)
	n, err = strconv.ParseUint(ref[10:], 10, 64)
	require.NoError(t, err)
	return sec, n
}

// refnoASCIIDigits reports whether s is made of ASCII digits only.
func refnoASCIIDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func TestRefNoFormat(t *testing.T) {
	t.Parallel()
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name string
		at   time.Time
		wide bool
		want string // the reference of the first Next
	}{
		{name: "API document's sample second", at: refnoSeedTime, want: "173736298600000"},
		{name: "sub-second part ignored", at: time.Unix(1737362986, 999_999_999), want: "173736298600000"},
		{name: "second one after the epoch is zero padded", at: time.Unix(1, 0), want: "000000000100000"},
		{name: "largest 10-digit second", at: time.Unix(9_999_999_999, 0), want: "999999999900000"},
		{name: "another time zone, same instant", at: refnoSeedTime.In(ist), want: "173736298600000"},
		{name: "wide: the sample second", at: refnoSeedTime, wide: true, want: "1737362986"},
		{name: "wide: zero padded", at: time.Unix(1, 0), wide: true, want: "0000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, _ := newTestGenerator(t, RefNoConfig{Wide: tt.wide}, tt.at)
			ref, at := refnoNext(t, g)
			if tt.wide {
				assert.Equal(t, tt.want, ref[:10])
			} else {
				assert.Equal(t, tt.want, ref)
			}
			assert.True(t, at.Equal(tt.at), "the issue time is the clock's: %v", at)
			for range 100 {
				next, _ := refnoNext(t, g)
				assert.Greater(t, next, ref)
				assert.Equal(t, ref[:10], next[:10])
				ref = next
			}
		})
	}
}

// TestRefNoPartition: each instance of a fleet has the numbers
// seq*Instances + Instance, floor((99999-Instance)/Instances)+1 of them
// a second.
func TestRefNoPartition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		instance, instances int
		wantFirst           []string // the 5 digits of the first numbers of a second
		wantPerSecond       int64
	}{
		{name: "zero config is a fleet of one", wantFirst: []string{"00000", "00001", "00002"}, wantPerSecond: 100_000},
		{name: "fleet of one, explicit", instances: 1, wantFirst: []string{"00000", "00001"}, wantPerSecond: 100_000},
		{name: "instance 0 of 3", instances: 3, wantFirst: []string{"00000", "00003", "00006"}, wantPerSecond: 33_334},
		{name: "instance 2 of 3", instance: 2, instances: 3, wantFirst: []string{"00002", "00005", "00008"}, wantPerSecond: 33_333},
		{name: "instance 6 of 7", instance: 6, instances: 7, wantFirst: []string{"00006", "00013"}, wantPerSecond: 14_285},
		{name: "instance 99 of 100", instance: 99, instances: 100, wantFirst: []string{"00099", "00199"}, wantPerSecond: 1_000},
		{name: "instance 0 of the largest fleet", instances: MaxInstances, wantFirst: []string{"00000"}, wantPerSecond: 1},
		{name: "last instance of the largest fleet", instance: MaxInstances - 1, instances: MaxInstances, wantFirst: []string{"99999"}, wantPerSecond: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, clock := newTestGenerator(t, RefNoConfig{Instance: tt.instance, Instances: tt.instances}, refnoSeedTime)
			assert.Equal(t, tt.wantPerSecond, g.PerSecond())
			for i, want := range tt.wantFirst {
				ref, _ := refnoNext(t, g)
				assert.Equal(t, "1737362986"+want, ref, "number %d", i)
			}
			// Use up the second: the numbers end exactly at PerSecond, and
			// the next one is the next second's first.
			fleet := uint64(max(tt.instances, 1))
			ctx := refnoCtx(t)
			for i := int64(len(tt.wantFirst)); i < tt.wantPerSecond; i++ {
				ref, at, err := g.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if bad := refnoBad(false, ref, at.Unix()); bad != "" {
					t.Fatalf("%q: %s", ref, bad)
				}
				if n, _ := strconv.ParseUint(ref[10:], 10, 64); n%fleet != uint64(tt.instance) || n != uint64(i)*fleet+uint64(tt.instance) {
					t.Fatalf("number %d is %s", i, ref)
				}
			}
			assert.Zero(t, clock.sleeps.Load(), "no wait within the second")
			ref, _ := refnoNext(t, g)
			assert.Equal(t, "1737362987"+tt.wantFirst[0], ref)
			assert.Equal(t, int64(1), clock.sleeps.Load())
		})
	}
}

// TestRefNoFleetCoversEveryNumber: the instances of a fleet share out the
// 100,000 numbers of a second, each to one instance.
func TestRefNoFleetCoversEveryNumber(t *testing.T) {
	t.Parallel()
	for _, fleet := range []int{1, 2, 7, 1000} {
		t.Run(strconv.Itoa(fleet), func(t *testing.T) {
			t.Parallel()
			seen := make(map[string]int, refNarrowMod)
			ctx := refnoCtx(t)
			for inst := range fleet {
				g, clock := newTestGenerator(t, RefNoConfig{Instance: inst, Instances: fleet}, refnoSeedTime)
				for range g.PerSecond() {
					ref, _, err := g.Next(ctx)
					if err != nil {
						t.Fatal(err)
					}
					seen[ref]++
				}
				require.Zero(t, clock.sleeps.Load())
			}
			assert.Len(t, seen, refNarrowMod, "every number of the second, once")
			for ref, n := range seen {
				if n != 1 || ref[:10] != "1737362986" {
					t.Fatalf("%s made %d times", ref, n)
				}
			}
		})
	}
}

// TestRefNoTwoInstancesSameSecond: two instances of one fleet, at the same
// fake second, drawing concurrently, never make the same reference.
func TestRefNoTwoInstancesSameSecond(t *testing.T) {
	t.Parallel()
	for _, wide := range []bool{false, true} {
		t.Run("wide "+strconv.FormatBool(wide), func(t *testing.T) {
			t.Parallel()
			const each = 20_000
			a, _ := newTestGenerator(t, RefNoConfig{Instance: 0, Instances: 2, Wide: wide}, refnoSeedTime)
			b, _ := newTestGenerator(t, RefNoConfig{Instance: 1, Instances: 2, Wide: wide}, refnoSeedTime)
			out := [2][]string{}
			ctx := refnoCtx(t)
			var wg sync.WaitGroup
			for i, g := range []*RefNoGenerator{a, b} {
				wg.Go(func() {
					for range each {
						ref, _, err := g.Next(ctx)
						if !assert.NoError(t, err) {
							return
						}
						out[i] = append(out[i], ref)
					}
				})
			}
			wg.Wait()
			seen := make(map[string]bool, 2*each)
			for i, refs := range out {
				require.Len(t, refs, each)
				for _, ref := range refs {
					if bad := refnoBad(wide, ref, 1737362986); bad != "" {
						t.Fatalf("%q: %s (one second for all)", ref, bad)
					}
					if n, _ := strconv.ParseUint(ref[10:], 10, 64); n%2 != uint64(i) {
						t.Fatalf("%s is not instance %d's", ref, i)
					}
					seen[ref] = true
				}
			}
			assert.Len(t, seen, 2*each)
		})
	}
}

// TestRefNoExhaustedSecondWaits: when an instance's numbers of a second are
// used up, Next waits for the next second (on the fake clock) and starts
// its numbers again there; it never repeats and never borrows a second
// that has not come.
func TestRefNoExhaustedSecondWaits(t *testing.T) {
	t.Parallel()
	// Instance 49999 of 50000 has two numbers a second: 49999 and 99999.
	g, clock := newTestGenerator(t, RefNoConfig{Instance: 49_999, Instances: 50_000}, refnoSeedTime)
	require.Equal(t, int64(2), g.PerSecond())

	steps := []struct {
		ref        string
		at         time.Time
		sleeps     int64
		sleptUntil time.Time // the clock after the step
	}{
		{ref: "173736298649999", at: refnoSeedTime, sleptUntil: refnoSeedTime},
		{ref: "173736298699999", at: refnoSeedTime, sleptUntil: refnoSeedTime},
		// Used up: wait until 08:49:47.000, then the first number again.
		{ref: "173736298749999", at: time.Unix(1737362987, 0), sleeps: 1, sleptUntil: time.Unix(1737362987, 0)},
		{ref: "173736298799999", at: time.Unix(1737362987, 0), sleeps: 1, sleptUntil: time.Unix(1737362987, 0)},
		{ref: "173736298849999", at: time.Unix(1737362988, 0), sleeps: 2, sleptUntil: time.Unix(1737362988, 0)},
	}
	for i, st := range steps {
		ref, at := refnoNext(t, g)
		assert.Equal(t, st.ref, ref, "step %d", i)
		assert.True(t, st.at.Equal(at), "step %d: issued at %v", i, at)
		assert.Equal(t, st.sleeps, clock.sleeps.Load(), "step %d", i)
		assert.True(t, st.sleptUntil.Equal(clock.Now()), "step %d: clock %v", i, clock.Now())
	}
	assert.Equal(t, 2*time.Second-756*time.Millisecond, time.Duration(clock.slept.Load()), "each wait ends at the next second exactly")
}

// TestRefNoExhaustedSecondHonoursContext: a wait ends when ctx is done, with
// the context's error classified by Wrap, and the generator goes on as if
// the call had not been made.
func TestRefNoExhaustedSecondHonoursContext(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel2()
	tests := []struct {
		name   string
		ctx    context.Context
		sleep  func(*testClock) func(context.Context, time.Duration) error
		code   string
		target error
	}{
		{name: "canceled before the wait", ctx: canceled, code: CodeCanceled, target: context.Canceled},
		{name: "deadline passed before the wait", ctx: expired, code: CodeDeadlineExceeded, target: context.DeadlineExceeded},
		{
			name: "deadline runs out during the wait", ctx: context.Background(),
			sleep: func(*testClock) func(context.Context, time.Duration) error {
				return func(context.Context, time.Duration) error { return context.DeadlineExceeded }
			},
			code: CodeDeadlineExceeded, target: context.DeadlineExceeded,
		},
		{
			name: "canceled during a real wait", ctx: canceled,
			sleep: func(*testClock) func(context.Context, time.Duration) error { return sleepCtx },
			code:  CodeCanceled, target: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, clock := newTestGenerator(t, RefNoConfig{Instance: 99_999, Instances: MaxInstances}, refnoSeedTime)
			first, _ := refnoNext(t, g) // the second's one number
			if tt.sleep != nil {
				g.sleep = tt.sleep(clock)
			}
			ref, at, err := g.Next(tt.ctx)
			require.Error(t, err)
			assert.Empty(t, ref)
			assert.True(t, at.IsZero())
			assert.ErrorIs(t, err, ErrTimeout)
			assert.ErrorIs(t, err, tt.target)
			assert.Equal(t, tt.code, CodeOf(err))
			var e *Error
			assert.ErrorAs(t, err, &e)
			assert.True(t, refnoSeedTime.Equal(clock.Now()), "no time passed: %v", clock.Now())

			g.sleep = clock.Sleep
			next, _ := refnoNext(t, g)
			assert.Equal(t, "173736298799999", next, "after %s", first)
		})
	}
}

// TestRefNoClockStandsStill: a clock that reads the same instant across
// the waits (a fixed test clock) fails Next, rather than let it wait for
// ever.
func TestRefNoClockStandsStill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		at        time.Time
		wantWaits int
	}{
		{name: "one wait of 244 ms", at: refnoSeedTime, wantWaits: 1},
		{name: "a whole second", at: time.Unix(1737362986, 0), wantWaits: 1},
		{name: "waits of 40 ms, three of them", at: time.Unix(1737362986, 960e6), wantWaits: 3},
		{name: "one wait of exactly clockStillMax", at: time.Unix(1737362986, 900e6), wantWaits: 1},
		{name: "two waits of half clockStillMax", at: time.Unix(1737362986, 950e6), wantWaits: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := NewRefNoGenerator(RefNoConfig{Now: func() time.Time { return tt.at }, skipStart: true})
			require.NoError(t, err)
			var waits atomic.Int32
			g.sleep = func(context.Context, time.Duration) error { waits.Add(1); return nil }
			ref, _, err := g.Next(refnoCtx(t))
			assert.Empty(t, ref)
			assert.ErrorIs(t, err, ErrUpstream)
			assert.ErrorIs(t, err, errClockStill)
			assert.Equal(t, CodeInternal, CodeOf(err))
			assert.Equal(t, int32(tt.wantWaits), waits.Load())
		})
	}

	// A clock that moves, if only by a nanosecond a wait, is waited on.
	clock := newTestClock(refnoSeedTime)
	g, err := NewRefNoGenerator(RefNoConfig{Now: clock.Now, skipStart: true})
	require.NoError(t, err)
	g.sleep = func(_ context.Context, d time.Duration) error {
		if clock.Now().Before(time.Unix(1737362986, 999_999_990)) {
			clock.Set(time.Unix(1737362986, 999_999_990))
		} else {
			clock.Advance(time.Nanosecond)
		}
		return nil
	}
	ref, _ := refnoNext(t, g)
	assert.Equal(t, "173736298700000", ref)
}

// TestRefNoStartupSecondSkipped: a generator issues nothing in the second
// it was created in, so that a process restarted within that second cannot
// repeat its predecessor's references.
func TestRefNoStartupSecondSkipped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		created  time.Time
		first    time.Time // the clock at the first Next
		wantWait time.Duration
		wantAt   time.Time
	}{
		{name: "first Next in the start-up second", created: refnoSeedTime, first: refnoSeedTime, wantWait: 244 * time.Millisecond, wantAt: time.Unix(1737362987, 0)},
		{name: "created at the start of a second", created: time.Unix(1737362986, 0), first: time.Unix(1737362986, 999_999_999), wantWait: time.Nanosecond, wantAt: time.Unix(1737362987, 0)},
		{name: "first Next in the next second", created: refnoSeedTime, first: refnoSeedTime.Add(time.Second), wantAt: refnoSeedTime.Add(time.Second)},
		{name: "first Next much later", created: refnoSeedTime, first: refnoSeedTime.Add(time.Hour), wantAt: refnoSeedTime.Add(time.Hour)},
		// A clock that steps back before the first Next: the start-up
		// second is still the earliest the generator may use, plus one.
		{name: "clock stepped back after creation", created: refnoSeedTime, first: refnoSeedTime.Add(-2 * time.Second), wantWait: 2*time.Second + 244*time.Millisecond, wantAt: time.Unix(1737362987, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(tt.created)
			g, err := NewRefNoGenerator(RefNoConfig{Now: clock.Now, skipStart: true})
			require.NoError(t, err)
			g.sleep = clock.Sleep
			clock.Set(tt.first)

			ref, at := refnoNext(t, g)
			assert.True(t, tt.wantAt.Equal(at), "issued at %v", at)
			assert.Equal(t, strconv.FormatInt(tt.wantAt.Unix(), 10)+"00000", ref)
			assert.Equal(t, tt.wantWait, time.Duration(clock.slept.Load()), "the wait")
			assert.Less(t, time.Duration(clock.slept.Load()), time.Second+time.Minute)
		})
	}

	t.Run("a restart within a second repeats nothing", func(t *testing.T) {
		t.Parallel()
		// The first process started the second before and issued 1,000
		// references in 08:49:46; its successor starts at 08:49:46.9.
		before, _ := newTestGenerator(t, RefNoConfig{}, refnoSeedTime)
		seen := map[string]bool{}
		for range 1000 {
			ref, _ := refnoNext(t, before)
			seen[ref] = true
		}
		clock := newTestClock(refnoSeedTime.Add(144 * time.Millisecond))
		after, err := NewRefNoGenerator(RefNoConfig{Now: clock.Now, skipStart: true})
		require.NoError(t, err)
		after.sleep = clock.Sleep
		for range 1000 {
			ref, _ := refnoNext(t, after)
			assert.False(t, seen[ref], "%s issued by both processes", ref)
			assert.Equal(t, "1737362987", ref[:10])
		}
	})

	t.Run("the default clock is time.Now", func(t *testing.T) {
		t.Parallel()
		before := time.Now().Unix()
		g, err := NewRefNoGenerator(RefNoConfig{})
		require.NoError(t, err)
		after := time.Now().Unix()
		g.mu.Lock()
		defer g.mu.Unlock()
		assert.True(t, g.sec >= before && g.sec <= after, "start-up second %d", g.sec)
		assert.Equal(t, g.limit, g.seq, "the start-up second is used up")
	})
}

// TestRefNoZeroValue: a zero RefNoGenerator is the default one, started at
// its first Next.
func TestRefNoZeroValue(t *testing.T) {
	t.Parallel()
	clock := newTestClock(refnoSeedTime)
	g := &RefNoGenerator{now: clock.Now, sleep: clock.Sleep, skipStart: true}
	assert.Equal(t, int64(100_000), g.PerSecond())
	ref, at := refnoNext(t, g)
	assert.Equal(t, "173736298700000", ref, "its first second is that of its first Next")
	assert.True(t, at.Equal(time.Unix(1737362987, 0)))
	assert.Equal(t, int64(1), clock.sleeps.Load())
}

// TestRefNoClockStepsBack: a clock that goes back keeps the generator in
// the last second it used, so references and issue times never go back;
// when that second is used up, it waits for the one after.
func TestRefNoClockStepsBack(t *testing.T) {
	t.Parallel()
	t0 := refnoSeedTime
	sec := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Second) }
	tests := []struct {
		name string
		// instances, when set, makes a fleet of that many and the
		// generator its last instance, to run out of numbers sooner.
		instances int
		times     []time.Time
		// wantSec is the second of each reference, as an offset from t0.
		wantSec []int
	}{
		{
			name:    "same second",
			times:   []time.Time{sec(0), sec(0), sec(0)},
			wantSec: []int{0, 0, 0},
		},
		{
			name:    "clock advances",
			times:   []time.Time{sec(0), sec(1), sec(2), sec(10), sec(3600)},
			wantSec: []int{0, 1, 2, 10, 3600},
		},
		{
			name:    "back within the second",
			times:   []time.Time{sec(0), t0.Truncate(time.Second), sec(0)},
			wantSec: []int{0, 0, 0},
		},
		{
			name:    "back one second",
			times:   []time.Time{sec(0), sec(-1), sec(-1), sec(0), sec(1)},
			wantSec: []int{0, 0, 0, 0, 1},
		},
		{
			name:    "back an hour and recovers",
			times:   []time.Time{sec(5), sec(-3600), sec(-3599), sec(4), sec(5), sec(6)},
			wantSec: []int{5, 5, 5, 5, 5, 6},
		},
		{
			name:    "to the epoch and before",
			times:   []time.Time{sec(0), time.Unix(0, 0), time.Unix(-1, 0), sec(1)},
			wantSec: []int{0, 0, 0, 1},
		},
		{
			// Two numbers a second: the third, two seconds behind, waits
			// until the second after the last one used.
			name:      "back two seconds with the second used up",
			instances: 50_000,
			times:     []time.Time{sec(0), sec(-2), sec(-2), sec(-2)},
			wantSec:   []int{0, 0, 1, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Len(t, tt.wantSec, len(tt.times))
			cfg := RefNoConfig{}
			if tt.instances > 0 {
				cfg = RefNoConfig{Instance: tt.instances - 1, Instances: tt.instances}
			}
			g, clock := newTestGenerator(t, cfg, tt.times[0])
			prev, prevAt := "", time.Time{}
			for i, want := range tt.wantSec {
				clock.Set(tt.times[i])
				ref, at := refnoNext(t, g)
				assert.Equal(t, strconv.FormatInt(t0.Unix()+int64(want), 10), ref[:10], "reference %d: %s", i, ref)
				if i > 0 {
					assert.Greater(t, ref, prev, "reference %d is not above the one before", i)
					assert.False(t, at.Before(prevAt), "reference %d: issue time %v went back from %v", i, at, prevAt)
				}
				prev, prevAt = ref, at
			}
		})
	}
}

// TestRefNoConcurrentNoDuplicates draws from one generator in 8 goroutines:
// each goroutine's references strictly increase, and none repeats; with
// few numbers a second, the goroutines wait for the next second together.
func TestRefNoConcurrentNoDuplicates(t *testing.T) {
	t.Parallel()
	const workers, perWorker = 8, 5_000
	tests := []struct {
		name      string
		cfg       RefNoConfig
		minSecond int // the fewest seconds the run spans
	}{
		{name: "one second is enough", cfg: RefNoConfig{}, minSecond: 1},
		{name: "1,000 a second: waits", cfg: RefNoConfig{Instance: 42, Instances: 100}, minSecond: workers * perWorker / 1000},
		{name: "wide", cfg: RefNoConfig{Wide: true}, minSecond: 1},
		{name: "wide, instance 3 of 4", cfg: RefNoConfig{Wide: true, Instance: 3, Instances: 4}, minSecond: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, _ := newTestGenerator(t, tt.cfg, refnoSeedTime)
			out := make([][]string, workers)
			start := make(chan struct{})
			ctx := refnoCtx(t)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					refs := make([]string, 0, perWorker)
					<-start
					for range perWorker {
						ref, at, err := g.Next(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						if bad := refnoBad(tt.cfg.Wide, ref, at.Unix()); bad != "" {
							t.Errorf("%q: %s", ref, bad)
							return
						}
						refs = append(refs, ref)
					}
					out[w] = refs
				})
			}
			close(start)
			wg.Wait()

			seen := make(map[string]struct{}, workers*perWorker)
			seconds := map[string]bool{}
			for w, refs := range out {
				require.Len(t, refs, perWorker)
				for i, ref := range refs {
					if i > 0 && ref <= refs[i-1] {
						t.Fatalf("worker %d, reference %d: %s after %s", w, i, ref, refs[i-1])
					}
					if n := uint64(max(tt.cfg.Instances, 1)); mustParseUint(t, ref[10:])%n != uint64(tt.cfg.Instance) {
						t.Fatalf("%s is not instance %d's", ref, tt.cfg.Instance)
					}
					seen[ref] = struct{}{}
					seconds[ref[:10]] = true
				}
			}
			assert.Len(t, seen, workers*perWorker, "duplicates")
			assert.GreaterOrEqual(t, len(seconds), tt.minSecond)
		})
	}
}

func mustParseUint(t testing.TB, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRefNoWide: the 20-digit form counts up from a random point below
// 9/10 of its range each second, partitioned by instance.
func TestRefNoWide(t *testing.T) {
	t.Parallel()
	const seconds = 50
	g, clock := newTestGenerator(t, RefNoConfig{Wide: true, Instance: 2, Instances: 5}, refnoSeedTime)
	limit := uint64((refWideMod-1-2)/5 + 1)
	assert.Equal(t, int64(limit-limit*9/10+1), g.PerSecond())

	starts := make(map[uint64]bool)
	for i := range seconds {
		clock.Set(refnoSeedTime.Add(time.Duration(i) * time.Second))
		first, _ := refnoNext(t, g)
		second, _ := refnoNext(t, g)
		sec1, n1 := refnoParts(t, first)
		sec2, n2 := refnoParts(t, second)
		assert.Equal(t, refnoSeedTime.Unix()+int64(i), sec1)
		assert.Equal(t, sec1, sec2)
		assert.Equal(t, uint64(2), n1%5, "instance 2 of 5")
		assert.Equal(t, n1+5, n2, "the next number of the instance")
		assert.Less(t, n1/5, limit*9/10, "a second starts below 9/10 of the range")
		starts[n1] = true
	}
	// 50 draws from 1.8*10^9 values: a repeat has a probability of about
	// 50^2/2 / 1.8e9 = 7e-7.
	assert.Len(t, starts, seconds, "each second starts at its own random point")
}

func TestNewRefNoGeneratorErrors(t *testing.T) {
	t.Parallel()
	at := func(t time.Time) func() time.Time { return func() time.Time { return t } }
	tests := []struct {
		name string
		cfg  RefNoConfig
		want string
	}{
		{name: "negative instance", cfg: RefNoConfig{Instance: -1}, want: "RefNoConfig.Instance must"},
		{name: "instance of a fleet of one", cfg: RefNoConfig{Instance: 1}, want: "RefNoConfig.Instance must"},
		{name: "instance equal to instances", cfg: RefNoConfig{Instance: 4, Instances: 4}, want: "RefNoConfig.Instance must"},
		{name: "negative instances", cfg: RefNoConfig{Instances: -1}, want: "RefNoConfig.Instances must"},
		{name: "too many instances", cfg: RefNoConfig{Instances: MaxInstances + 1}, want: "RefNoConfig.Instances must"},
		{name: "clock before 1970", cfg: RefNoConfig{Now: at(time.Unix(-1, 0))}, want: "RefNoConfig.Now reads 1969-12-31T23:59:59Z"},
		{name: "clock at the zero time", cfg: RefNoConfig{Now: at(time.Time{})}, want: "RefNoConfig.Now reads"},
		{name: "clock past 2286", cfg: RefNoConfig{Now: at(time.Unix(refSecMax, 0))}, want: "RefNoConfig.Now reads 2286"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g, err := NewRefNoGenerator(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, g)
			assert.Contains(t, err.Error(), "ssotoken: "+tt.want)
		})
	}
	for _, cfg := range []RefNoConfig{
		{Instance: MaxInstances - 1, Instances: MaxInstances},
		{Instance: 0, Instances: 0},
		{Wide: true, Instance: 99, Instances: 100},
		{Now: at(time.Unix(refSecMax-1, 0))},
		{Now: at(time.Unix(0, 0))},
	} {
		_, err := NewRefNoGenerator(cfg)
		assert.NoError(t, err, "%+v", cfg)
	}
}

// TestRefNoClockPastRange: a clock that jumps past the 10-digit seconds
// fails the Next, rather than make an 11-digit second.
func TestRefNoClockPastRange(t *testing.T) {
	t.Parallel()
	g, clock := newTestGenerator(t, RefNoConfig{}, time.Unix(refSecMax-1, 0))
	refnoNext(t, g)
	clock.Set(time.Unix(refSecMax, 0))
	_, _, err := g.Next(refnoCtx(t))
	assert.ErrorIs(t, err, ErrUpstream)
	assert.Equal(t, CodeInternal, CodeOf(err))
}

func TestValidRefNo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "API document's sample, XX and all", in: "173736XX8685878", want: true},
		{name: "15 digits", in: "173736298685878", want: true},
		{name: "16 digits", in: "1737362986858781", want: true},
		{name: "17 digits", in: "17373629868587812", want: true},
		{name: "18 digits", in: "173736298685878123", want: true},
		{name: "19 digits", in: "1737362986858781234", want: true},
		{name: "20 digits", in: "17373629868587812345", want: true},
		{name: "all zeros", in: "00000000000000000000", want: true},
		{name: "all nines", in: "99999999999999999999", want: true},
		{name: "upper-case letters only", in: "ABCDEFGHIJKLMNOPQRSZ", want: true},
		{name: "generated", in: func() string {
			g, _ := newTestGenerator(t, RefNoConfig{}, refnoSeedTime)
			ref, _ := refnoNext(t, g)
			return ref
		}(), want: true},
		{name: "generated wide", in: func() string {
			g, _ := newTestGenerator(t, RefNoConfig{Wide: true}, refnoSeedTime)
			ref, _ := refnoNext(t, g)
			return ref
		}(), want: true},

		{name: "empty", in: "", want: false},
		{name: "14 digits", in: "17373629868587", want: false},
		{name: "14 characters with XX", in: "173736XX868587", want: false},
		{name: "21 digits", in: "173736298685878123456", want: false},
		{name: "lower-case letters", in: "173736xx8685878", want: false},
		{name: "lower-case letter", in: "1737362986858781234a", want: false},
		{name: "letter after Z", in: "173736[[8685878", want: false},
		{name: "letter before A", in: "173736@@8685878", want: false},
		{name: "leading plus", in: "+1737362986858781234", want: false},
		{name: "leading minus", in: "-1737362986858781234", want: false},
		{name: "leading space", in: " 1737362986858781234", want: false},
		{name: "trailing newline", in: "1737362986858781234\n", want: false},
		{name: "NUL", in: "17373629868587\x0081234", want: false},
		{name: "decimal point", in: "1737362986.858781234", want: false},
		{name: "arabic-indic digit (16 bytes)", in: "17373629868587\u0663", want: false},
		{name: "fullwidth digit (16 bytes)", in: "1737362986858\uff11", want: false},
		{name: "fullwidth capital (17 bytes)", in: "17373629868587\uff21", want: false},
		{name: "Kelvin sign (17 bytes)", in: "17373629868587\u212a", want: false},
		{name: "devanagari digits only", in: "\u0967\u0968\u0969\u096a\u096b\u096c", want: false},
		{name: "invalid UTF-8", in: "1737362986858781\xff\xfe", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, ValidRefNo(tt.in), "ValidRefNo(%q)", tt.in)
		})
	}
}

// refnoSink keeps the benchmarks' results alive, so that the string each
// Next returns is really made.
var refnoSink atomic.Pointer[string]

// benchGenerator returns a generator for cfg whose clock stands still and
// whose waits move it on: a benchmark draws more than an instance may in a
// real second, so it measures the work of a Next, not the cap.
func benchGenerator(b *testing.B, cfg RefNoConfig) *RefNoGenerator {
	g, _ := newTestGenerator(b, cfg, refnoSeedTime)
	return g
}

// BenchmarkRefNoNext draws 15-digit references on the fake clock.
func BenchmarkRefNoNext(b *testing.B) {
	g := benchGenerator(b, RefNoConfig{})
	ctx := context.Background()
	var ref string
	b.ReportAllocs()
	for b.Loop() {
		ref, _, _ = g.Next(ctx)
	}
	refnoSink.Store(&ref)
}

func BenchmarkRefNoNextParallel(b *testing.B) {
	g := benchGenerator(b, RefNoConfig{})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ref string
		for pb.Next() {
			ref, _, _ = g.Next(ctx)
		}
		refnoSink.Store(&ref)
	})
}

// BenchmarkRefNoNextWide draws 20-digit references on the real clock,
// which no benchmark outruns (10^9 numbers a second and more); it is the
// RefNoNext of earlier versions.
func BenchmarkRefNoNextWide(b *testing.B) {
	clock := newTestClock(time.Now().Add(-time.Second))
	g, err := NewRefNoGenerator(RefNoConfig{Wide: true, Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	g.now = nil // time.Now, its start-up second over
	ctx := context.Background()
	var ref string
	b.ReportAllocs()
	for b.Loop() {
		ref, _, _ = g.Next(ctx)
	}
	refnoSink.Store(&ref)
}

// TestRefNoClockFarBehind: when the clock steps back further than a wait
// is worth and the last second used is exhausted, Next fails at once
// (ErrUpstream) instead of holding requests for the length of the step;
// it issues again once the clock has caught up. A request whose deadline
// comes before the next second fails at once too.
func TestRefNoClockFarBehind(t *testing.T) {
	t.Parallel()
	t0 := refnoSeedTime
	g, clock := newTestGenerator(t, RefNoConfig{Instance: 49_999, Instances: 50_000}, t0)
	for range 2 {
		refnoNext(t, g) // the two numbers of t0's second
	}
	clock.Set(t0.Add(-time.Hour))
	_, _, err := g.Next(refnoCtx(t))
	require.ErrorIs(t, err, ErrUpstream)
	assert.ErrorIs(t, err, errClockBehind)
	assert.Zero(t, clock.slept.Load(), "no wait")

	clock.Set(t0.Add(time.Second))
	ref, _ := refnoNext(t, g)
	assert.Equal(t, strconv.FormatInt(t0.Unix()+1, 10), ref[:10])

	refnoNext(t, g)                                                                // the second number of t0+1
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond) // the wait is about a second
	defer cancel()
	_, _, err = g.Next(ctx)
	assert.ErrorIs(t, err, ErrTimeout, "the wait would outlast the request")
	assert.Zero(t, clock.slept.Load(), "no wait")
}

// TestRefNoStaleReading: a goroutine held up between reading the clock and
// taking its number (descheduled on a loaded machine) while others move the
// generator seconds on must not take its old reading for a clock that
// stepped back. The generator reads the clock under its lock, so here the
// held-up reading holds the others back instead of going stale.
func TestRefNoStaleReading(t *testing.T) {
	t.Parallel()
	clock := newTestClock(refnoSeedTime.Add(-time.Second))
	var armed atomic.Bool
	inNow, othersDone := make(chan struct{}), make(chan struct{})
	g, err := NewRefNoGenerator(RefNoConfig{Instance: 0, Instances: MaxInstances, Now: func() time.Time {
		now := clock.Now()
		if armed.CompareAndSwap(true, false) {
			close(inNow)
			select { // held up until the others are done, or long enough for them to be
			case <-othersDone:
			case <-time.After(200 * time.Millisecond):
			}
		}
		return now
	}})
	require.NoError(t, err)
	g.sleep = clock.Sleep
	clock.Set(refnoSeedTime)
	ctx := refnoCtx(t)

	armed.Store(true)
	held := make(chan error, 1)
	go func() {
		_, _, err := g.Next(ctx)
		held <- err
	}()
	<-inNow
	go func() {
		defer close(othersDone)
		for range 5 { // one number a second: five seconds on
			if _, _, err := g.Next(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	require.NoError(t, <-held)
	<-othersDone
}
