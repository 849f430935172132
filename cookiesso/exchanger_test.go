package cookiesso

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

var (
	cookieSecret = []byte("the SSO cookie's own secret, 32+ bytes")
	apiSecret    = []byte("the exchanged JWT's secret, 32+ bytes!")
	ssoSecret    = []byte("the TokenNo signer's secret, 32+ bytes")
	testNow      = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

// startedBefore is a clock for an ssotoken.Signer that issues at t: a
// Signer issues nothing in the second it was created in, so its first
// reading (at NewSigner) is one second before t, and every later one t.
func startedBefore(t time.Time) func() time.Time {
	var read atomic.Bool
	return func() time.Time {
		if read.CompareAndSwap(false, true) {
			return t.Add(-time.Second)
		}
		return t
	}
}

func hmacRing(t testing.TB, secret []byte) *ssotoken.Keyring {
	t.Helper()
	k, err := ssotoken.NewHMACKey("", secret)
	require.NoError(t, err)
	r, err := ssotoken.NewKeyring(k)
	require.NoError(t, err)
	return r
}

// cookieJWT makes an SSO cookie the way an identity provider would, with
// golang-jwt.
func cookieJWT(t testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	require.NoError(t, err)
	return s
}

func goodCookie(t testing.TB) string {
	return cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, jwt.MapClaims{
		"sub": "jdoe", "roles": []string{"Use API", "Reader"}, "exp": testNow.Add(8 * time.Hour).Unix(),
	})
}

func newExchanger(t testing.TB, mod func(*Config)) (*Exchanger, *ssotoken.Keyring) {
	t.Helper()
	v, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret, Now: clock(testNow)})
	require.NoError(t, err)
	ring := hmacRing(t, apiSecret)
	cfg := Config{Validator: v, Keys: ring, Now: clock(testNow)}
	if mod != nil {
		mod(&cfg)
	}
	ex, err := New(cfg)
	require.NoError(t, err)
	return ex, ring
}

func newAuth(t testing.TB, ring *ssotoken.Keyring, mod func(*AuthenticatorConfig)) *Authenticator {
	t.Helper()
	cfg := AuthenticatorConfig{Keys: ring, Now: clock(testNow)}
	if mod != nil {
		mod(&cfg)
	}
	a, err := NewAuthenticator(cfg)
	require.NoError(t, err)
	return a
}

func TestExchange(t *testing.T) {
	ex, ring := newExchanger(t, nil)
	tok, err := ex.Exchange(context.Background(), goodCookie(t))
	require.NoError(t, err)
	assert.Equal(t, testNow.Add(time.Hour), tok.ExpiresAt)

	parts := strings.Split(tok.JWT, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(raw, &claims))
	assert.Equal(t, "jdoe", claims["sub"])
	assert.Equal(t, []any{"Use API", "Reader"}, claims["roles"])
	assert.Equal(t, float64(testNow.Unix()), claims["iat"])
	assert.Equal(t, float64(testNow.Add(time.Hour).Unix()), claims["exp"])
	assert.Equal(t, DefaultIssuer, claims["iss"])
	assert.Equal(t, DefaultAudience, claims["aud"])
	jti, _ := claims["jti"].(string)
	assert.Len(t, jti, 22, "16 bytes, base64url without padding")
	id, err := base64.RawURLEncoding.Strict().DecodeString(jti)
	require.NoError(t, err)
	assert.Len(t, id, 16)
	assert.Len(t, claims, 7)

	again, err := ex.Exchange(context.Background(), goodCookie(t))
	require.NoError(t, err)
	assert.NotEqual(t, jti, jtiOf(t, again.JWT), "a new jti per exchange, even at the same instant")

	p, err := newAuth(t, ring, nil).Authenticate(context.Background(), tok.JWT)
	require.NoError(t, err)
	assert.Equal(t, "jdoe", p.Subject)
	assert.Equal(t, []string{"Use API", "Reader"}, p.Groups)
}

func jtiOf(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c struct {
		ID string `json:"jti"`
	}
	require.NoError(t, json.Unmarshal(raw, &c))
	return c.ID
}

func TestExchangeNeverOutlivesTheCookie(t *testing.T) {
	ex, _ := newExchanger(t, nil)
	cookie := cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, jwt.MapClaims{"sub": "jdoe", "exp": testNow.Add(10 * time.Minute).Unix()})
	tok, err := ex.Exchange(context.Background(), cookie)
	require.NoError(t, err)
	assert.Equal(t, testNow.Add(10*time.Minute), tok.ExpiresAt)
}

// TestExchangeFailures covers the refused cookies and
// the validator's claim checks.
func TestExchangeFailures(t *testing.T) {
	exp := testNow.Add(time.Hour).Unix()
	good := goodCookie(t)
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		value string
		kind  ssotoken.Kind
		code  string
	}{
		{"empty", "", ssotoken.ErrBadRequest, CodeCookieMissing},
		{"not a JWT", "session=abc", ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"two segments", parts[0] + "." + parts[1], ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"padding", good + "=", ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"payload not JSON", func() string {
			in := (*jwt.Token)(nil).EncodeSegment([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + (*jwt.Token)(nil).EncodeSegment([]byte("nope"))
			sig, err := jwt.SigningMethodHS256.Sign(in, cookieSecret)
			require.NoError(t, err)
			return in + "." + (*jwt.Token)(nil).EncodeSegment(sig)
		}(), ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"roles not strings", cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, jwt.MapClaims{"sub": "jdoe", "roles": []int{1}, "exp": exp}), ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"over 4 KiB", strings.Repeat("a", 4097), ssotoken.ErrBadRequest, CodeCookieTooLarge},
		{"backslash", `a\b`, ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"comma", "a,b", ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"space", good[:10] + " " + good[10:], ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"control character", "a\x01b", ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"non-ASCII", "é", ssotoken.ErrBadRequest, CodeCookieMalformed},
		{"bad signature", parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), ssotoken.ErrUnauthorized, CodeCookieBadSignature},
		{"another secret", cookieJWT(t, jwt.SigningMethodHS256, apiSecret, jwt.MapClaims{"sub": "jdoe", "exp": exp}), ssotoken.ErrUnauthorized, CodeCookieBadSignature},
		{"HS512", cookieJWT(t, jwt.SigningMethodHS512, cookieSecret, jwt.MapClaims{"sub": "jdoe", "exp": exp}), ssotoken.ErrUnauthorized, CodeCookieBadSignature},
		{"alg none", cookieJWTRaw(t, `{"alg":"none"}`, `{"sub":"jdoe","exp":9999999999}`), ssotoken.ErrUnauthorized, CodeCookieBadSignature},
		{"expired", cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, jwt.MapClaims{"sub": "jdoe", "exp": testNow.Unix()}), ssotoken.ErrUnauthorized, CodeCookieExpired},
		{"expired with a bad signature reads as a bad signature", cookieJWT(t, jwt.SigningMethodHS256, apiSecret, jwt.MapClaims{"sub": "jdoe", "exp": 1}), ssotoken.ErrUnauthorized, CodeCookieBadSignature},
		{"no exp", cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, jwt.MapClaims{"sub": "jdoe"}), ssotoken.ErrUnauthorized, CodeCookieInvalid},
		{"no sub", cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, jwt.MapClaims{"exp": exp}), ssotoken.ErrUnauthorized, CodeCookieInvalid},
		{"nbf in the future", cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, jwt.MapClaims{"sub": "jdoe", "exp": exp, "nbf": exp - 1}), ssotoken.ErrUnauthorized, CodeCookieInvalid},
	}
	ex, _ := newExchanger(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := ex.Exchange(context.Background(), tt.value)
			require.Error(t, err)
			assert.Empty(t, tok.JWT)
			assert.Equal(t, tt.kind, ssotoken.KindOf(err), "%v", err)
			assert.Equal(t, tt.code, ssotoken.CodeOf(err))
			assert.NotContains(t, err.Error(), tt.value[:min(len(tt.value), 40)]+"x", "no cookie in the error")
		})
	}
}

func cookieJWTRaw(t testing.TB, header, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

// TestTokenClassConfusion, in both directions: the
// cookie, the exchanged JWT and the TokenNo each have their own key, and
// none is accepted where another is expected.
func TestTokenClassConfusion(t *testing.T) {
	ctx := context.Background()
	ex, apiRing := newExchanger(t, nil)
	auth := newAuth(t, apiRing, nil)
	cookie := goodCookie(t)
	exchanged, err := ex.Exchange(ctx, cookie)
	require.NoError(t, err)

	ssoRing := hmacRing(t, ssoSecret)
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ssoRing, Now: startedBefore(testNow)})
	require.NoError(t, err)
	issueCtx, cancel := context.WithTimeout(ctx, 10*time.Second) // a failure, not a hang, if the signer waits
	defer cancel()
	sso, err := signer.Issue(issueCtx, ssotoken.Request{CIINo: "1", LOBId: "01", Functionality: "D"})
	require.NoError(t, err)
	lob, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ssoRing, LOBId: "01", Now: clock(testNow)})
	require.NoError(t, err)

	t.Run("exchanged JWT as a TokenNo", func(t *testing.T) {
		_, err := lob.Verify(ctx, exchanged.JWT)
		assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	})
	t.Run("exchanged JWT as a cookie", func(t *testing.T) {
		_, err := ex.Exchange(ctx, exchanged.JWT)
		assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	})
	t.Run("TokenNo as the exchanged JWT", func(t *testing.T) {
		_, err := auth.Authenticate(ctx, sso.TokenNo)
		assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	})
	t.Run("TokenNo as a cookie", func(t *testing.T) {
		_, err := ex.Exchange(ctx, sso.TokenNo)
		assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	})
	t.Run("cookie as the exchanged JWT", func(t *testing.T) {
		_, err := auth.Authenticate(ctx, cookie)
		assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	})
	t.Run("cookie as a TokenNo", func(t *testing.T) {
		_, err := lob.Verify(ctx, cookie)
		assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	})
	t.Run("even under one shared secret, the claims keep the classes apart", func(t *testing.T) {
		shared := hmacRing(t, ssoSecret)
		exShared, err := New(Config{Validator: ex.v, Keys: shared, Now: clock(testNow)})
		require.NoError(t, err)
		jwtShared, err := exShared.Exchange(ctx, cookie)
		require.NoError(t, err)
		_, err = lob.Verify(ctx, jwtShared.JWT)
		assert.Equal(t, ssotoken.CodeWrongLOB, ssotoken.CodeOf(err), "no LOBId")
		_, err = newAuth(t, shared, nil).Authenticate(ctx, sso.TokenNo)
		assert.Equal(t, ssotoken.CodeWrongIssuer, ssotoken.CodeOf(err), "no iss")
	})
}

// TestAuthenticate covers the role of the Cookie
// SSO document.
func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	ex, ring := newExchanger(t, nil)
	withRole, err := ex.Exchange(ctx, goodCookie(t))
	require.NoError(t, err)
	withRoles := func(roles ...string) string {
		claims := jwt.MapClaims{"sub": "guest", "exp": testNow.Add(time.Hour).Unix()}
		if roles != nil {
			claims["roles"] = roles
		}
		tok, err := ex.Exchange(ctx, cookieJWT(t, jwt.SigningMethodHS256, cookieSecret, claims))
		require.NoError(t, err)
		return tok.JWT
	}
	noRole := withRoles("Reader")
	useAPIConst := withRoles("Reader", DefaultRoleAlias)
	noRoles := withRoles()
	otherAud, _ := newExchanger(t, func(c *Config) { c.Audience = "another-api"; c.Keys = ring })
	otherAudTok, err := otherAud.Exchange(ctx, goodCookie(t))
	require.NoError(t, err)
	p := strings.Split(withRole.JWT, ".")

	tests := []struct {
		name  string
		token string
		now   time.Time
		mod   func(*AuthenticatorConfig)
		code  string
	}{
		{name: "valid", token: withRole.JWT},
		{name: "Use API, the permissions note's spelling", token: withRoles(DefaultRole)},
		{name: "USE_API, the responses' spelling", token: useAPIConst},
		{name: "without the Use API role", token: noRole, code: CodeRoleMissing},
		{name: "no roles at all", token: noRoles, code: CodeRoleMissing},
		{name: "another spelling is not folded", token: withRoles("use api", "Use_API", "USE API"), code: CodeRoleMissing},
		{name: "another role configured", token: noRole, mod: func(c *AuthenticatorConfig) { c.Roles = []string{"Reader"} }},
		{name: "a configured set, any one of it", token: noRole, mod: func(c *AuthenticatorConfig) { c.Roles = []string{"Admin", "Reader"} }},
		{name: "a configured set replaces the defaults", token: withRole.JWT, mod: func(c *AuthenticatorConfig) { c.Roles = []string{"Admin", DefaultRoleAlias} }, code: CodeRoleMissing},
		{name: "a configured set with one spelling", token: useAPIConst, mod: func(c *AuthenticatorConfig) { c.Roles = []string{DefaultRoleAlias} }},
		{name: "after exp", token: withRole.JWT, now: testNow.Add(time.Hour), code: ssotoken.CodeTokenExpired},
		{name: "within leeway", token: withRole.JWT, now: testNow.Add(time.Hour + 29*time.Second), mod: func(c *AuthenticatorConfig) { c.Leeway = 30 * time.Second }},
		{name: "tampered", token: p[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","roles":["Use API"]}`)) + "." + p[2], code: ssotoken.CodeBadSignature},
		{name: "another audience", token: otherAudTok.JWT, code: ssotoken.CodeWrongAudience},
		{name: "too large", token: strings.Repeat("a", 9000), code: ssotoken.CodeTokenTooLarge},
		{name: "empty", token: "", code: ssotoken.CodeTokenMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := testNow
			if !tt.now.IsZero() {
				now = tt.now
			}
			a := newAuth(t, ring, func(c *AuthenticatorConfig) {
				c.Now = clock(now)
				if tt.mod != nil {
					tt.mod(c)
				}
			})
			p, err := a.Authenticate(ctx, tt.token)
			if tt.code == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, p.Subject)
				return
			}
			assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
			assert.Equal(t, tt.code, ssotoken.CodeOf(err))
		})
	}
}

func TestNewErrors(t *testing.T) {
	v, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret})
	require.NoError(t, err)
	ring := hmacRing(t, apiSecret)
	for name, cfg := range map[string]Config{
		"no validator":   {Keys: ring},
		"no keys":        {Validator: v},
		"bad name":       {Validator: v, Keys: ring, CookieName: "a;b"},
		"short TTL":      {Validator: v, Keys: ring, TTL: time.Millisecond},
		"negative bytes": {Validator: v, Keys: ring, MaxCookieBytes: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(cfg)
			assert.Error(t, err)
		})
	}
	_, err = NewHMACValidator(HMACValidatorConfig{Secret: []byte("short")})
	assert.Error(t, err, "a weak cookie secret is refused")
	_, err = NewAuthenticator(AuthenticatorConfig{})
	assert.Error(t, err)
	_, err = NewAuthenticator(AuthenticatorConfig{Keys: ring, Roles: []string{"Use API", ""}})
	assert.Error(t, err, "an empty role")
}

func TestDefaultRoles(t *testing.T) {
	assert.Equal(t, []string{"Use API", "USE_API"}, DefaultRoles())
	r := DefaultRoles()
	r[0] = "Admin"
	assert.Equal(t, "Use API", DefaultRoles()[0], "a new slice each time")

	ring := hmacRing(t, apiSecret)
	roles := []string{"Reader"}
	a := newAuth(t, ring, func(c *AuthenticatorConfig) { c.Roles = roles })
	roles[0] = "Admin"
	ex, _ := newExchanger(t, func(c *Config) { c.Keys = ring })
	tok, err := ex.Exchange(context.Background(), goodCookie(t)) // roles "Use API", "Reader"
	require.NoError(t, err)
	_, err = a.Authenticate(context.Background(), tok.JWT)
	require.NoError(t, err, "the configured roles were copied")
}

func TestAuthenticatorValidator(t *testing.T) {
	v := AuthenticatorValidator{Authenticator: ssotoken.AuthenticatorFunc(func(_ context.Context, tok string) (*ssotoken.Principal, error) {
		switch tok {
		case "id-token":
			return &ssotoken.Principal{Subject: "u1", Groups: []string{"Use API"}}, nil
		case "garbage":
			return nil, ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeTokenMalformed, "malformed", nil)
		}
		return nil, ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeTokenExpired, "expired", nil)
	})}
	ex, _ := newExchanger(t, func(c *Config) { c.Validator = v })

	tok, err := ex.Exchange(context.Background(), "id-token")
	require.NoError(t, err)
	assert.NotEmpty(t, tok.JWT)
	_, err = ex.Exchange(context.Background(), "garbage")
	assert.Equal(t, CodeCookieMalformed, ssotoken.CodeOf(err))
	assert.ErrorIs(t, err, ssotoken.ErrBadRequest)
	_, err = ex.Exchange(context.Background(), "old")
	assert.Equal(t, ssotoken.CodeTokenExpired, ssotoken.CodeOf(err))
}

func TestHMACValidatorKeyID(t *testing.T) {
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "jdoe", "exp": testNow.Add(time.Hour).Unix()})
	tok.Header["kid"] = "cookie-2026"
	cookie, err := tok.SignedString(cookieSecret)
	require.NoError(t, err)

	named, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret, KeyID: "cookie-2026", Now: clock(testNow)})
	require.NoError(t, err)
	p, err := named.Validate(context.Background(), cookie)
	require.NoError(t, err)
	assert.Equal(t, "jdoe", p.Subject)

	unnamed, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret, Now: clock(testNow)})
	require.NoError(t, err)
	_, err = unnamed.Validate(context.Background(), cookie)
	assert.Equal(t, CodeCookieBadSignature, ssotoken.CodeOf(err), "a kid the validator does not know")
}
