package cookiesso

import (
	"context"
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

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

var (
	rsaOnce sync.Once
	rsaPriv *rsa.PrivateKey
)

func testRSA(t testing.TB) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		var err error
		if rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaPriv
}

// jwksServer serves the public half of priv as kid "k1", or 503 while
// down, and counts requests.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32
	down atomic.Bool
	body []byte
}

func newJWKSServer(t *testing.T, priv *rsa.PrivateKey) *jwksServer {
	return newJWKSServerUse(t, priv, jwkset.UseSig)
}

func newJWKSServerUse(t *testing.T, priv *rsa.PrivateKey, use jwkset.USE) *jwksServer {
	jwk, err := jwkset.NewJWKFromKey(&priv.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "k1", ALG: jwkset.AlgRS256, USE: use}})
	require.NoError(t, err)
	body, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
	require.NoError(t, err)
	s := &jwksServer{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		if s.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func rsCookie(t *testing.T, kid string, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(testRSA(t))
	require.NoError(t, err)
	return s
}

func TestJWKSValidator(t *testing.T) {
	srv := newJWKSServer(t, testRSA(t))
	v, err := NewJWKSValidator(JWKSValidatorConfig{URL: srv.URL, Issuer: "https://idp.example", Now: clock(testNow)})
	require.NoError(t, err)
	defer v.Close()

	exp := testNow.Add(time.Hour).Unix()
	claims := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "jdoe", "roles": []string{"Use API"}, "exp": exp, "iss": "https://idp.example"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	hs, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString([]byte("a shared secret of at least 32 bytes"))
	require.NoError(t, err)

	tests := []struct {
		name  string
		value string
		kind  ssotoken.Kind
		code  string
	}{
		{name: "valid", value: rsCookie(t, "k1", claims(nil))},
		{name: "no kid is never tried against every key", value: rsCookie(t, "", claims(nil)), kind: ssotoken.ErrUnauthorized, code: CodeCookieBadSignature},
		{name: "unknown kid", value: rsCookie(t, "k2", claims(nil)), kind: ssotoken.ErrUnauthorized, code: CodeCookieBadSignature},
		{name: "HS256", value: hs, kind: ssotoken.ErrUnauthorized, code: CodeCookieBadSignature},
		{name: "expired", value: rsCookie(t, "k1", claims(jwt.MapClaims{"exp": testNow.Unix() - 1})), kind: ssotoken.ErrUnauthorized, code: CodeCookieExpired},
		{name: "wrong issuer", value: rsCookie(t, "k1", claims(jwt.MapClaims{"iss": "https://evil.example"})), kind: ssotoken.ErrUnauthorized, code: CodeCookieInvalid},
		{name: "no sub", value: rsCookie(t, "k1", jwt.MapClaims{"exp": exp, "iss": "https://idp.example"}), kind: ssotoken.ErrUnauthorized, code: CodeCookieInvalid},
		{name: "not a JWT", value: "abc", kind: ssotoken.ErrBadRequest, code: CodeCookieMalformed},
		{name: "garbage segments", value: "a.b.c", kind: ssotoken.ErrBadRequest, code: CodeCookieMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Validate(context.Background(), tt.value)
			if tt.kind == 0 {
				require.NoError(t, err)
				assert.Equal(t, "jdoe", p.Subject)
				assert.Equal(t, []string{"Use API"}, p.Groups)
				return
			}
			assert.Equal(t, tt.kind, ssotoken.KindOf(err), "%v", err)
			assert.Equal(t, tt.code, ssotoken.CodeOf(err))
		})
	}
	assert.LessOrEqual(t, srv.hits.Load(), int32(2), "one fetch at start, at most one for the unknown kid")
}

func TestJWKSValidatorKeysUnavailable(t *testing.T) {
	srv := newJWKSServer(t, testRSA(t))
	srv.down.Store(true)
	v, err := NewJWKSValidator(JWKSValidatorConfig{URL: srv.URL, Now: clock(testNow)})
	require.NoError(t, err, "start-up does not fail while the JWKS is down")
	defer v.Close()
	_, err = v.Validate(context.Background(), rsCookie(t, "k1", jwt.MapClaims{"sub": "jdoe", "exp": testNow.Add(time.Hour).Unix()}))
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)
	assert.Equal(t, "jwks_unavailable", ssotoken.CodeOf(err))
}

func TestJWKSValidatorRefusesHugeJWKS(t *testing.T) {
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(" ", MaxJWKSBytes+1) + `]}`))
	}))
	defer huge.Close()
	v, err := NewJWKSValidator(JWKSValidatorConfig{URL: huge.URL, Now: clock(testNow)})
	require.NoError(t, err)
	defer v.Close()
	_, err = v.Validate(context.Background(), rsCookie(t, "k1", jwt.MapClaims{"sub": "jdoe", "exp": testNow.Add(time.Hour).Unix()}))
	assert.ErrorIs(t, err, ssotoken.ErrUpstream, "no key was loaded from an oversized document")
}

func TestNewJWKSValidatorErrors(t *testing.T) {
	for _, cfg := range []JWKSValidatorConfig{
		{},
		{URL: "http://127.0.0.1:1/jwks", Algorithms: []string{"HS256"}},
		{URL: "http://127.0.0.1:1/jwks", Algorithms: []string{"none"}},
		{URL: "http://127.0.0.1:1/jwks", Leeway: time.Hour},
	} {
		v, err := NewJWKSValidator(cfg)
		if !assert.Error(t, err, "%+v", cfg) {
			v.Close()
		}
	}
}

// TestJWKSValidatorRefusesEncryptionKeys: a key
// marked "use":"enc" never verifies a cookie.
func TestJWKSValidatorRefusesEncryptionKeys(t *testing.T) {
	srv := newJWKSServerUse(t, testRSA(t), jwkset.UseEnc)
	v, err := NewJWKSValidator(JWKSValidatorConfig{URL: srv.URL, Now: clock(testNow)})
	require.NoError(t, err)
	defer v.Close()
	_, err = v.Validate(context.Background(), rsCookie(t, "k1", jwt.MapClaims{"sub": "jdoe", "exp": testNow.Add(time.Hour).Unix()}))
	assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	assert.Equal(t, CodeCookieBadSignature, ssotoken.CodeOf(err))
}

// TestJWKSValidatorRefusesUnusableKeys holds for
// the cookie's JWKS: a small RSA key, a key that may only encrypt, and a
// kid two keys share never verify a cookie, although keyfunc finds a key.
func TestJWKSValidatorRefusesUnusableKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	jwk := func(pub *rsa.PublicKey, ops ...jwkset.KEYOPS) jwkset.JWKMarshal {
		j, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: "k1", ALG: jwkset.AlgRS256, USE: jwkset.UseSig, KEYOPS: ops},
			Validate: jwkset.JWKValidateOptions{SkipAll: true},
		})
		require.NoError(t, err)
		return j.Marshal()
	}
	claims := jwt.MapClaims{"sub": "jdoe", "exp": testNow.Add(time.Hour).Unix()}
	for _, tt := range []struct {
		name   string
		keys   []jwkset.JWKMarshal
		signer *rsa.PrivateKey
	}{
		{"RSA under 2048 bits", []jwkset.JWKMarshal{jwk(&small.PublicKey)}, small},
		{"key_ops without verify", []jwkset.JWKMarshal{jwk(&testRSA(t).PublicKey, jwkset.KeyOpsEncrypt)}, testRSA(t)},
		{"a kid two keys share", []jwkset.JWKMarshal{jwk(&testRSA(t).PublicKey), jwk(&other.PublicKey)}, testRSA(t)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, testRSA(t))
			body, err := json.Marshal(jwkset.JWKSMarshal{Keys: tt.keys})
			require.NoError(t, err)
			srv.body = body
			v, err := NewJWKSValidator(JWKSValidatorConfig{URL: srv.URL, Now: clock(testNow)})
			require.NoError(t, err)
			defer v.Close()
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
			tok.Header["kid"] = "k1"
			cookie, err := tok.SignedString(tt.signer)
			require.NoError(t, err)
			_, err = v.Validate(context.Background(), cookie)
			assert.Equal(t, CodeCookieBadSignature, ssotoken.CodeOf(err), "%v", err)
		})
	}
	// And the same key, verify allowed, alone under its kid, does.
	srv := newJWKSServer(t, testRSA(t))
	body, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk(&testRSA(t).PublicKey, jwkset.KeyOpsVerify)}})
	require.NoError(t, err)
	srv.body = body
	v, err := NewJWKSValidator(JWKSValidatorConfig{URL: srv.URL, Now: clock(testNow)})
	require.NoError(t, err)
	defer v.Close()
	_, err = v.Validate(context.Background(), rsCookie(t, "k1", claims))
	assert.NoError(t, err)
}
