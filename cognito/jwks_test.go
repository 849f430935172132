package cognito

// Tests of the key sets, against a fake Cognito that counts JWKS requests
// and fails on demand.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomKID(t *testing.T) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// warm waits until the Authenticator accepts a k1 token.
func warm(t *testing.T, a *Authenticator) {
	t.Helper()
	_, err := a.Authenticate(ctxTimeout(t, testDeadline), sign(t, getKeys(t).k1, "k1", accessClaims()))
	require.NoError(t, err)
}

// A flood of well-formed tokens with random kids gets prompt 401s and
// causes at most one JWKS fetch per RefetchInterval.
func TestUnknownKIDFlood(t *testing.T) {
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
	cfg := fake.config()
	cfg.RefetchInterval = time.Minute // one window for the whole test
	a := newRemote(t, cfg)
	warm(t, a)
	require.Equal(t, int64(1), fake.hits.Load())

	ctx := ctxTimeout(t, testDeadline)
	var wg sync.WaitGroup
	start := time.Now()
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Authenticate(ctx, sign(t, getKeys(t).other, randomKID(t), accessClaims()))
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
		}()
	}
	wg.Wait()
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, int64(2), fake.hits.Load(), "one fetch at start, one refetch for the whole flood")
	warm(t, a) // genuine tokens were never affected
}

// A flood does not stop a genuine rotation: the new kid is accepted at the
// latest one RefetchInterval after the flood's fetch.
func TestRotationDuringFlood(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	a := newRemote(t, fake.config())
	warm(t, a)
	ctx := ctxTimeout(t, testDeadline)
	for range 50 {
		_, err := a.Authenticate(ctx, sign(t, k.other, randomKID(t), accessClaims()))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	}
	fake.setJWKS(jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k2")))
	rotated := sign(t, k.k2, "k2", accessClaims())
	start := time.Now()
	require.Eventually(t, func() bool {
		_, err := a.Authenticate(ctx, sign(t, k.other, randomKID(t), accessClaims())) // the flood goes on
		require.ErrorIs(t, err, ssotoken.ErrUnauthorized)
		_, err = a.Authenticate(ctx, rotated)
		return err == nil
	}, testDeadline, 10*time.Millisecond)
	assert.Less(t, time.Since(start), testRefetch+time.Second)
}

// A token without kid gets a 401; no key is tried and nothing is fetched.
func TestMissingKID(t *testing.T) {
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
	a := newRemote(t, fake.config())
	warm(t, a)
	for _, h := range []string{`{"alg":"RS256"}`, `{"alg":"RS256","kid":""}`} {
		_, err := a.Authenticate(context.Background(), signRaw(t, getKeys(t).k1, h, accessPayload(t)))
		assertCode(t, err, ssotoken.ErrUnauthorized, CodeKIDMissing)
	}
	assert.Equal(t, int64(1), fake.hits.Load())
}

// Unusable keys in the set never verify anything, and do not stop the
// usable ones from verifying.
func TestUnusableKeys(t *testing.T) {
	k := getKeys(t)
	mk := func(kid string, edit func(m *jwkset.JWKMarshal)) jwkset.JWKMarshal {
		m := jwkOf(t, k.k1, kid)
		edit(&m)
		return m
	}
	small := jwkOf(t, k.small, "small")
	oct, err := jwkset.NewJWKFromKey([]byte("0123456789abcdef0123456789abcdef"), jwkset.JWKOptions{Marshal: jwkset.JWKMarshalOptions{Private: true}, Metadata: jwkset.JWKMetadataOptions{KID: "oct", ALG: jwkset.AlgHS256}})
	require.NoError(t, err)
	octJSON, err := json.Marshal(oct.Marshal())
	require.NoError(t, err)
	set := jwksJSON(t,
		mk("enc", func(m *jwkset.JWKMarshal) { m.USE = jwkset.UseEnc }),
		mk("rs512", func(m *jwkset.JWKMarshal) { m.ALG = jwkset.AlgRS512 }),
		mk("ps256", func(m *jwkset.JWKMarshal) { m.ALG = jwkset.AlgPS256 }),
		mk("encrypt-only", func(m *jwkset.JWKMarshal) { m.KEYOPS = []jwkset.KEYOPS{jwkset.KeyOpsEncrypt} }),
		mk("verify-op", func(m *jwkset.JWKMarshal) { m.KEYOPS = []jwkset.KEYOPS{jwkset.KeyOpsVerify} }),
		mk("no-use-no-alg", func(m *jwkset.JWKMarshal) { m.USE, m.ALG = "", "" }),
		small,
		jwkOf(t, k.k1, "k1"),
	)
	// Splice the symmetric key in by hand: it must be in the document.
	set = bytes.Replace(set, []byte(`{"keys":[`), append(append([]byte(`{"keys":[`), octJSON...), ','), 1)

	for name, build := range map[string]func() (*Authenticator, error){
		"static": func() (*Authenticator, error) { return NewStatic(baseConfig(), set) },
		"remote": func() (*Authenticator, error) { return New(newFakeCognito(t, set).config()) },
	} {
		t.Run(name, func(t *testing.T) {
			a, err := build()
			require.NoError(t, err)
			defer a.Close()
			ctx := ctxTimeout(t, testDeadline)
			warm(t, a)
			for _, kid := range []string{"enc", "rs512", "ps256", "encrypt-only"} {
				_, err := a.Authenticate(ctx, sign(t, k.k1, kid, accessClaims()))
				assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			}
			_, err = a.Authenticate(ctx, sign(t, k.small, "small", accessClaims()))
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			_, err = a.Authenticate(ctx, hs256(t, "oct", []byte("0123456789abcdef0123456789abcdef")))
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeAlgNotAllowed)
			_, err = a.Authenticate(ctx, signRaw(t, k.k1, `{"alg":"RS256","kid":"oct"}`, accessPayload(t)))
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			for _, kid := range []string{"verify-op", "no-use-no-alg"} {
				_, err := a.Authenticate(ctx, sign(t, k.k1, kid, accessClaims()))
				require.NoError(t, err, kid)
			}
		})
	}
}

// hs256 signs an access token with HS256 under secret through golang-jwt.
func hs256(t *testing.T, kid string, secret []byte) string {
	tok, err := jose.Sign(jwt.SigningMethodHS256, secret, enc.EncodeToString([]byte(`{"alg":"HS256","kid":"`+kid+`"}`))+".", []byte(accessPayload(t)))
	require.NoError(t, err)
	return tok
}

// Huge, slow, garbage and failed JWKS responses are cut off or refused, and
// the last good keys stay.
func TestJWKSBadResponsesKeepLastGoodKeys(t *testing.T) {
	k := getKeys(t)
	for _, mode := range []struct {
		name string
		mode int32
	}{{"huge", modeHuge}, {"slow", modeSlow}, {"garbage", modeGarbage}, {"down", modeDown}} {
		t.Run(mode.name, func(t *testing.T) {
			fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
			cfg := fake.config()
			cfg.FetchTimeout = 300 * time.Millisecond
			cfg.MaxJWKSBytes = 64 << 10
			cfg.DisableCache = true
			a := newRemote(t, cfg)
			warm(t, a)
			fake.mode.Store(mode.mode)

			start := time.Now()
			_, err := a.Authenticate(ctxTimeout(t, testDeadline), sign(t, k.k2, "k2", accessClaims()))
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			assert.Less(t, time.Since(start), cfg.FetchTimeout+time.Second, "the fetch is cut at FetchTimeout")
			assert.Equal(t, int64(2), fake.hits.Load())
			warm(t, a) // the last good keys stay
		})
	}
}

// A fetched set without one usable key (an empty answer of a proxy in
// between, or only keys that may not verify) is a failed fetch: the last
// good keys stay, and the pool stays ready.
func TestJWKSWithoutUsableKeyKeepsLastGoodKeys(t *testing.T) {
	k := getKeys(t)
	for name, set := range map[string][]byte{
		"empty": []byte(`{"keys":[]}`),
		"no usable": func() []byte {
			enc := jwkOf(t, k.k2, "enc")
			enc.USE = jwkset.UseEnc
			return jwksJSON(t, enc)
		}(),
		"keys null": []byte(`{"keys":null}`),
	} {
		t.Run(name, func(t *testing.T) {
			fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
			cfg := fake.config()
			cfg.DisableCache = true
			a := newRemote(t, cfg)
			warm(t, a)
			fake.setJWKS(set)
			_, err := a.Authenticate(ctxTimeout(t, testDeadline), sign(t, k.k2, "k2", accessClaims())) // an unknown kid: a fetch
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			assert.Equal(t, int64(2), fake.hits.Load())
			warm(t, a) // k1 still verifies
			assert.NoError(t, a.Ready())
		})
	}
}

// A JWKS response of MaxJWKSBytes is read; one byte more is refused, whether
// its length is announced or it comes chunked, the failure is logged as
// such, and the last good keys stay.
func TestJWKSSizeCap(t *testing.T) {
	k := getKeys(t)
	rotated := jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k2"))
	const max = 4 << 10
	require.Less(t, len(rotated), max)
	for _, tt := range []struct {
		name    string
		size    int
		chunked bool
	}{
		{"at the cap, announced", max, false},
		{"one byte over, announced", max + 1, false},
		{"at the cap, chunked", max, true},
		{"one byte over, chunked", max + 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
			var logs lockedBuffer
			cfg := fake.config()
			cfg.MaxJWKSBytes = max
			cfg.DisableCache = true
			cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			a := newRemote(t, cfg)
			warm(t, a)
			// Leading white space, so that a body cut at the cap is not
			// a whole JSON document.
			fake.setJWKS(append(bytes.Repeat([]byte(" "), tt.size-len(rotated)), rotated...))
			fake.chunked.Store(tt.chunked)

			_, err := a.Authenticate(ctxTimeout(t, testDeadline), sign(t, k.k2, "k2", accessClaims()))
			assert.Equal(t, int64(2), fake.hits.Load())
			if tt.size <= max {
				require.NoError(t, err)
				assert.Empty(t, logs.String())
				return
			}
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			assert.Contains(t, logs.String(), `reason="body too large"`)
			warm(t, a) // the last good keys stay
		})
	}
}

// 500 concurrent first requests on a cold start cause one JWKS fetch, and
// every request succeeds.
func TestColdStartConcurrent(t *testing.T) {
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
	cfg := fake.config()
	cfg.DisableCache = true
	a := newRemote(t, cfg)
	tok := sign(t, getKeys(t).k1, "k1", accessClaims())
	ctx := ctxTimeout(t, 20*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Authenticate(ctx, tok)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), fake.hits.Load())
}

// Same with unknown kids: concurrent misses share one fetch.
func TestConcurrentMissesShareOneFetch(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	a := newRemote(t, fake.config())
	warm(t, a)
	fake.setJWKS(jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k2")))
	tok := sign(t, k.k2, "k2", accessClaims())
	ctx := ctxTimeout(t, testDeadline)
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Authenticate(ctx, tok)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(2), fake.hits.Load())
}

// Key rotation under traffic: the new kid is accepted after one refetch,
// with no failed request for tokens under the old key.
func TestRotation(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	cfg := fake.config()
	cfg.DisableCache = true
	a := newRemote(t, cfg)
	warm(t, a)
	old := sign(t, k.k1, "k1", accessClaims())

	ctx := ctxTimeout(t, testDeadline)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // traffic under the old key throughout
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := a.Authenticate(ctx, old)
			assert.NoError(t, err)
		}
	}()
	fake.setJWKS(jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k2")))
	p, err := a.Authenticate(ctx, sign(t, k.k2, "k2", accessClaims()))
	require.NoError(t, err)
	assert.Equal(t, "jdoe", p.Username)
	close(stop)
	wg.Wait()
	assert.Equal(t, int64(2), fake.hits.Load(), "one fetch at start, one refetch")
}

// A JWKS down at start: New succeeds, requests get 502 (not 401) while no
// key is known, and validation recovers by itself.
func TestJWKSDownAtStart(t *testing.T) {
	fake := newFakeCognito(t, nil)
	fake.mode.Store(modeDown)
	start := time.Now()
	a := newRemote(t, fake.config())
	assert.Less(t, time.Since(start), 100*time.Millisecond, "New does not wait for the JWKS")
	tok := sign(t, getKeys(t).k1, "k1", accessClaims())
	ctx := ctxTimeout(t, testDeadline)
	for range 20 {
		_, err := a.Authenticate(ctx, tok)
		assertCode(t, err, ssotoken.ErrUpstream, ssotoken.CodeKeysUnavailable)
		assert.ErrorIs(t, err, ssotoken.ErrKeysUnavailable)
	}
	assert.LessOrEqual(t, fake.hits.Load(), int64(2))

	fake.setJWKS(jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
	fake.mode.Store(modeOK)
	require.Eventually(t, func() bool {
		_, err := a.Authenticate(ctx, tok)
		return err == nil
	}, testDeadline, 10*time.Millisecond)
}

// A JWKS URL where nothing listens: 502, as for a JWKS that is down.
func TestJWKSUnreachableAtStart(t *testing.T) {
	cfg := baseConfig()
	cfg.UserPoolID = ""
	cfg.Issuer = testIssuer
	cfg.JWKSURL = "http://127.0.0.1:1/jwks.json"
	a := newRemote(t, cfg)
	_, err := a.Authenticate(ctxTimeout(t, testDeadline), sign(t, getKeys(t).k1, "k1", accessClaims()))
	assertCode(t, err, ssotoken.ErrUpstream, ssotoken.CodeKeysUnavailable)
}

// A JWKS down after start: cached keys keep working, and each failed fetch
// is logged once, not once per request, without the body.
func TestJWKSDownAfterStart(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	var logs lockedBuffer
	cfg := fake.config()
	cfg.DisableCache = true
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	cfg.RefetchInterval = time.Minute
	a := newRemote(t, cfg)
	warm(t, a)
	fake.mode.Store(modeGarbage)

	ctx := ctxTimeout(t, testDeadline)
	for range 50 {
		warm(t, a)
		_, err := a.Authenticate(ctx, sign(t, k.k2, "k2", accessClaims()))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	}
	assert.Equal(t, int64(2), fake.hits.Load())
	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "JWKS fetch failed"), out)
	assert.Contains(t, out, "reason=\"not a key set\"")
	assert.NotContains(t, out, "SECRET-BODY-MARKER")
}

// A slow JWKS: no request waits past its deadline; 504.
func TestSlowJWKS(t *testing.T) {
	fake := newFakeCognito(t, nil)
	fake.mode.Store(modeSlow)
	cfg := fake.config()
	cfg.FetchTimeout = 10 * time.Second
	a := newRemote(t, cfg)
	tok := sign(t, getKeys(t).k1, "k1", accessClaims())
	for _, d := range []time.Duration{50 * time.Millisecond, 150 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		start := time.Now()
		_, err := a.Authenticate(ctx, tok)
		cancel()
		elapsed := time.Since(start)
		assertCode(t, err, ssotoken.ErrTimeout, ssotoken.CodeDeadlineExceeded)
		assert.GreaterOrEqual(t, elapsed, d-5*time.Millisecond)
		assert.Less(t, elapsed, d+500*time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Authenticate(ctx, tok)
	assertCode(t, err, ssotoken.ErrTimeout, ssotoken.CodeCanceled)
	assert.Equal(t, int64(1), fake.hits.Load(), "the waiting requests share the one slow fetch")
}

// The background refresh replaces the keys without any request: a removed
// kid stops verifying (cached tokens under it too), a new one starts.
func TestBackgroundRefresh(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	cfg := fake.config()
	cfg.RefreshInterval = 50 * time.Millisecond
	cfg.RefetchInterval = time.Minute
	a := newRemote(t, cfg)
	old := sign(t, k.k1, "k1", accessClaims())
	warm(t, a)
	_, err := a.Authenticate(context.Background(), old) // cached now
	require.NoError(t, err)

	fake.setJWKS(jwksJSON(t, jwkOf(t, k.k2, "k2")))
	require.Eventually(t, func() bool { return a.pools[0].store.entry("k2") != nil }, testDeadline, 5*time.Millisecond)
	_, err = a.Authenticate(context.Background(), sign(t, k.k2, "k2", accessClaims()))
	require.NoError(t, err)
	_, err = a.Authenticate(context.Background(), old)
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
}

// Close stops background work; later requests use the keys already held
// and fetch nothing.
func TestClose(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	cfg := fake.config()
	cfg.RefreshInterval = 20 * time.Millisecond
	a, err := New(cfg)
	require.NoError(t, err)
	warm(t, a)
	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	hits := fake.hits.Load()
	_, err = a.Authenticate(context.Background(), sign(t, k.k2, "k2", accessClaims()))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	warm(t, a)
	time.Sleep(100 * time.Millisecond) // five refresh periods: nothing may be fetched
	assert.Equal(t, hits, fake.hits.Load())
}

// Close while the first fetch hangs returns promptly.
func TestCloseDuringFetch(t *testing.T) {
	fake := newFakeCognito(t, nil)
	fake.mode.Store(modeSlow)
	a, err := New(fake.config())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return fake.hits.Load() == 1 }, testDeadline, time.Millisecond)
	start := time.Now()
	require.NoError(t, a.Close())
	assert.Less(t, time.Since(start), time.Second)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Two JWKS entries with the same kid make that kid unusable, whichever key
// signed the token, never "the first wins"; the duplicate is logged once
// per fetch, never per request; other kids keep working, and a corrected
// set is picked up.
func TestDuplicateKIDs(t *testing.T) {
	k := getKeys(t)
	dup := jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.other, "k1"), jwkOf(t, k.k2, "k2"))
	same := jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k2"))
	for _, tt := range []struct {
		name   string
		jwks   []byte
		remote bool
	}{
		{"static, two keys", dup, false},
		{"static, the same key twice", same, false},
		{"remote, two keys", dup, true},
		{"remote, the same key twice", same, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedBuffer
			var a *Authenticator
			var fake *fakeCognito
			if tt.remote {
				fake = newFakeCognito(t, tt.jwks)
				cfg := fake.config()
				cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				a = newRemote(t, cfg)
			} else {
				cfg := baseConfig()
				cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				var err error
				a, err = NewStatic(cfg, tt.jwks)
				require.NoError(t, err)
			}
			ctx := ctxTimeout(t, testDeadline)
			_, err := a.Authenticate(ctx, sign(t, k.k2, "k2", accessClaims()))
			require.NoError(t, err, "the other kids work")
			for range 20 {
				for _, key := range []*rsa.PrivateKey{k.k1, k.other} {
					_, err := a.Authenticate(ctx, sign(t, key, "k1", accessClaims()))
					assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
				}
			}
			fetches := int64(1)
			if tt.remote {
				fetches = fake.hits.Load()
			}
			out := logs.String()
			assert.Equal(t, fetches, int64(strings.Count(out, "more than once")), "one line per fetch: %s", out)
			assert.Contains(t, out, `kids=[k1]`)

			if tt.remote {
				fake.setJWKS(jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k2")))
				require.Eventually(t, func() bool {
					_, err := a.Authenticate(ctx, sign(t, k.k1, "k1", accessClaims()))
					return err == nil
				}, testDeadline, 10*time.Millisecond)
			}
		})
	}
}

// A refresh that removes a key drops the cached tokens it verified at once,
// without waiting for a request to find them stale.
func TestRefreshDropsCachedTokensOfRemovedKeys(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k2")))
	cfg := fake.config()
	cfg.RefreshInterval = 20 * time.Millisecond
	cfg.RefetchInterval = time.Minute
	a := newRemote(t, cfg)
	ctx := ctxTimeout(t, testDeadline)
	toks := map[string]string{"k1": sign(t, k.k1, "k1", accessClaims()), "k2": sign(t, k.k2, "k2", accessClaims())}
	for _, tok := range toks {
		_, err := a.Authenticate(ctx, tok)
		require.NoError(t, err)
	}
	require.Equal(t, 2, a.cache.len())
	cachedKIDs := func() []string {
		var kids []string
		for i := range a.cache.shards {
			s := &a.cache.shards[i]
			s.mu.RLock()
			for _, e := range s.m {
				kids = append(kids, e.key.kid)
			}
			s.mu.RUnlock()
		}
		return kids
	}
	fake.setJWKS(jwksJSON(t, jwkOf(t, k.k2, "k2"))) // k1 leaves the set
	require.Eventually(t, func() bool { return a.cache.len() == 1 }, testDeadline, 5*time.Millisecond)
	assert.Equal(t, []string{"k2"}, cachedKIDs(), "k1's token went with k1, k2's stayed")
	// The entry of k2, whose key stayed the same, is kept through refreshes.
	hits := fake.hits.Load()
	require.Eventually(t, func() bool { return fake.hits.Load() > hits+2 }, testDeadline, 5*time.Millisecond)
	assert.Equal(t, []string{"k2"}, cachedKIDs())
	before := a.Stats().CacheHits
	_, err := a.Authenticate(ctx, toks["k2"])
	require.NoError(t, err)
	assert.Equal(t, before+1, a.Stats().CacheHits, "k2's token is still a cache hit")
	_, err = a.Authenticate(ctx, toks["k1"])
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
}

// Two pools that publish the same kid (local stand-ins often share one
// key): the pool the token names is asked first, and the issuer is still
// checked against the pool whose key verified the signature.
func TestSameKIDInTwoPools(t *testing.T) {
	k := getKeys(t)
	fa := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "shared")))
	fb := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.other, "shared")))
	cfg := fa.config()
	cfg.Pools = []Pool{{Issuer: otherIssuer, JWKSURL: fb.srv.URL + "/jwks.json"}}
	a := newRemote(t, cfg)
	ctx := ctxTimeout(t, testDeadline)
	tests := []struct {
		name string
		key  *rsa.PrivateKey
		iss  string
		code string
	}{
		{"pool A's token", k.k1, testIssuer, ""},
		{"pool B's token", k.other, otherIssuer, ""},
		{"A's key, B's issuer", k.k1, otherIssuer, ssotoken.CodeBadSignature},
		{"B's key, A's issuer", k.other, testIssuer, ssotoken.CodeBadSignature},
		{"A's key, no pool's issuer", k.k1, "https://example.com/x", ssotoken.CodeWrongIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := a.Authenticate(ctx, sign(t, tt.key, "shared", with(accessClaims(), "iss", tt.iss)))
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.iss, p.Issuer)
				return
			}
			assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
		})
	}
}

// The key store is a jwkset.Storage: every write goes through the same
// rules as a fetched set.
func TestKeyStoreWrites(t *testing.T) {
	k := getKeys(t)
	a := newStatic(t, baseConfig())
	store := a.pools[0].store
	ctx := context.Background()
	jwk := func(key *rsa.PrivateKey, kid string) jwkset.JWK {
		j, err := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: jwkset.AlgRS256, USE: jwkset.UseSig}})
		require.NoError(t, err)
		return j
	}
	auth := func(key *rsa.PrivateKey, kid string) error {
		_, err := a.Authenticate(ctx, sign(t, key, kid, accessClaims()))
		return err
	}

	require.NoError(t, store.KeyWrite(ctx, jwk(k.k2, "k2")))
	assert.NoError(t, auth(k.k2, "k2"), "a written key verifies")
	assert.NoError(t, auth(k.k1, "k1"), "the others stay")

	require.NoError(t, store.KeyWrite(ctx, jwk(k.other, "k1")))
	assert.NoError(t, auth(k.other, "k1"), "a write replaces the key of its kid")
	assertCode(t, auth(k.k1, "k1"), ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)

	ok, err := store.KeyDelete(ctx, "k2")
	require.NoError(t, err)
	assert.True(t, ok)
	assertCode(t, auth(k.k2, "k2"), ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey) // its cached token left with it
	ok, err = store.KeyDelete(ctx, "k2")
	require.NoError(t, err)
	assert.False(t, ok)

	small, err := jwkset.NewJWKFromKey(&k.small.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "small"}})
	require.NoError(t, err)
	require.NoError(t, store.KeyWrite(ctx, small))
	_, err = store.KeyRead(ctx, "small")
	assert.ErrorIs(t, err, jwkset.ErrKeyNotFound, "an unusable key is not kept")
	all, err := store.KeyReadAll(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 1)
}

// A pool whose JWKS is down at start is asked again once per
// RefetchInterval until it has keys: it becomes ready without a token
// asking for it (a load balancer waiting for readiness sends none).
func TestJWKSDownAtStartBecomesReadyWithoutTraffic(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	fake.mode.Store(modeDown)
	cfg := fake.config()
	cfg.RefetchInterval = MinRefetchInterval
	a := newRemote(t, cfg)
	require.Eventually(t, func() bool { return fake.hits.Load() >= 2 }, 10*time.Second, 10*time.Millisecond, "asked again while down")
	assert.ErrorIs(t, a.Ready(), ssotoken.ErrKeysUnavailable)
	fake.mode.Store(modeOK)
	require.Eventually(t, func() bool { return a.Ready() == nil }, 10*time.Second, 10*time.Millisecond, "ready once the JWKS answers, with no token")
	hits := fake.hits.Load()
	time.Sleep(5 * MinRefetchInterval) // nothing more to ask once ready
	assert.Equal(t, hits, fake.hits.Load())
}
