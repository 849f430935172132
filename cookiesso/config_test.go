package cookiesso

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// TestConfigRanges: every constructor refuses a value out of its range
// and accepts the values at its edges (a leeway of exactly
// ssotoken.MaxLeeway, a TTL of exactly one second).
func TestConfigRanges(t *testing.T) {
	cookieV, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret})
	require.NoError(t, err)
	ring := hmacRing(t, apiSecret)
	pub, _, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	verifyOnly, err := ssotoken.NewVerifyingKey("v1", ssotoken.EdDSA, pub)
	require.NoError(t, err)
	verifyRing, err := ssotoken.NewKeyring(verifyOnly)
	require.NoError(t, err)
	jwksURL := newJWKSServer(t, testRSA(t)).URL

	exchanger := func(mod func(*Config)) func() error {
		return func() error {
			cfg := Config{Validator: cookieV, Keys: ring}
			mod(&cfg)
			_, err := New(cfg)
			return err
		}
	}
	hmacV := func(leeway time.Duration) func() error {
		return func() error {
			_, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret, Leeway: leeway})
			return err
		}
	}
	auth := func(mod func(*AuthenticatorConfig)) func() error {
		return func() error {
			cfg := AuthenticatorConfig{Keys: ring}
			mod(&cfg)
			_, err := NewAuthenticator(cfg)
			return err
		}
	}
	jwksV := func(mod func(*JWKSValidatorConfig)) func() error {
		return func() error {
			cfg := JWKSValidatorConfig{URL: jwksURL}
			mod(&cfg)
			v, err := NewJWKSValidator(cfg)
			if err == nil {
				_ = v.Close()
			}
			return err
		}
	}
	tests := []struct {
		name string
		make func() error
		ok   bool
	}{
		{"New: an active key that cannot sign", exchanger(func(c *Config) { c.Keys = verifyRing }), false},
		{"New: a verify-only key beside a signing one is fine", exchanger(func(c *Config) { require.NoError(t, c.Keys.Add(verifyOnly)) }), true},
		{"New: a negative TTL", exchanger(func(c *Config) { c.TTL = -time.Hour }), false},
		{"New: a TTL a nanosecond under one second", exchanger(func(c *Config) { c.TTL = time.Second - 1 }), false},
		{"New: a TTL of exactly one second", exchanger(func(c *Config) { c.TTL = time.Second }), true},
		{"New: a negative MaxCookieBytes", exchanger(func(c *Config) { c.MaxCookieBytes = -1 }), false},
		{"New: a MaxCookieBytes of one", exchanger(func(c *Config) { c.MaxCookieBytes = 1 }), true},
		{"NewHMACValidator: a negative leeway", hmacV(-time.Nanosecond), false},
		{"NewHMACValidator: a leeway over the maximum", hmacV(ssotoken.MaxLeeway + time.Nanosecond), false},
		{"NewHMACValidator: a leeway of exactly the maximum", hmacV(ssotoken.MaxLeeway), true},
		{"NewAuthenticator: no keys", auth(func(c *AuthenticatorConfig) { c.Keys = nil }), false},
		{"NewAuthenticator: a negative leeway", auth(func(c *AuthenticatorConfig) { c.Leeway = -time.Nanosecond }), false},
		{"NewAuthenticator: a leeway over the maximum", auth(func(c *AuthenticatorConfig) { c.Leeway = ssotoken.MaxLeeway + time.Nanosecond }), false},
		{"NewAuthenticator: a leeway of exactly the maximum", auth(func(c *AuthenticatorConfig) { c.Leeway = ssotoken.MaxLeeway }), true},
		{"NewAuthenticator: a negative MaxTokenBytes", auth(func(c *AuthenticatorConfig) { c.MaxTokenBytes = -1 }), false},
		{"NewAuthenticator: a MaxTokenBytes of one", auth(func(c *AuthenticatorConfig) { c.MaxTokenBytes = 1 }), true},
		{"NewAuthenticator: an empty role", auth(func(c *AuthenticatorConfig) { c.Roles = []string{""} }), false},
		{"NewJWKSValidator: no URL", jwksV(func(c *JWKSValidatorConfig) { c.URL = "" }), false},
		{"NewJWKSValidator: a negative leeway", jwksV(func(c *JWKSValidatorConfig) { c.Leeway = -time.Nanosecond }), false},
		{"NewJWKSValidator: a leeway over the maximum", jwksV(func(c *JWKSValidatorConfig) { c.Leeway = ssotoken.MaxLeeway + time.Nanosecond }), false},
		{"NewJWKSValidator: a leeway of exactly the maximum", jwksV(func(c *JWKSValidatorConfig) { c.Leeway = ssotoken.MaxLeeway }), true},
		{"NewJWKSValidator: a negative refresh interval", jwksV(func(c *JWKSValidatorConfig) { c.RefreshInterval = -time.Minute }), false},
		{"NewJWKSValidator: a refresh interval of a minute", jwksV(func(c *JWKSValidatorConfig) { c.RefreshInterval = time.Minute }), true},
		{"NewJWKSValidator: HS384 among the algorithms", jwksV(func(c *JWKSValidatorConfig) { c.Algorithms = []string{"RS256", "HS384"} }), false},
		{"NewJWKSValidator: none among the algorithms", jwksV(func(c *JWKSValidatorConfig) { c.Algorithms = []string{"ES256", "none"} }), false},
		{"NewJWKSValidator: asymmetric algorithms", jwksV(func(c *JWKSValidatorConfig) { c.Algorithms = []string{"ES256", "PS256", "EdDSA"} }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.make()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// TestCookieNames: a configured cookie name must be an RFC 9110 token,
// for the Exchanger and the RemoteValidator alike.
func TestCookieNames(t *testing.T) {
	v, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret})
	require.NoError(t, err)
	ring := hmacRing(t, apiSecret)
	good := []string{"SSO", "a", "AnswerHubCookieSSO", "sso_cookie-1.v2", "!#$%&'*+-.^_`|~09azAZ"}
	bad := []string{" ", "a b", "a\tb", "a\x00", "a\x1f", "a\x7f", "é", "a\x80"}
	for _, c := range `()<>@,;:\"/[]?={}` {
		bad = append(bad, "a"+string(c)+"b", string(c))
	}
	for _, name := range good {
		ex, err := New(Config{Validator: v, Keys: ring, CookieName: name})
		if assert.NoError(t, err, "%q", name) {
			assert.Equal(t, name, ex.CookieName())
		}
		_, err = NewRemoteValidator(RemoteValidatorConfig{URL: "https://main.example/session", CookieName: name})
		assert.NoError(t, err, "%q", name)
	}
	for _, name := range bad {
		_, err := New(Config{Validator: v, Keys: ring, CookieName: name})
		assert.Error(t, err, "%q", name)
		_, err = NewRemoteValidator(RemoteValidatorConfig{URL: "https://main.example/session", CookieName: name})
		assert.Error(t, err, "%q", name)
	}
	ex, err := New(Config{Validator: v, Keys: ring})
	require.NoError(t, err)
	assert.Equal(t, DefaultCookieName, ex.CookieName())
}

// TestExchangeCookieOctets: the Exchanger hands the Validator only RFC
// 6265 cookie-octets (%x21, %x23-2B, %x2D-3A, %x3C-5B, %x5D-7E); any other
// byte is cookie_malformed (400) before the Validator is asked, even a
// Validator that would accept anything.
func TestExchangeCookieOctets(t *testing.T) {
	var calls int
	anything := ValidatorFunc(func(context.Context, string) (*ssotoken.Principal, error) {
		calls++
		return &ssotoken.Principal{Subject: "jdoe"}, nil
	})
	ex, _ := newExchanger(t, func(c *Config) { c.Validator = anything })
	var octets []byte
	for c := 0; c < 256; c++ {
		ok := c == 0x21 || c >= 0x23 && c <= 0x2b || c >= 0x2d && c <= 0x3a || c >= 0x3c && c <= 0x5b || c >= 0x5d && c <= 0x7e
		value := "a" + string([]byte{byte(c)}) + "b"
		calls = 0
		tok, err := ex.Exchange(context.Background(), value)
		if ok {
			octets = append(octets, byte(c))
			assert.NoError(t, err, "%#x", c)
			assert.NotEmpty(t, tok.JWT, "%#x", c)
			assert.Equal(t, 1, calls, "%#x", c)
			continue
		}
		assert.Equal(t, CodeCookieMalformed, ssotoken.CodeOf(err), "%#x: %v", c, err)
		assert.Equal(t, ssotoken.ErrBadRequest, ssotoken.KindOf(err), "%#x", c)
		assert.Zero(t, calls, "%#x: the validator was asked", c)
	}
	assert.Len(t, octets, 90)
	calls = 0
	_, err := ex.Exchange(context.Background(), string(octets))
	assert.NoError(t, err, "every cookie-octet at once")
	assert.Equal(t, 1, calls)
}

// TestMaximumLengths decides the length boundaries, which fail closed by
// one byte: a cookie of exactly Config.MaxCookieBytes is exchanged and one
// byte more is cookie_too_large (before the Validator is asked); an
// exchanged JWT of exactly AuthenticatorConfig.MaxTokenBytes is
// authenticated and one byte more is token_too_large. Both at the
// defaults, with genuine tokens.
func TestMaximumLengths(t *testing.T) {
	ctx := context.Background()
	exp := itoa(testNow.Add(time.Hour).Unix())

	t.Run("cookie", func(t *testing.T) {
		var calls int
		hv, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret, Now: clock(testNow)})
		require.NoError(t, err)
		v := ValidatorFunc(func(ctx context.Context, value string) (*ssotoken.Principal, error) {
			calls++
			return hv.Validate(ctx, value)
		})
		cookie := exactly(t, DefaultMaxCookieBytes, func(header, pad string) string {
			return hsRaw(t, cookieSecret, header, `{"sub":"jdoe","roles":["Use API"],"exp":`+exp+`,"pad":"`+pad+`"}`)
		})
		for _, max := range []int{0, DefaultMaxCookieBytes, DefaultMaxCookieBytes + 1} {
			ex, _ := newExchanger(t, func(c *Config) { c.Validator = v; c.MaxCookieBytes = max })
			calls = 0
			tok, err := ex.Exchange(ctx, cookie)
			require.NoError(t, err, "MaxCookieBytes %d", max)
			assert.NotEmpty(t, tok.JWT)
			assert.Equal(t, 1, calls)
		}
		for _, tt := range []struct {
			max   int
			value string
		}{{0, cookie + "A"}, {DefaultMaxCookieBytes - 1, cookie}, {1, "ab"}} {
			ex, _ := newExchanger(t, func(c *Config) { c.Validator = v; c.MaxCookieBytes = tt.max })
			calls = 0
			tok, err := ex.Exchange(ctx, tt.value)
			assert.Empty(t, tok.JWT)
			assert.Equal(t, CodeCookieTooLarge, ssotoken.CodeOf(err), "MaxCookieBytes %d, %d bytes: %v", tt.max, len(tt.value), err)
			assert.Zero(t, calls)
		}
	})

	t.Run("exchanged JWT", func(t *testing.T) {
		ring := hmacRing(t, apiSecret)
		tok := exactly(t, ssotoken.DefaultMaxTokenBytes, func(header, pad string) string {
			return hsRaw(t, apiSecret, header, strings.TrimSuffix(apiPayload(testNow.Unix(), testNow.Unix()+60), "}")+`,"pad":"`+pad+`"}`)
		})
		for _, max := range []int{0, ssotoken.DefaultMaxTokenBytes, ssotoken.DefaultMaxTokenBytes + 1} {
			p, err := newAuth(t, ring, func(c *AuthenticatorConfig) { c.MaxTokenBytes = max }).Authenticate(ctx, tok)
			require.NoError(t, err, "MaxTokenBytes %d", max)
			assert.Equal(t, "jdoe", p.Subject)
		}
		for _, tt := range []struct {
			max   int
			token string
		}{{0, tok + "A"}, {ssotoken.DefaultMaxTokenBytes - 1, tok}} {
			p, err := newAuth(t, ring, func(c *AuthenticatorConfig) { c.MaxTokenBytes = tt.max }).Authenticate(ctx, tt.token)
			assert.Nil(t, p)
			assert.Equal(t, ssotoken.CodeTokenTooLarge, ssotoken.CodeOf(err), "MaxTokenBytes %d, %d bytes: %v", tt.max, len(tt.token), err)
		}
	})
}

// exactly returns mk(header, pad) of exactly n bytes, for a header that
// is {"alg":"HS256","typ":"JWT"} with or without a space before its
// closing brace (so that every length is reachable: base64url never
// encodes to 4k+1 characters) and a pad of 'x's.
func exactly(t *testing.T, n int, mk func(header, pad string) string) string {
	t.Helper()
	for _, header := range []string{`{"alg":"HS256","typ":"JWT"}`, `{"alg":"HS256","typ":"JWT" }`} {
		base := len(mk(header, ""))
		for extra := max(0, (n-base)*3/4-4); extra <= n; extra++ {
			s := mk(header, strings.Repeat("x", extra))
			if len(s) == n {
				return s
			}
			if len(s) > n {
				break
			}
		}
	}
	t.Fatalf("no token of %d bytes", n)
	return ""
}

// TestJWKSValidatorAlgorithms: by default only RS256 cookies verify (not
// PS256 under the same RSA key); a configured list replaces the default.
func TestJWKSValidatorAlgorithms(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwksWithoutAlg(t))
	}))
	defer srv.Close()
	claims := claimsWith()
	rs := rsCookie(t, "k1", claims)
	ps := psCookie(t, "k1", claims)
	for _, tt := range []struct {
		name   string
		algs   []string
		rs, ps bool
	}{
		{"default", nil, true, false},
		{"PS256 only", []string{"PS256"}, false, true},
		{"both", []string{"RS256", "PS256"}, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewJWKSValidator(JWKSValidatorConfig{URL: srv.URL, Algorithms: tt.algs, Now: clock(testNow)})
			require.NoError(t, err)
			defer v.Close()
			for _, c := range []struct {
				cookie string
				ok     bool
			}{{rs, tt.rs}, {ps, tt.ps}} {
				_, err := v.Validate(context.Background(), c.cookie)
				if c.ok {
					assert.NoError(t, err)
				} else {
					assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), "%v", err)
				}
			}
		})
	}
}

// jwksWithoutAlg is the JWKS of testRSA's public key as "k1", without
// "alg", so that the validator's own list decides.
func jwksWithoutAlg(t *testing.T) []byte {
	jwk, err := jwkset.NewJWKFromKey(&testRSA(t).PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: "k1", USE: jwkset.UseSig}})
	require.NoError(t, err)
	body, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
	require.NoError(t, err)
	return body
}

// psCookie is rsCookie with PS256.
func psCookie(t *testing.T, kid string, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodPS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(testRSA(t))
	require.NoError(t, err)
	return s
}
