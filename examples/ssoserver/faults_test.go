package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/cognito/cognitotest"
)

// The fault tests run ssoserver in real mode against a Cognito stand-in
// in the test process (cognitotest), whose JWKS the test takes down,
// slows, bloats and rotates.

// fakePool is the user pool stand-in and the kid of a second key, which
// the JWKS does not publish until a test says so.
type fakePool struct {
	*cognitotest.Pool
	k1, k2 string
}

func newFakePool(t *testing.T) *fakePool {
	p := &fakePool{Pool: cognitotest.NewPool(t, cognitotest.ClientID("app"),
		cognitotest.Defaults(cognitotest.With("custom:ciino", "10001004")))}
	p.k1, p.k2 = p.KeyID(), p.AddKey()
	for _, kid := range []string{p.k1, p.k2} {
		credential(base64.RawURLEncoding.EncodeToString(p.PrivateKey(kid).N.Bytes())) // a JWKS body in a log would carry it
	}
	return p
}

// token is an access token of the pool, signed with kid.
func (p *fakePool) token(t *testing.T, kid string) string {
	return credential(p.AccessToken(t, cognitotest.SignWith(kid)))
}

// huge answers 50 MB of JWKS, unless the client stops reading first.
var huge = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	chunk := []byte(strings.Repeat(" ", 1<<20))
	_, _ = w.Write([]byte(`{"keys":[`))
	for range 50 {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
	_, _ = w.Write([]byte(`]}`))
})

// startReal starts ssoserver in real mode against the pool, with extra
// arguments; without the per-caller issuing limit unless extra has
// -issue-... flags, because the fault tests call for one user far more
// often than the limit allows.
func startReal(t *testing.T, p *fakePool, extra ...string) (*proc, string) {
	ssoserver, _ := binaries(t)
	if !slices.ContainsFunc(extra, func(a string) bool { return strings.HasPrefix(a, "-issue-") }) {
		extra = append(extra, "-insecure-no-issue-limit")
	}
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, append([]string{"-addr", "127.0.0.1:0", "-log-format", "json",
		"-cognito-issuer", p.Issuer(), "-cognito-jwks-url", p.JWKSURL(), "-cognito-client-id", "app", "-ciino-claim", "custom:ciino",
		"-lob-client", "cid:01",
		"-cookie-secret", "a cookie secret that is 32+ bytes long", "-api-secret", "an API secret that is 32+ bytes long!"}, extra...)...)
	return srv, waitListening(t, srv)
}

// generate calls GenerateSSOToken with tok and returns the status and
// ErrorCode, and how long the call took.
func generate(t *testing.T, base, tok string) (int, string, time.Duration) {
	r, err := http.NewRequest(http.MethodPost, base+"/v2/get_sso_token", strings.NewReader(`{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`))
	require.NoError(t, err)
	r.Header.Set("x-api-version", "1.0.0")
	r.Header.Set("x-lob-client-id", "cid")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	res, body := do(t, r)
	var env struct{ ErrorCode string }
	_ = json.Unmarshal(body, &env)
	return res.StatusCode, env.ErrorCode, time.Since(start)
}

// eventually polls f (bounded) until it reports true.
func eventually(t *testing.T, limit time.Duration, f func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if f() {
			return true
		}
		time.Sleep(200 * time.Millisecond) // polling a condition of another process
	}
	return f()
}

func TestFaultJWKSDownAtStart(t *testing.T) {
	pool := newFakePool(t)
	pool.Down()
	_, base := startReal(t, pool)
	tok := pool.token(t, pool.k1)

	status, code, _ := generate(t, base, tok)
	assert.Equal(t, http.StatusBadGateway, status, "502 while no key is known, not 401")
	assert.Equal(t, "jwks_unavailable", code)

	pool.Up()
	back := time.Now()
	ok := eventually(t, 15*time.Second, func() bool {
		status, _, _ := generate(t, base, tok)
		return status == http.StatusOK
	})
	assert.True(t, ok, "recovers by itself within 15 s of the JWKS answering")
	t.Logf("recovered %s after the JWKS came back", time.Since(back).Round(100*time.Millisecond))
}

func TestFaultJWKSDownAfterStart(t *testing.T) {
	pool := newFakePool(t)
	srv, base := startReal(t, pool)
	tok := pool.token(t, pool.k1)
	status, _, _ := generate(t, base, tok)
	require.Equal(t, http.StatusOK, status)

	pool.Down()
	for range 20 {
		status, _, _ := generate(t, base, tok)
		assert.Equal(t, http.StatusOK, status, "cached keys keep serving")
	}
	// Tokens of a key the server never saw make it try the JWKS again, at
	// most once per refetch window: one log line per attempt, not per
	// request.
	unknown := pool.token(t, pool.k2)
	for range 20 {
		status, code, _ := generate(t, base, unknown)
		assert.Equal(t, http.StatusUnauthorized, status)
		assert.Equal(t, "unknown_key", code)
	}
	failures := strings.Count(srv.logs(), "JWKS fetch failed")
	assert.GreaterOrEqual(t, failures, 1, "the failed refetch is logged")
	assert.LessOrEqual(t, failures, 2, "JWKS failures are logged per fetch attempt, not per request:\n%s", srv.logs())
}

func TestFaultSlowJWKS(t *testing.T) {
	pool := newFakePool(t)
	pool.Stall() // never released: the pool's cleanup ends the held fetches
	_, base := startReal(t, pool)
	status, code, took := generate(t, base, pool.token(t, pool.k1))
	assert.Contains(t, []int{http.StatusGatewayTimeout, http.StatusBadGateway}, status, code)
	assert.Less(t, took, 11*time.Second, "no request waits past its deadline (10 s) however slow the JWKS")
	t.Logf("slow JWKS: %d %s after %s", status, code, took.Round(100*time.Millisecond))
}

// TestFaultSlowJWKSPastTheDeadline: with a call deadline shorter than the
// JWKS fetch timeout, the caller gets 504 at its deadline.
func TestFaultSlowJWKSPastTheDeadline(t *testing.T) {
	pool := newFakePool(t)
	pool.Stall()
	ssoserver, _ := binaries(t)
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0", "-timeout", "1s",
		"-cognito-issuer", pool.Issuer(), "-cognito-jwks-url", pool.JWKSURL(), "-cognito-client-id", "app", "-ciino-claim", "custom:ciino",
		"-lob-client", "cid:01",
		"-cookie-secret", "a cookie secret that is 32+ bytes long", "-api-secret", "an API secret that is 32+ bytes long!")
	base := waitListening(t, srv)
	status, code, took := generate(t, base, pool.token(t, pool.k1))
	assert.Equal(t, http.StatusGatewayTimeout, status, code)
	assert.Equal(t, "deadline_exceeded", code)
	assert.Less(t, took, 3*time.Second, "answered at the 1 s deadline")
}

func TestFaultHugeJWKS(t *testing.T) {
	pool := newFakePool(t)
	_, base := startReal(t, pool)
	k1 := pool.token(t, pool.k1)
	status, _, _ := generate(t, base, k1)
	require.Equal(t, http.StatusOK, status)

	// A 50 MB answer is refused at the cap; the last good keys stay.
	pool.Publish(pool.k1, pool.k2)
	pool.Answer(huge)
	status, _, _ = generate(t, base, pool.token(t, pool.k2))
	assert.Equal(t, http.StatusUnauthorized, status, "the bloated set was not loaded")
	status, _, _ = generate(t, base, k1)
	assert.Equal(t, http.StatusOK, status, "the last good keys stay")
}

func TestFaultRotationUnderLoad(t *testing.T) {
	pool := newFakePool(t)
	_, base := startReal(t, pool)
	old, next := pool.token(t, pool.k1), pool.token(t, pool.k2)
	status, _, _ := generate(t, base, old)
	require.Equal(t, http.StatusOK, status)

	var failed atomic.Int32
	var published atomic.Bool
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := old
				if i%2 == 1 && published.Load() { // the new key, once it is published
					tok = next
				}
				if status, code, _ := generate(t, base, tok); status != http.StatusOK {
					failed.Add(1)
					t.Logf("failed: %d %s", status, code)
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond) // traffic under the old key alone
	pool.Publish(pool.k1, pool.k2)
	published.Store(true) // from now on, half the traffic uses the new key
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	assert.Zero(t, failed.Load(), "no failed request for tokens under the old or the new key")
}
