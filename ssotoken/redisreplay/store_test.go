package redisreplay_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// fakeRedis is a client that runs SET ... PX ... NX and GET on a map,
// records every command, and can be made to fail. Only Process is
// implemented: it is all a Store calls.
type fakeRedis struct {
	redis.UniversalClient // nil: any other method panics

	mu   sync.Mutex
	keys map[string]string
	cmds [][]any
	// fail, when set, is the error of every command.
	fail error
	// lostAnswer, when set, applies a SET and then answers it as the
	// client's retry would see it: the key exists.
	lostAnswer bool
}

func newFakeRedis() *fakeRedis { return &fakeRedis{keys: make(map[string]string)} }

func (f *fakeRedis) Process(_ context.Context, cmd redis.Cmder) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	args := cmd.Args()
	f.cmds = append(f.cmds, args)
	if f.fail != nil {
		cmd.SetErr(f.fail)
		return f.fail
	}
	key := args[1].(string)
	switch c := cmd.(type) {
	case *redis.StatusCmd: // set key value px ms nx
		if _, ok := f.keys[key]; ok {
			c.SetErr(redis.Nil)
			return redis.Nil
		}
		f.keys[key] = args[2].(string)
		if f.lostAnswer {
			c.SetErr(redis.Nil)
			return redis.Nil
		}
		c.SetVal("OK")
	case *redis.StringCmd: // get key
		v, ok := f.keys[key]
		if !ok {
			c.SetErr(redis.Nil)
			return redis.Nil
		}
		c.SetVal(v)
	}
	return cmd.Err()
}

func (f *fakeRedis) commands() [][]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]any(nil), f.cmds...)
}

var t0 = time.Date(2025, 1, 20, 8, 49, 46, 0, time.UTC)

func TestNewValidatesConfig(t *testing.T) {
	noCtxTimeout := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer noCtxTimeout.Close()
	noCtxTimeoutCluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer noCtxTimeoutCluster.Close()
	ok := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer ok.Close()

	for _, tc := range []struct {
		name    string
		cfg     redisreplay.Config
		wantErr string
	}{
		{"no client", redisreplay.Config{}, "Client is required"},
		{"client ignores context deadlines", redisreplay.Config{Client: noCtxTimeout}, "ContextTimeoutEnabled"},
		{"cluster client ignores context deadlines", redisreplay.Config{Client: noCtxTimeoutCluster}, "ContextTimeoutEnabled"},
		{"negative skew", redisreplay.Config{Client: ok, MaxClockSkew: -time.Second}, "MaxClockSkew"},
		{"skew over a day", redisreplay.Config{Client: ok, MaxClockSkew: 25 * time.Hour}, "MaxClockSkew"},
		{"skew a nanosecond over a day", redisreplay.Config{Client: ok, MaxClockSkew: 24*time.Hour + 1}, "MaxClockSkew"},
		{"skew a nanosecond below zero", redisreplay.Config{Client: ok, MaxClockSkew: -1}, "MaxClockSkew"},
		{"skew of exactly a day", redisreplay.Config{Client: ok, MaxClockSkew: 24 * time.Hour}, ""},
		{"minimal", redisreplay.Config{Client: ok}, ""},
		{"everything", redisreplay.Config{Client: ok, Prefix: "p:", MaxClockSkew: time.Minute, InsecureFailOpen: true, OnFailOpen: func(context.Context, error) {}, Now: time.Now}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redisreplay.New(tc.cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.NotNil(t, s)
				return
			}
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.True(t, strings.HasPrefix(err.Error(), "redisreplay: "), err.Error())
		})
	}
}

// TestRedeemCommand checks the one command of a first redemption: SET
// with the prefixed key, NX, and PX of the remaining lifetime plus the
// clock skew allowance, rounded up to the millisecond.
func TestRedeemCommand(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prefix    string
		skew      time.Duration
		expiresAt time.Time
		wantKey   string
		wantPX    string
	}{
		{"default prefix and skew", "", 0, t0.Add(time.Hour), "ssokit:redeemed:ID1", "3900000"},
		{"own prefix and skew", "lob01:", time.Minute, t0.Add(10 * time.Second), "lob01:ID1", "70000"},
		{"rounded up to the millisecond", "", time.Millisecond, t0.Add(1500 * time.Microsecond), "ssokit:redeemed:ID1", "3"},
		{"expired by this clock: remembered for the skew", "", 0, t0.Add(-time.Minute), "ssokit:redeemed:ID1", "300000"},
		{"expires exactly now", "", time.Second, t0, "ssokit:redeemed:ID1", "1000"},
		{"zero expiry", "", 0, time.Time{}, "ssokit:redeemed:ID1", "300000"},
		{"far future: capped, no overflow", "", 0, t0.Add(1 << 62), "ssokit:redeemed:ID1", "3153600000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRedis()
			s := newStore(t, redisreplay.Config{Client: f, Prefix: tc.prefix, MaxClockSkew: tc.skew, Now: func() time.Time { return t0 }})
			first, err := s.Redeem(context.Background(), "ID1", tc.expiresAt)
			require.NoError(t, err)
			assert.True(t, first)
			cmds := f.commands()
			require.Len(t, cmds, 1, "a first redemption is one command")
			c := cmds[0]
			require.Len(t, c, 6)
			assert.Equal(t, []any{"set", tc.wantKey}, c[:2])
			assert.NotEmpty(t, c[2], "value")
			assert.Equal(t, []any{"px", tc.wantPX, "nx"}, c[3:])
		})
	}
}

func TestRedeemOnce(t *testing.T) {
	f := newFakeRedis()
	s := newStore(t, redisreplay.Config{Client: f})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	first, err := s.Redeem(ctx, "A", exp)
	require.NoError(t, err)
	assert.True(t, first)
	for range 3 {
		first, err = s.Redeem(ctx, "A", exp)
		require.NoError(t, err)
		assert.False(t, first, "a second redemption")
	}
	first, err = s.Redeem(ctx, "B", exp)
	require.NoError(t, err)
	assert.True(t, first, "another id")
}

// TestRedeemRetriedSetIsNotAReplay: go-redis retries a command whose
// answer was lost (EOF, reset) after Redis applied it; the retry then
// finds the key. The Store must see its own value there and accept.
func TestRedeemRetriedSetIsNotAReplay(t *testing.T) {
	f := newFakeRedis()
	f.lostAnswer = true
	s := newStore(t, redisreplay.Config{Client: f})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	first, err := s.Redeem(ctx, "A", exp)
	require.NoError(t, err)
	assert.True(t, first, "the store's own retried SET")

	first, err = s.Redeem(ctx, "A", exp)
	require.NoError(t, err)
	assert.False(t, first, "another redemption of the same id")
}

// TestRedeemFailsClosed: whatever Redis fails with, the token is refused
// with ErrUpstream (502), a generic message and the cause for the logs.
func TestRedeemFailsClosed(t *testing.T) {
	for _, cause := range []error{
		errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"),
		redis.ErrClosed,
		errors.New("OOM command not allowed when used memory > 'maxmemory'."),
	} {
		t.Run(cause.Error(), func(t *testing.T) {
			f := newFakeRedis()
			f.fail = cause
			s := newStore(t, redisreplay.Config{Client: f})
			first, err := s.Redeem(context.Background(), "ID-SECRET-LOOKING", time.Now().Add(time.Hour))
			assert.False(t, first)
			require.Error(t, err)
			assert.ErrorIs(t, err, ssotoken.ErrUpstream)
			assert.ErrorIs(t, err, cause, "the cause is kept for the logs")
			assert.Equal(t, redisreplay.CodeUnavailable, ssotoken.CodeOf(err))
			assert.Equal(t, http.StatusBadGateway, httpadapter.StatusFor(err))
			assert.NotContains(t, ssotoken.MessageOf(err), "ID-SECRET-LOOKING")
			assert.NotContains(t, err.Error(), "ID-SECRET-LOOKING")
		})
	}
}

func TestRedeemInsecureFailOpen(t *testing.T) {
	cause := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	f := newFakeRedis()
	f.fail = cause
	var mu sync.Mutex
	var seen []error
	s := newStore(t, redisreplay.Config{Client: f, InsecureFailOpen: true, OnFailOpen: func(_ context.Context, err error) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, err)
	}})

	first, err := s.Redeem(context.Background(), "A", time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, first, "accepted unchecked")
	first, err = s.Redeem(context.Background(), "A", time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, first, "a replay is accepted too while Redis is down: that is the danger")
	assert.Equal(t, []error{cause, cause}, seen, "each fail-open is reported")

	// A done context is the caller's timeout, never a reason to accept.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	first, err = s.Redeem(ctx, "B", time.Now().Add(time.Hour))
	assert.False(t, first)
	assert.ErrorIs(t, err, ssotoken.ErrTimeout)
	assert.Len(t, seen, 2)
}

func TestRedeemContextDone(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	for _, tc := range []struct {
		name     string
		ctx      context.Context
		failOpen bool
		wantCode string
	}{
		{"canceled", canceled, false, ssotoken.CodeCanceled},
		{"deadline passed", expired, false, ssotoken.CodeDeadlineExceeded},
		{"deadline passed, fail open", expired, true, ssotoken.CodeDeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRedis()
			s := newStore(t, redisreplay.Config{Client: f, InsecureFailOpen: tc.failOpen})
			first, err := s.Redeem(tc.ctx, "A", time.Now().Add(time.Hour))
			assert.False(t, first)
			assert.ErrorIs(t, err, ssotoken.ErrTimeout)
			assert.Equal(t, tc.wantCode, ssotoken.CodeOf(err))
			assert.Equal(t, http.StatusGatewayTimeout, httpadapter.StatusFor(err))
			assert.Empty(t, f.commands(), "nothing sent for a done context")
		})
	}
}

// TestRedeemSocketDeadlineIsATimeout: with ContextTimeoutEnabled the
// socket deadline is ctx's and may fire a hair before ctx's own timer;
// the failure is still the caller's timeout (504), not Redis's (502),
// and never a reason to fail open.
func TestRedeemSocketDeadlineIsATimeout(t *testing.T) {
	f := newFakeRedis()
	f.fail = errors.New("read tcp 127.0.0.1:1234->127.0.0.1:6379: i/o timeout")
	s := newStore(t, redisreplay.Config{Client: f, InsecureFailOpen: true, OnFailOpen: func(context.Context, error) {
		t.Error("failed open on the caller's deadline")
	}})
	ctx := deadlineOnlyCtx{Context: context.Background(), deadline: time.Now().Add(-time.Millisecond)}
	first, err := s.Redeem(ctx, "A", time.Now().Add(time.Hour))
	assert.False(t, first)
	assert.ErrorIs(t, err, ssotoken.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, ssotoken.CodeDeadlineExceeded, ssotoken.CodeOf(err))
}

// deadlineOnlyCtx has a deadline that has passed but whose Err is still
// nil, as a context is for a moment after its deadline.
type deadlineOnlyCtx struct {
	context.Context
	deadline time.Time
}

func (c deadlineOnlyCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// TestVerifierRedeemsOnlyGenuineTokens: the Verifier writes to Redis only
// after the signature and every claim checked out, so forged, expired or
// misdirected tokens cost Redis nothing; and a store failure reaches the
// caller as this package's code, 502.
func TestVerifierRedeemsOnlyGenuineTokens(t *testing.T) {
	ring := testRing(t)
	tokens, _ := issueTokens(t, ring, 1)
	good := tokens[0]

	otherKey, err := ssotoken.NewHMACKey("", []byte("another secret of 32 bytes or more!!"))
	require.NoError(t, err)
	otherRing, err := ssotoken.NewKeyring(otherKey)
	require.NoError(t, err)
	forged, _ := issueTokens(t, otherRing, 1)

	f := newFakeRedis()
	v := newVerifier(t, ring, newStore(t, redisreplay.Config{Client: f}))
	ctx := context.Background()

	_, err = v.Verify(ctx, forged[0])
	assert.Equal(t, ssotoken.CodeBadSignature, ssotoken.CodeOf(err))
	_, err = v.Verify(ctx, good[:len(good)-4]+"AAAA")
	assert.ErrorIs(t, err, ssotoken.ErrUnauthorized, "tampered signature")

	lob02, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "02", Replay: newStore(t, redisreplay.Config{Client: f})})
	require.NoError(t, err)
	_, err = lob02.Verify(ctx, good)
	assert.Equal(t, ssotoken.CodeWrongLOB, ssotoken.CodeOf(err))

	late, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Replay: newStore(t, redisreplay.Config{Client: f}),
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
	require.NoError(t, err)
	_, err = late.Verify(ctx, good)
	assert.Equal(t, ssotoken.CodeTokenExpired, ssotoken.CodeOf(err))

	assert.Empty(t, f.commands(), "no rejected token reached Redis")

	_, err = v.Verify(ctx, good)
	require.NoError(t, err)
	_, err = v.Verify(ctx, good)
	assert.Equal(t, ssotoken.CodeTokenReplayed, ssotoken.CodeOf(err))

	f.mu.Lock()
	f.fail = errors.New("connection refused")
	f.mu.Unlock()
	fresh, _ := issueTokens(t, ring, 1)
	_, err = v.Verify(ctx, fresh[0])
	assert.Equal(t, redisreplay.CodeUnavailable, ssotoken.CodeOf(err))
	assert.Equal(t, http.StatusBadGateway, httpadapter.StatusFor(err))
}

// TestVerifierRedeemsSeedShapedToken: through the Verifier, a token of the
// API document's shape (no jti) is redeemed under DefaultPrefix and its
// RedemptionID: accepted once, then refused.
func TestVerifierRedeemsSeedShapedToken(t *testing.T) {
	ring := testRing(t)
	tokens, refs := issueTokens(t, ring, 1)
	tok := tokens[0]
	f := newFakeRedis()
	v := newVerifier(t, ring, newStore(t, redisreplay.Config{Client: f}))
	ctx := context.Background()

	c, err := v.Verify(ctx, tok)
	require.NoError(t, err)
	assert.Empty(t, c.ID, "no jti")
	_, err = v.Verify(ctx, tok)
	assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	assert.Equal(t, ssotoken.CodeTokenReplayed, ssotoken.CodeOf(err))

	cmds := f.commands()
	require.NotEmpty(t, cmds)
	key := "ssokit:redeemed:" + ssotoken.RedemptionID(tok)
	for _, c := range cmds {
		assert.Equal(t, key, c[1], "the key is the prefix and the RedemptionID")
	}
	assert.NotContains(t, key, refs[0], "not the TokenRefNo")
	assert.Equal(t, redisreplay.DefaultPrefix, "ssokit:redeemed:")
}

// TestRedemptionKeyOfTheSample pins the key of the package documentation's
// example: the API document's sample TokenNo.
func TestRedemptionKeyOfTheSample(t *testing.T) {
	const sample = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJDSUlObyI6IjEwMDAxMDA0IiwiTE9CSWQiOiIwMSIsIkZ1bmN0aW9uYWxpdHkiOiJEIiwiRGF0ZSI6IjIwMjUtMDEtMjBUMDg6NDk6NDYuNzU2WiIsImlhdCI6MTczNzM2Mjk4NiwiZXhwIjoxNzM3MzY2NTg2fQ.19jRSvaXzRBo0CUFx-Fv20Sl_k"
	f := newFakeRedis()
	s := newStore(t, redisreplay.Config{Client: f})
	first, err := s.Redeem(context.Background(), ssotoken.RedemptionID(sample), time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, first)
	assert.Equal(t, "ssokit:redeemed:BCZ9KCqXk39m_JfPVIfxZtu9sC5V5_Tao01gKrGQQk4", f.commands()[0][1])
}

// TestPingUnreachable: a Store whose Redis does not answer is not ready;
// Ping says so with CodeUnavailable (ErrUpstream), never a panic or a hang.
func TestPingUnreachable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: time.Second})
	defer client.Close()
	s, err := redisreplay.New(redisreplay.Config{Client: client})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = s.Ping(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)
	assert.Equal(t, redisreplay.CodeUnavailable, ssotoken.CodeOf(err))
}
