package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// The fault tests run ssoserver in real mode against a Cognito stand-in
// in the test process, whose JWKS the test takes down, slows, bloats and
// rotates.

// fakePool is a user pool stand-in: RSA keys, a JWKS endpoint whose
// behaviour the test switches, and access tokens signed by its keys.
type fakePool struct {
	srv    *httptest.Server
	issuer string
	keys   map[string]*ssotoken.Key

	mu        sync.Mutex
	published []string      // kids in the JWKS
	mode      string        // "up", "down", "slow", "huge"
	release   chan struct{} // closed at cleanup: ends slow answers
	hits      atomic.Int32
}

var (
	poolKeysOnce sync.Once
	poolPrivs    [2]*rsa.PrivateKey
)

func newFakePool(t *testing.T, mode string) *fakePool {
	poolKeysOnce.Do(func() {
		for i := range poolPrivs {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			poolPrivs[i] = k
		}
	})
	p := &fakePool{keys: map[string]*ssotoken.Key{}, mode: mode, published: []string{"k1"}, release: make(chan struct{})}
	for i, kid := range []string{"k1", "k2"} {
		k, err := ssotoken.NewSigningKey(kid, ssotoken.RS256, poolPrivs[i])
		require.NoError(t, err)
		p.keys[kid] = k
	}
	for _, k := range p.keys {
		ring, _ := ssotoken.NewKeyring(k)
		credential(ring.JWKS().Keys[0].N) // a JWKS body in a log would carry it
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serveJWKS))
	p.issuer = p.srv.URL + "/pool"
	t.Cleanup(func() { close(p.release); p.srv.Close() })
	return p
}

func (p *fakePool) set(mode string, kids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if len(kids) > 0 {
		p.published = kids
	}
}

func (p *fakePool) serveJWKS(w http.ResponseWriter, r *http.Request) {
	p.hits.Add(1)
	p.mu.Lock()
	mode, kids := p.mode, append([]string(nil), p.published...)
	p.mu.Unlock()
	switch mode {
	case "down":
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case "slow":
		select {
		case <-p.release:
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
		return
	case "huge":
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(" ", 1<<20))
		_, _ = w.Write([]byte(`{"keys":[`))
		for range 50 { // 50 MB, unless the client stops reading first
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = w.Write([]byte(`]}`))
		return
	}
	var set ssotoken.JWKS
	for _, kid := range kids {
		ring, _ := ssotoken.NewKeyring(p.keys[kid])
		set.Keys = append(set.Keys, ring.JWKS().Keys...)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

// token is an access token of the pool, signed with kid.
func (p *fakePool) token(t *testing.T, kid string) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"sub": "u-1", "iss": p.issuer, "client_id": "app", "token_use": "access", "scope": "openid",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "username": "jdoe", "custom:ciino": "10001004",
	})
	tok.Header["kid"] = kid
	s, err := tok.SignedString(poolPrivs[map[string]int{"k1": 0, "k2": 1}[kid]])
	require.NoError(t, err)
	return credential(s)
}

// startReal starts ssoserver in real mode against the pool.
func startReal(t *testing.T, p *fakePool) (*proc, string) {
	ssoserver, _ := binaries(t)
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0", "-log-format", "json",
		"-cognito-issuer", p.issuer, "-cognito-jwks-url", p.srv.URL+"/jwks", "-cognito-client-id", "app", "-ciino-claim", "custom:ciino",
		"-lob-client", "cid:01",
		"-cookie-secret", "a cookie secret that is 32+ bytes long", "-api-secret", "an API secret that is 32+ bytes long!")
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
	pool := newFakePool(t, "down")
	_, base := startReal(t, pool)
	tok := pool.token(t, "k1")

	status, code, _ := generate(t, base, tok)
	assert.Equal(t, http.StatusBadGateway, status, "502 while no key is known, not 401")
	assert.Equal(t, "jwks_unavailable", code)

	pool.set("up")
	back := time.Now()
	ok := eventually(t, 15*time.Second, func() bool {
		status, _, _ := generate(t, base, tok)
		return status == http.StatusOK
	})
	assert.True(t, ok, "recovers by itself within 15 s of the JWKS answering")
	t.Logf("recovered %s after the JWKS came back", time.Since(back).Round(100*time.Millisecond))
}

func TestFaultJWKSDownAfterStart(t *testing.T) {
	pool := newFakePool(t, "up")
	srv, base := startReal(t, pool)
	tok := pool.token(t, "k1")
	status, _, _ := generate(t, base, tok)
	require.Equal(t, http.StatusOK, status)

	pool.set("down")
	for range 20 {
		status, _, _ := generate(t, base, tok)
		assert.Equal(t, http.StatusOK, status, "cached keys keep serving")
	}
	// Tokens of a key the server never saw make it try the JWKS again, at
	// most once per refetch window: one log line per attempt, not per
	// request.
	unknown := pool.token(t, "k2")
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
	pool := newFakePool(t, "slow")
	_, base := startReal(t, pool)
	status, code, took := generate(t, base, pool.token(t, "k1"))
	assert.Contains(t, []int{http.StatusGatewayTimeout, http.StatusBadGateway}, status, code)
	assert.Less(t, took, 11*time.Second, "no request waits past its deadline (10 s) however slow the JWKS")
	t.Logf("slow JWKS: %d %s after %s", status, code, took.Round(100*time.Millisecond))
}

// TestFaultSlowJWKSPastTheDeadline: with a call deadline shorter than the
// JWKS fetch timeout, the caller gets 504 at its deadline.
func TestFaultSlowJWKSPastTheDeadline(t *testing.T) {
	pool := newFakePool(t, "slow")
	ssoserver, _ := binaries(t)
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0", "-timeout", "1s",
		"-cognito-issuer", pool.issuer, "-cognito-jwks-url", pool.srv.URL+"/jwks", "-cognito-client-id", "app", "-ciino-claim", "custom:ciino",
		"-lob-client", "cid:01",
		"-cookie-secret", "a cookie secret that is 32+ bytes long", "-api-secret", "an API secret that is 32+ bytes long!")
	base := waitListening(t, srv)
	status, code, took := generate(t, base, pool.token(t, "k1"))
	assert.Equal(t, http.StatusGatewayTimeout, status, code)
	assert.Equal(t, "deadline_exceeded", code)
	assert.Less(t, took, 3*time.Second, "answered at the 1 s deadline")
}

func TestFaultHugeJWKS(t *testing.T) {
	pool := newFakePool(t, "up")
	_, base := startReal(t, pool)
	k1 := pool.token(t, "k1")
	status, _, _ := generate(t, base, k1)
	require.Equal(t, http.StatusOK, status)

	// A 50 MB answer is refused at the cap; the last good keys stay.
	pool.set("huge", "k1", "k2")
	status, _, _ = generate(t, base, pool.token(t, "k2"))
	assert.Equal(t, http.StatusUnauthorized, status, "the bloated set was not loaded")
	status, _, _ = generate(t, base, k1)
	assert.Equal(t, http.StatusOK, status, "the last good keys stay")
}

func TestFaultRotationUnderLoad(t *testing.T) {
	pool := newFakePool(t, "up")
	_, base := startReal(t, pool)
	old, next := pool.token(t, "k1"), pool.token(t, "k2")
	status, _, _ := generate(t, base, old)
	require.Equal(t, http.StatusOK, status)

	var failed atomic.Int32
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
				if i%2 == 1 && pool.hits.Load() > 1 { // the new key, once it is published
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
	pool.set("up", "k1", "k2")
	pool.hits.Add(1) // from now on, half the traffic uses the new key
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	assert.Zero(t, failed.Load(), "no failed request for tokens under the old or the new key")
}
