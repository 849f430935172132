package redisreplay_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// The tests in this file need a real Redis at SSOKIT_REDIS_ADDR.

func TestRedisRedeemOnceWithTTL(t *testing.T) {
	addr := redisAddr(t)
	client := newClient(t, addr)
	prefix := testPrefix(t, addr)
	now := time.Now()
	s := newStore(t, redisreplay.Config{Client: client, Prefix: prefix, MaxClockSkew: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()

	first, err := s.Redeem(ctx, "live", now.Add(10*time.Minute))
	require.NoError(t, err)
	assert.True(t, first)
	first, err = s.Redeem(ctx, "live", now.Add(10*time.Minute))
	require.NoError(t, err)
	assert.False(t, first, "second redemption")

	first, err = s.Redeem(ctx, "expired-here", now.Add(-time.Hour))
	require.NoError(t, err)
	assert.True(t, first)
	first, err = s.Redeem(ctx, "expired-here", now.Add(-time.Hour))
	require.NoError(t, err)
	assert.False(t, first, "an id expired by the store's clock is still remembered")

	// The TTLs, read rather than waited out.
	ttl, err := client.PTTL(ctx, prefix+"live").Result()
	require.NoError(t, err)
	assert.InDelta(t, (11 * time.Minute).Seconds(), ttl.Seconds(), 5, "remaining lifetime plus skew")
	ttl, err = client.PTTL(ctx, prefix+"expired-here").Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Minute.Seconds(), ttl.Seconds(), 5, "the skew allowance")

	// Once Redis has let the key go, the id is free again (a token that
	// old is refused by the Verifier's own expiry check).
	short := newStore(t, redisreplay.Config{Client: client, Prefix: prefix, MaxClockSkew: time.Millisecond})
	first, err = short.Redeem(ctx, "brief", time.Time{})
	require.NoError(t, err)
	assert.True(t, first)
	require.Eventually(t, func() bool {
		n, err := client.Exists(ctx, prefix+"brief").Result()
		return err == nil && n == 0
	}, 5*time.Second, 5*time.Millisecond, "a 1 ms key expires")
	first, err = short.Redeem(ctx, "brief", time.Time{})
	require.NoError(t, err)
	assert.True(t, first)
}

// TestRedisMultiInstance: four verifiers, separate
// clients of one Redis, redeem the same 1,000 tokens in parallel; each
// token is accepted exactly once, every other attempt is a replay.
func TestRedisMultiInstance(t *testing.T) {
	const instances, tokensN, workers = 4, 1000, 4
	addr := redisAddr(t)
	prefix := testPrefix(t, addr)
	ring := testRing(t)
	tokens, refs := issueTokens(t, ring, tokensN)

	verifiers := make([]*ssotoken.Verifier, instances)
	for i := range verifiers {
		verifiers[i] = newVerifier(t, ring, newStore(t, redisreplay.Config{Client: newClient(t, addr), Prefix: prefix}))
	}

	accepted := make([]atomic.Int32, tokensN)
	var replayed atomic.Int64
	var unexpected errorLog
	var start, wg sync.WaitGroup
	start.Add(1)
	for _, v := range verifiers {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				// Every instance walks the tokens in the same order, so
				// that they race for each one.
				for j := w; j < tokensN; j += workers {
					c, err := v.Verify(context.Background(), tokens[j])
					switch {
					case err == nil:
						accepted[j].Add(1)
						if !strings.HasPrefix(refs[j], strconv.FormatInt(c.IssuedAt, 10)) || c.ID != "" {
							unexpected.add(errors.New("claims of another token"))
						}
					case ssotoken.CodeOf(err) == ssotoken.CodeTokenReplayed:
						replayed.Add(1)
					default:
						unexpected.add(err)
					}
				}
			}()
		}
	}
	start.Done()
	wg.Wait()

	unexpected.check(t)
	for j := range accepted {
		if n := accepted[j].Load(); n != 1 {
			t.Errorf("token %d (TokenRefNo %s) accepted %d times", j, refs[j], n)
		}
	}
	assert.Equal(t, int64((instances-1)*tokensN), replayed.Load(), "every other attempt is a replay")
}

// TestRedisOutageMidRun takes Redis away from four instances in the
// middle of their redemptions, and gives it back: while it is gone,
// redemptions fail closed (502) and nothing is accepted twice; once it is
// back, they resume, and what was redeemed before is still redeemed.
func TestRedisOutageMidRun(t *testing.T) {
	const instances, tokensN, workers = 4, 1000, 2
	const cutAfter = 300 // accepted tokens before Redis goes away
	const failBudget = 4 // failed attempts per worker during the outage (~0.5 s each)
	addr := redisAddr(t)
	prefix := testPrefix(t, addr)
	p := newProxy(t, addr) // registered first: closed after the clients
	ring := testRing(t)
	tokens, refs := issueTokens(t, ring, tokensN)

	verifiers := make([]*ssotoken.Verifier, instances)
	pings := make([]func(context.Context) error, instances)
	for i := range verifiers {
		c := newClient(t, p.Addr())
		pings[i] = func(ctx context.Context) error { return c.Ping(ctx).Err() }
		verifiers[i] = newVerifier(t, ring, newStore(t, redisreplay.Config{Client: c, Prefix: prefix}))
	}

	accepted := make([]atomic.Int32, tokensN)
	failedInOutage := make([]atomic.Bool, tokensN)
	var total atomic.Int64
	var cutOnce sync.Once
	var outage atomic.Bool
	var unexpected errorLog

	// run has every worker of every instance walk the tokens in the same
	// order. With outageExpected, a redemption may fail with 502, and each
	// worker stops after failBudget such failures.
	run := func(outageExpected bool) {
		var wg sync.WaitGroup
		for _, v := range verifiers {
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					failures := 0
					for j := w; j < tokensN && failures < failBudget; j += workers {
						_, err := v.Verify(context.Background(), tokens[j])
						switch {
						case err == nil:
							accepted[j].Add(1)
							if total.Add(1) == cutAfter {
								cutOnce.Do(func() { p.set(cut); outage.Store(true) })
							}
						case ssotoken.CodeOf(err) == ssotoken.CodeTokenReplayed:
						case outageExpected && ssotoken.CodeOf(err) == redisreplay.CodeUnavailable:
							failures++
							failedInOutage[j].Store(true)
						default:
							unexpected.add(err)
						}
					}
				}()
			}
		}
		wg.Wait()
	}

	// Redemptions run in parallel; Redis goes away after cutAfter of them.
	run(true)
	require.True(t, outage.Load(), "Redis was cut mid-run")
	unexpected.check(t)

	// While Redis is gone every instance refuses every token, old or new,
	// with 502; nothing is accepted.
	ctx := context.Background()
	var wg sync.WaitGroup
	for i, v := range verifiers {
		for _, j := range []int{0, tokensN - 1 - i} {
			failedInOutage[j].Store(true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := v.Verify(ctx, tokens[j])
				if assert.Error(t, err, "instance %d, token %d, Redis down", i, j) {
					assert.ErrorIs(t, err, ssotoken.ErrUpstream)
					assert.Equal(t, redisreplay.CodeUnavailable, ssotoken.CodeOf(err))
					assert.Equal(t, http.StatusBadGateway, httpadapter.StatusFor(err))
				}
			}()
		}
	}
	wg.Wait()

	// Redis is back: once each instance reaches it again, redemptions
	// resume.
	p.set(forward)
	for i, ping := range pings {
		require.Eventually(t, func() bool { return ping(ctx) == nil }, 10*time.Second, 10*time.Millisecond, "instance %d reaches Redis again", i)
	}
	run(false)
	unexpected.check(t)

	burned := 0
	for j := range accepted {
		switch n := accepted[j].Load(); {
		case n > 1:
			t.Errorf("token %d (TokenRefNo %s) accepted %d times", j, refs[j], n)
		case n == 0 && !failedInOutage[j].Load():
			t.Errorf("token %d (TokenRefNo %s) never accepted, and its redemption never failed", j, refs[j])
		case n == 0:
			// Its SET reached Redis but the answer was lost in the cut:
			// the token is used, and its holder got a 502.
			burned++
		}
	}
	assert.LessOrEqual(t, burned, instances*workers, "at most one redemption in flight per worker was lost")
	assert.GreaterOrEqual(t, total.Load(), int64(tokensN-instances*workers))
	t.Logf("accepted %d of %d tokens; %d lost in flight at the cut", total.Load(), tokensN, burned)
}

// TestRedisDeadlineBoundsTheWait: a Redis that accepts connections but
// never answers holds a redemption only until the caller's deadline (504),
// not for the client's 5 s read timeout; fail-open or not.
func TestRedisDeadlineBoundsTheWait(t *testing.T) {
	addr := redisAddr(t)
	p := newProxy(t, addr)
	p.set(hold)
	client := newClient(t, p.Addr())

	for _, failOpen := range []bool{false, true} {
		s := newStore(t, redisreplay.Config{Client: client, InsecureFailOpen: failOpen, OnFailOpen: func(context.Context, error) {
			t.Error("failed open on the caller's deadline")
		}})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		began := time.Now()
		first, err := s.Redeem(ctx, "held", time.Now().Add(time.Hour))
		took := time.Since(began)
		cancel()
		assert.False(t, first)
		assert.ErrorIs(t, err, ssotoken.ErrTimeout, "fail open %v", failOpen)
		assert.Equal(t, http.StatusGatewayTimeout, httpadapter.StatusFor(err))
		assert.Less(t, took, 2*time.Second, "bounded by the 200 ms deadline, not the read timeout")
	}
}

func TestRedisInsecureFailOpen(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t, addr)
	p := newProxy(t, addr)
	client := newClient(t, p.Addr())
	var failOpens atomic.Int32
	s := newStore(t, redisreplay.Config{Client: client, Prefix: prefix, InsecureFailOpen: true,
		OnFailOpen: func(context.Context, error) { failOpens.Add(1) }})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	first, err := s.Redeem(ctx, "a", exp)
	require.NoError(t, err)
	require.True(t, first)

	p.set(cut)
	first, err = s.Redeem(ctx, "a", exp)
	require.NoError(t, err)
	assert.True(t, first, "Redis down: even a replay is accepted, and reported")
	assert.Equal(t, int32(1), failOpens.Load())

	p.set(forward)
	require.Eventually(t, func() bool { return client.Ping(ctx).Err() == nil }, 10*time.Second, 10*time.Millisecond)
	first, err = s.Redeem(ctx, "a", exp)
	require.NoError(t, err)
	assert.False(t, first, "Redis back: the replay is caught again")
	assert.Equal(t, int32(1), failOpens.Load())
}

// TestRedisThroughHTTP is the linked LOB's landing endpoint: 200 once,
// 401 on replay, 502 while Redis is down, and 200 again once it is back.
func TestRedisThroughHTTP(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t, addr)
	p := newProxy(t, addr)
	ring := testRing(t)
	tokens, _ := issueTokens(t, ring, 3)
	client := newClient(t, p.Addr())
	v := newVerifier(t, ring, newStore(t, redisreplay.Config{Client: client, Prefix: prefix}))
	h := httpadapter.RequireSSOToken(v, httpadapter.SSOTokenOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	land := func(token string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/landing", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body httpadapter.ErrorResponse
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body.ErrorCode
	}

	code, _ := land(tokens[0])
	assert.Equal(t, http.StatusOK, code)
	code, errCode := land(tokens[0])
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, ssotoken.CodeTokenReplayed, errCode)

	p.set(cut)
	code, errCode = land(tokens[1])
	assert.Equal(t, http.StatusBadGateway, code)
	assert.Equal(t, redisreplay.CodeUnavailable, errCode)
	code, _ = land(tokens[0])
	assert.Equal(t, http.StatusBadGateway, code, "not even a replay is answered while Redis is down")

	p.set(forward)
	require.Eventually(t, func() bool { return client.Ping(context.Background()).Err() == nil }, 10*time.Second, 10*time.Millisecond)
	code, _ = land(tokens[2])
	assert.Equal(t, http.StatusOK, code)
	code, errCode = land(tokens[0])
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, ssotoken.CodeTokenReplayed, errCode)
}

// TestRedisSeedShapedToken: a token of the API document's shape, without
// jti, is accepted once and refused the second time, by any instance; its
// key is the prefix and its RedemptionID, never its TokenRefNo.
func TestRedisSeedShapedToken(t *testing.T) {
	addr := redisAddr(t)
	client := newClient(t, addr)
	prefix := testPrefix(t, addr)
	ring := testRing(t)
	tokens, refs := issueTokens(t, ring, 1)
	tok := tokens[0]
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	require.NoError(t, err)
	require.NotContains(t, string(payload), `"jti"`)

	a := newVerifier(t, ring, newStore(t, redisreplay.Config{Client: client, Prefix: prefix}))
	b := newVerifier(t, ring, newStore(t, redisreplay.Config{Client: newClient(t, addr), Prefix: prefix}))
	ctx := context.Background()

	c, err := a.Verify(ctx, tok)
	require.NoError(t, err)
	assert.Empty(t, c.ID)
	for _, v := range []*ssotoken.Verifier{a, b} {
		_, err = v.Verify(ctx, tok)
		assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
		assert.Equal(t, ssotoken.CodeTokenReplayed, ssotoken.CodeOf(err))
	}

	key := prefix + ssotoken.RedemptionID(tok)
	assert.Len(t, key, len(prefix)+ssotoken.RedemptionIDLen)
	keys, err := client.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.Equal(t, []string{key}, keys, "one key: the prefix and the RedemptionID")
	assert.NotContains(t, keys[0], refs[0])
	ttl, err := client.PTTL(ctx, key).Result()
	require.NoError(t, err)
	// exp is iat + 1 h; the verifier's leeway (30 s) and the store's skew
	// (5 min) are added.
	assert.InDelta(t, (time.Hour + 30*time.Second + 5*time.Minute).Seconds(), ttl.Seconds(), 5)
}

// TestRedisSameTokenRefNo: two instances that chose the same TokenRefNo
// (two issuers both numbered instance 0) issue two tokens, and each is
// accepted once on Redis.
func TestRedisSameTokenRefNo(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t, addr)
	ring := testRing(t)
	v := newVerifier(t, ring, newStore(t, redisreplay.Config{Client: newClient(t, addr), Prefix: prefix}))
	ctx := context.Background()

	// Two signers started together share their first second: the first
	// token of each is numbered 00000 in it (unless a second began between
	// the two: then try again).
	var ra, rb ssotoken.Response
	for range 10 {
		a, b := newSigner(t, ring), newSigner(t, ring)
		var err error
		ra, err = a.Issue(ctx, ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
		require.NoError(t, err)
		rb, err = b.Issue(ctx, ssotoken.Request{CIINo: "10001005", LOBId: "01", Functionality: "D"})
		require.NoError(t, err)
		if ra.TokenRefNo == rb.TokenRefNo {
			break
		}
	}
	require.Equal(t, ra.TokenRefNo, rb.TokenRefNo, "two signers started in one second")
	require.NotEqual(t, ra.TokenNo, rb.TokenNo)

	for _, tok := range []string{ra.TokenNo, rb.TokenNo} {
		_, err := v.Verify(ctx, tok)
		require.NoError(t, err, "a fresh token is accepted, whatever its TokenRefNo")
	}
	for _, tok := range []string{ra.TokenNo, rb.TokenNo} {
		_, err := v.Verify(ctx, tok)
		assert.Equal(t, ssotoken.CodeTokenReplayed, ssotoken.CodeOf(err))
	}
}

// errorLog collects the unexpected errors of many goroutines.
type errorLog struct {
	mu   sync.Mutex
	n    int
	errs []error
}

func (l *errorLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.errs) < 5 {
		l.errs = append(l.errs, err)
	}
}

func (l *errorLog) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		t.Errorf("unexpected error: %v", err)
	}
	if l.n > len(l.errs) {
		t.Errorf("and %d more", l.n-len(l.errs))
	}
	l.n, l.errs = 0, nil
}
