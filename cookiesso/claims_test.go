package cookiesso

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// cookieValidators returns the two JWT cookie validators, each with cfg's
// issuer, audience and leeway at testNow, and a function that signs a
// cookie for it.
func cookieValidators(t *testing.T, iss, aud string, leeway time.Duration) []struct {
	name string
	v    Validator
	sign func(jwt.MapClaims) string
} {
	t.Helper()
	hv, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret, Issuer: iss, Audience: aud, Leeway: leeway, Now: clock(testNow)})
	require.NoError(t, err)
	srv := newJWKSServer(t, testRSA(t))
	jv, err := NewJWKSValidator(JWKSValidatorConfig{URL: srv.URL, Issuer: iss, Audience: aud, Leeway: leeway, Now: clock(testNow)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = jv.Close() })
	return []struct {
		name string
		v    Validator
		sign func(jwt.MapClaims) string
	}{
		{"HS256 cookie", hv, func(c jwt.MapClaims) string { return cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, c) }},
		{"JWKS cookie", jv, func(c jwt.MapClaims) string { return rsCookie(t, "k1", c) }},
	}
}

// claimsWith returns a user's claims valid for an hour at testNow, with
// kv set (a nil value removes the claim).
func claimsWith(kv ...any) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "jdoe", "roles": []string{"Use API"}, "exp": testNow.Add(time.Hour).Unix()}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// TestCookieIssuerAndAudience: a validator configured with an issuer and
// an audience refuses (401, cookie_invalid) a cookie of another site, for
// another audience, or naming none, and the Exchanger mints nothing for
// it; without them configured, any issuer and audience pass.
func TestCookieIssuerAndAudience(t *testing.T) {
	const iss, aud = "https://main.example", "ssokit-cookie"
	ctx := context.Background()
	tests := []struct {
		name     string
		iss, aud any // nil: the claim is absent
		ok       bool
	}{
		{"the configured issuer and audience", iss, aud, true},
		{"aud an array holding the audience", iss, []string{"another-api", aud}, true},
		{"another site's iss", "https://evil.example", aud, false},
		{"iss with a trailing slash", iss + "/", aud, false},
		{"iss in capitals", strings.ToUpper(iss), aud, false},
		{"iss a prefix of the issuer", "https://main.exampl", aud, false},
		{"iss empty", "", aud, false},
		{"iss missing", nil, aud, false},
		{"another audience", iss, "ssokit-api", false},
		{"aud a prefix of the audience", iss, "ssokit", false},
		{"aud an array without the audience", iss, []string{"ssokit-api"}, false},
		{"aud empty", iss, "", false},
		{"aud missing", iss, nil, false},
	}
	ring := hmacRing(t, apiSecret)
	for _, cv := range cookieValidators(t, iss, aud, 0) {
		ex, err := New(Config{Validator: cv.v, Keys: ring, Now: clock(testNow)})
		require.NoError(t, err)
		for _, tt := range tests {
			t.Run(cv.name+"/"+tt.name, func(t *testing.T) {
				cookie := cv.sign(claimsWith("iss", tt.iss, "aud", tt.aud))
				p, err := cv.v.Validate(ctx, cookie)
				tok, xerr := ex.Exchange(ctx, cookie)
				if tt.ok {
					require.NoError(t, err)
					assert.Equal(t, iss, p.Issuer)
					require.NoError(t, xerr)
					assert.NotEmpty(t, tok.JWT)
					return
				}
				assert.Nil(t, p)
				assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), "%v", err)
				assert.Equal(t, CodeCookieInvalid, ssotoken.CodeOf(err), "%v", err)
				assert.Empty(t, tok.JWT)
				assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(xerr), "%v", xerr)
				assert.Equal(t, CodeCookieInvalid, ssotoken.CodeOf(xerr))
			})
		}
	}
	for _, cv := range cookieValidators(t, "", "", 0) {
		t.Run(cv.name+"/neither configured", func(t *testing.T) {
			for _, c := range []jwt.MapClaims{claimsWith(), claimsWith("iss", "https://any.example", "aud", "any-api")} {
				_, err := cv.v.Validate(ctx, cv.sign(c))
				assert.NoError(t, err)
			}
		})
	}
}

// TestCookieTimeClaims: with each leeway (none, a minute, the maximum), a
// cookie is expired from "exp" + leeway on (so one whose "exp" is now is
// refused without leeway), and not yet valid one second past now +
// leeway in "iat" or "nbf" (so "iat" 30 minutes ahead is always
// refused). The Exchanger never mints a JWT that outlives the cookie: a
// cookie at or past its "exp" is cookie_expired there whatever the leeway.
func TestCookieTimeClaims(t *testing.T) {
	ctx := context.Background()
	now := testNow.Unix()
	ring := hmacRing(t, apiSecret)
	for _, leeway := range []time.Duration{0, time.Minute, ssotoken.MaxLeeway} {
		l := int64(leeway / time.Second)
		tests := []struct {
			name     string
			claims   jwt.MapClaims
			code     string // of Validate; "" accepted
			exchange string // of Exchange; "" a JWT
		}{
			{"exp one second after now", claimsWith("exp", now+1), "", ""},
			{"exp equal to now", claimsWith("exp", now), codeIf(l == 0, CodeCookieExpired), CodeCookieExpired},
			{"exp one second inside the leeway", claimsWith("exp", now-l+1), "", codeIf(l > 0, CodeCookieExpired)},
			{"exp at now minus the leeway", claimsWith("exp", now-l), CodeCookieExpired, CodeCookieExpired},
			{"exp a second past the leeway", claimsWith("exp", now-l-1), CodeCookieExpired, CodeCookieExpired},
			{"iat now", claimsWith("iat", now), "", ""},
			{"iat at now plus the leeway", claimsWith("iat", now+l), "", ""},
			{"iat a second past the leeway", claimsWith("iat", now+l+1), CodeCookieInvalid, CodeCookieInvalid},
			{"iat 30 minutes in the future", claimsWith("iat", now+1800), CodeCookieInvalid, CodeCookieInvalid},
			{"nbf at now plus the leeway", claimsWith("nbf", now+l), "", ""},
			{"nbf a second past the leeway", claimsWith("nbf", now+l+1), CodeCookieInvalid, CodeCookieInvalid},
			{"nbf 30 minutes in the future", claimsWith("nbf", now+1800), CodeCookieInvalid, CodeCookieInvalid},
			{"exp missing", claimsWith("exp", nil), CodeCookieInvalid, CodeCookieInvalid},
		}
		for _, cv := range cookieValidators(t, "", "", leeway) {
			ex, err := New(Config{Validator: cv.v, Keys: ring, Now: clock(testNow)})
			require.NoError(t, err)
			for _, tt := range tests {
				t.Run(leeway.String()+"/"+cv.name+"/"+tt.name, func(t *testing.T) {
					cookie := cv.sign(tt.claims)
					p, err := cv.v.Validate(ctx, cookie)
					if tt.code == "" {
						require.NoError(t, err)
						assert.Equal(t, "jdoe", p.Subject)
					} else {
						assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), "%v", err)
						assert.Equal(t, tt.code, ssotoken.CodeOf(err), "%v", err)
					}
					tok, err := ex.Exchange(ctx, cookie)
					if tt.exchange == "" {
						require.NoError(t, err)
						assert.False(t, tok.ExpiresAt.After(testNow.Add(time.Hour)))
						assert.True(t, tok.ExpiresAt.After(testNow))
						return
					}
					assert.Empty(t, tok.JWT)
					assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), "%v", err)
					assert.Equal(t, tt.exchange, ssotoken.CodeOf(err), "%v", err)
				})
			}
		}
	}
}

// codeIf returns code when cond holds, else "".
func codeIf(cond bool, code string) string {
	if cond {
		return code
	}
	return ""
}

// hsAPI signs payload as an exchanged JWT would be: HS256 under apiSecret,
// no kid.
func hsAPI(t testing.TB, payload string) string {
	return hsRaw(t, apiSecret, `{"alg":"HS256","typ":"JWT"}`, payload)
}

// apiPayload is the exchanged JWT's claim set with iat and exp as given
// (a negative value leaves the claim out).
func apiPayload(iat, exp int64) string {
	b := `{"sub":"jdoe","roles":["Use API"]`
	if iat >= 0 {
		b += `,"iat":` + itoa(iat)
	}
	if exp >= 0 {
		b += `,"exp":` + itoa(exp)
	}
	return b + `,"jti":"AAAAAAAAAAAAAAAAAAAAAA","iss":"` + DefaultIssuer + `","aud":"` + DefaultAudience + `"}`
}

// TestExchangedJWTTimeClaims: the Authenticator refuses an exchanged JWT
// whose "exp" is now (plus the leeway) or whose "iat" is past now plus
// the leeway, such as one minted by an instance whose clock runs 30
// minutes ahead.
func TestExchangedJWTTimeClaims(t *testing.T) {
	ctx := context.Background()
	ring := hmacRing(t, apiSecret)
	now := testNow.Unix()
	for _, leeway := range []time.Duration{0, time.Minute, ssotoken.MaxLeeway} {
		l := int64(leeway / time.Second)
		a := newAuth(t, ring, func(c *AuthenticatorConfig) { c.Leeway = leeway })
		tests := []struct {
			name  string
			token string
			code  string
		}{
			{"valid", hsAPI(t, apiPayload(now, now+3600)), ""},
			{"exp one second inside the leeway", hsAPI(t, apiPayload(now-3600, now-l+1)), ""},
			{"exp at now minus the leeway", hsAPI(t, apiPayload(now-3600, now-l)), ssotoken.CodeTokenExpired},
			{"exp equal to now and equal to iat", hsAPI(t, apiPayload(now-l, now-l)), ssotoken.CodeTokenExpired},
			{"exp missing", hsAPI(t, apiPayload(now, -1)), ssotoken.CodeExpMissing},
			{"iat at now plus the leeway", hsAPI(t, apiPayload(now+l, now+3600)), ""},
			{"iat a second past the leeway", hsAPI(t, apiPayload(now+l+1, now+3600)), ssotoken.CodeTokenNotYetValid},
			{"iat 30 minutes in the future", hsAPI(t, apiPayload(now+1800, now+3600)), ssotoken.CodeTokenNotYetValid},
		}
		for _, tt := range tests {
			t.Run(leeway.String()+"/"+tt.name, func(t *testing.T) {
				p, err := a.Authenticate(ctx, tt.token)
				if tt.code == "" {
					require.NoError(t, err)
					assert.Equal(t, "jdoe", p.Subject)
					return
				}
				assert.Nil(t, p)
				assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), "%v", err)
				assert.Equal(t, tt.code, ssotoken.CodeOf(err), "%v", err)
			})
		}
	}

	t.Run("minted by an exchanger whose clock is 30 minutes ahead", func(t *testing.T) {
		ahead, _ := newExchanger(t, func(c *Config) { c.Keys = ring; c.Now = clock(testNow.Add(30 * time.Minute)) })
		tok, err := ahead.Exchange(ctx, goodCookie(t))
		require.NoError(t, err)
		_, err = newAuth(t, ring, nil).Authenticate(ctx, tok.JWT)
		assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), "%v", err)
		assert.Equal(t, ssotoken.CodeTokenNotYetValid, ssotoken.CodeOf(err))
		_, err = newAuth(t, ring, func(c *AuthenticatorConfig) { c.Now = clock(testNow.Add(30 * time.Minute)) }).Authenticate(ctx, tok.JWT)
		assert.NoError(t, err, "the same JWT at the minting instance's time")
	})
}

// TestExchangeNeedsAUser: whatever a Validator returns without an error,
// no JWT is minted for a principal without a subject (or none), nor for
// one already expired; the JWT's expiry is the sooner of TTL and the
// principal's own.
func TestExchangeNeedsAUser(t *testing.T) {
	tests := []struct {
		name string
		p    *ssotoken.Principal
		code string    // "" a JWT
		exp  time.Time // of the JWT
	}{
		{name: "nil principal and nil error", p: nil, code: CodeCookieInvalid},
		{name: "no subject", p: &ssotoken.Principal{Username: "jdoe", Groups: []string{DefaultRole}}, code: CodeCookieInvalid},
		{name: "empty principal", p: &ssotoken.Principal{}, code: CodeCookieInvalid},
		{name: "expires now", p: &ssotoken.Principal{Subject: "jdoe", ExpiresAt: testNow}, code: CodeCookieExpired},
		{name: "expired a second ago", p: &ssotoken.Principal{Subject: "jdoe", ExpiresAt: testNow.Add(-time.Second)}, code: CodeCookieExpired},
		{name: "expires in a second", p: &ssotoken.Principal{Subject: "jdoe", ExpiresAt: testNow.Add(time.Second)}, exp: testNow.Add(time.Second)},
		{name: "expires with the TTL", p: &ssotoken.Principal{Subject: "jdoe", ExpiresAt: testNow.Add(time.Hour)}, exp: testNow.Add(time.Hour)},
		{name: "expires after the TTL", p: &ssotoken.Principal{Subject: "jdoe", ExpiresAt: testNow.Add(2 * time.Hour)}, exp: testNow.Add(time.Hour)},
		{name: "no expiry", p: &ssotoken.Principal{Subject: "jdoe"}, exp: testNow.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			v := ValidatorFunc(func(context.Context, string) (*ssotoken.Principal, error) {
				calls++
				return tt.p, nil
			})
			ex, ring := newExchanger(t, func(c *Config) { c.Validator = v })
			tok, err := ex.Exchange(context.Background(), "opaque-session-id")
			assert.Equal(t, 1, calls)
			if tt.code != "" {
				assert.Empty(t, tok.JWT)
				assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), "%v", err)
				assert.Equal(t, tt.code, ssotoken.CodeOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.exp, tok.ExpiresAt)
			p, err := newAuth(t, ring, func(c *AuthenticatorConfig) { c.Roles = []string{"x"} }).Authenticate(context.Background(), tok.JWT)
			assert.Nil(t, p)
			assert.Equal(t, CodeRoleMissing, ssotoken.CodeOf(err), "the JWT verifies, and names no role: %v", err)
		})
	}
}

// TestAuthenticatorNeedsASubject: a genuine exchanged JWT without "sub",
// or with an empty one, authenticates no one.
func TestAuthenticatorNeedsASubject(t *testing.T) {
	a := newAuth(t, hmacRing(t, apiSecret), nil)
	rest := `"roles":["Use API"],"iat":` + itoa(testNow.Unix()) + `,"exp":` + itoa(testNow.Unix()+60) + `,"iss":"` + DefaultIssuer + `","aud":"` + DefaultAudience + `"}`
	for _, payload := range []string{`{` + rest, `{"sub":"",` + rest} {
		p, err := a.Authenticate(context.Background(), hsAPI(t, payload))
		assert.Nil(t, p)
		assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), "%v", err)
		assert.Equal(t, CodeCookieInvalid, ssotoken.CodeOf(err), "%s: %v", payload, err)
	}
}
