package cognito

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Test fixtures: RSA keys are generated once per test binary (slow under
// -race), the clock is fixed.

const (
	testPoolID   = "eu-west-1_TestPool1"
	testClient   = "client-one"
	testClient2  = "client-two"
	otherIssuer  = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"
	testRefetch  = 200 * time.Millisecond
	testDeadline = 5 * time.Second
)

var (
	testNow    = time.Unix(1_700_000_000, 0)
	testIssuer = "https://cognito-idp.eu-west-1.amazonaws.com/" + testPoolID
)

type testKeys struct {
	k1, k2, other, small *rsa.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(tb testing.TB) testKeys {
	tb.Helper()
	keysOnce.Do(func() {
		gen := func(bits int) *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			return k
		}
		var wg sync.WaitGroup
		wg.Add(3)
		go func() { defer wg.Done(); keys.k1 = gen(2048) }()
		go func() { defer wg.Done(); keys.k2 = gen(2048) }()
		go func() { defer wg.Done(); keys.other = gen(2048) }()
		keys.small = gen(1024)
		wg.Wait()
	})
	return keys
}

// jwkOf returns the public JWK of k with the given metadata.
func jwkOf(tb testing.TB, k *rsa.PrivateKey, kid string) jwkset.JWKMarshal {
	tb.Helper()
	jwk, err := jwkset.NewJWKFromKey(&k.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		KID: kid, ALG: jwkset.AlgRS256, USE: jwkset.UseSig,
	}})
	require.NoError(tb, err)
	return jwk.Marshal()
}

func jwksJSON(tb testing.TB, keys ...jwkset.JWKMarshal) []byte {
	tb.Helper()
	b, err := json.Marshal(jwkset.JWKSMarshal{Keys: keys})
	require.NoError(tb, err)
	return b
}

var enc = base64.RawURLEncoding

// signRaw builds a token from a raw header and payload, signed with RS256
// under k through golang-jwt (or with an empty signature when k is nil).
func signRaw(tb testing.TB, k *rsa.PrivateKey, header, payload string) string {
	tb.Helper()
	h := enc.EncodeToString([]byte(header)) + "."
	if k == nil {
		return h + enc.EncodeToString([]byte(payload)) + "."
	}
	tok, err := jose.Sign(jwt.SigningMethodRS256, k, h, []byte(payload))
	require.NoError(tb, err)
	return tok
}

// accessClaims is a Cognito access token's claim set at testNow.
func accessClaims() map[string]any {
	return map[string]any{
		"sub":            "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		"cognito:groups": []string{"admin", "users"},
		"iss":            testIssuer,
		"version":        2,
		"client_id":      testClient,
		"origin_jti":     "11111111-2222-3333-4444-555555555555",
		"event_id":       "66666666-7777-8888-9999-000000000000",
		"token_use":      "access",
		"scope":          "aws.cognito.signin.user.admin openid profile",
		"auth_time":      testNow.Unix() - 60,
		"exp":            testNow.Unix() + 3600,
		"iat":            testNow.Unix() - 60,
		"jti":            "abcdefab-1234-5678-9abc-def012345678",
		"username":       "jdoe",
	}
}

// idClaims is a Cognito ID token's claim set at testNow.
func idClaims() map[string]any {
	return map[string]any{
		"sub":              "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		"cognito:groups":   []string{"admin"},
		"email_verified":   true,
		"iss":              testIssuer,
		"cognito:username": "jdoe",
		"origin_jti":       "11111111-2222-3333-4444-555555555555",
		"aud":              testClient,
		"event_id":         "66666666-7777-8888-9999-000000000000",
		"token_use":        "id",
		"auth_time":        testNow.Unix() - 60,
		"exp":              testNow.Unix() + 3600,
		"iat":              testNow.Unix() - 60,
		"jti":              "abcdefab-1234-5678-9abc-def012345678",
		"email":            "jdoe@example.com",
		"custom:ciino":     "10001004",
		"custom:tier":      "gold",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	return m
}

// sign signs claims with RS256 under k through golang-jwt, with kid in
// the header.
func sign(tb testing.TB, k *rsa.PrivateKey, kid string, claims map[string]any) string {
	tb.Helper()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	t.Header["kid"] = kid
	tok, err := t.SignedString(k)
	require.NoError(tb, err)
	return tok
}

// baseConfig is an access-token configuration of the test pool at testNow.
func baseConfig() Config {
	return Config{
		UserPoolID:      testPoolID,
		ClientIDs:       []string{testClient},
		TokenUse:        TokenUseAccess,
		Now:             func() time.Time { return testNow },
		RefetchInterval: testRefetch,
		Logger:          discardLogger(),
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newStatic returns a static Authenticator with k1 under "k1".
func newStatic(tb testing.TB, cfg Config) *Authenticator {
	tb.Helper()
	a, err := NewStatic(cfg, jwksJSON(tb, jwkOf(tb, getKeys(tb).k1, "k1")))
	require.NoError(tb, err)
	return a
}

// assertCode checks that err is an *ssotoken.Error of the kind and code.
func assertCode(tb testing.TB, err error, kind ssotoken.Kind, code string) {
	tb.Helper()
	require.Error(tb, err)
	var e *ssotoken.Error
	require.True(tb, errors.As(err, &e), "not an *ssotoken.Error: %v", err)
	assert.True(tb, errors.Is(err, kind), "kind %v, want %v (%v)", e.Kind(), kind, err)
	assert.Equal(tb, code, ssotoken.CodeOf(err))
}

// fakeCognito serves a JWKS on loopback, counts requests and can be made
// to fail in the ways a real endpoint fails.
type fakeCognito struct {
	srv     *httptest.Server
	hits    atomic.Int64
	mode    atomic.Int32
	chunked atomic.Bool // send the body without Content-Length
	mu      sync.Mutex
	body    []byte
	unblock chan struct{}
	once    sync.Once
}

const (
	modeOK      int32 = iota
	modeDown          // 503
	modeSlow          // blocks until the client gives up
	modeGarbage       // 200 with a body that is not JSON
	modeHuge          // 200 with a body over any sane cap
)

func newFakeCognito(tb testing.TB, jwks []byte) *fakeCognito {
	tb.Helper()
	f := &fakeCognito{body: jwks, unblock: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(func() {
		f.once.Do(func() { close(f.unblock) })
		f.srv.Close()
	})
	return f
}

func (f *fakeCognito) serve(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	switch f.mode.Load() {
	case modeDown:
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	case modeSlow:
		select {
		case <-r.Context().Done():
		case <-f.unblock:
		}
		return
	case modeGarbage:
		_, _ = io.WriteString(w, "<html>SECRET-BODY-MARKER not json</html>")
		return
	case modeHuge:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"keys":[`)
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		for range 64 { // 4 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		return
	}
	f.mu.Lock()
	body := f.body
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.chunked.Load() {
		w.(http.Flusher).Flush()
	} else {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	_, _ = w.Write(body)
}

func (f *fakeCognito) setJWKS(b []byte) {
	f.mu.Lock()
	f.body = b
	f.mu.Unlock()
}

// config returns baseConfig pointed at the fake, with the fake's URL as
// issuer.
func (f *fakeCognito) config() Config {
	cfg := baseConfig()
	cfg.UserPoolID = ""
	cfg.Issuer = testIssuer
	cfg.JWKSURL = f.srv.URL + "/.well-known/jwks.json"
	return cfg
}

func newRemote(tb testing.TB, cfg Config) *Authenticator {
	tb.Helper()
	a, err := New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = a.Close() })
	return a
}

func ctxTimeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}
