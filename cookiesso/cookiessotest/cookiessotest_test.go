package cookiessotest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/cookiesso/cookiessotest"
	"github.com/ssokit/ssokit/ssotoken"
)

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newSigner(t *testing.T, opts ...cookiessotest.Option) *cookiessotest.Signer {
	t.Helper()
	s, err := cookiessotest.NewSigner(opts...)
	require.NoError(t, err)
	return s
}

func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// A cookie is an HS256 JWT of sub, roles, iat and exp, which the
// Signer's validator accepts.
func TestCookie(t *testing.T) {
	s := newSigner(t, cookiessotest.Clock(func() time.Time { return testNow }), cookiessotest.Lifetime(time.Hour))
	c := s.Cookie(t, "jdoe", "Use API", "USE_API")
	assert.Equal(t, map[string]any{"alg": "HS256", "typ": "JWT"}, segment(t, c, 0))
	assert.Equal(t, map[string]any{
		"sub": "jdoe", "roles": []any{"Use API", "USE_API"},
		"iat": float64(testNow.Unix()), "exp": float64(testNow.Add(time.Hour).Unix()),
	}, segment(t, c, 1))

	p, err := s.Validator(t).Validate(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, "jdoe", p.Subject)
	assert.Equal(t, []string{"Use API", "USE_API"}, p.Groups)
	assert.Equal(t, testNow.Add(time.Hour), p.ExpiresAt.UTC())

	noRoles := segment(t, s.Cookie(t, "jdoe"), 1)
	assert.Equal(t, []any{}, noRoles["roles"], "an empty array, not null")
}

// Changed claims make the cookie fail as the main site's would.
func TestSignedClaims(t *testing.T) {
	s := newSigner(t, cookiessotest.Clock(func() time.Time { return testNow }))
	v := s.Validator(t)
	tests := []struct {
		name string
		edit func(map[string]any)
		code string // "" = accepted
	}{
		{"as minted", func(map[string]any) {}, ""},
		{"a time is seconds", func(c map[string]any) { c["exp"] = testNow.Add(time.Minute) }, ""},
		{"expired", func(c map[string]any) { c["exp"] = testNow.Add(-time.Second) }, cookiesso.CodeCookieExpired},
		{"no exp", func(c map[string]any) { delete(c, "exp") }, cookiesso.CodeCookieInvalid},
		{"no sub", func(c map[string]any) { delete(c, "sub") }, cookiesso.CodeCookieInvalid},
		{"not yet valid", func(c map[string]any) { c["nbf"] = testNow.Add(time.Hour) }, cookiesso.CodeCookieInvalid},
		{"roles not an array", func(c map[string]any) { c["roles"] = "Use API" }, cookiesso.CodeCookieMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims := s.Claims("jdoe", cookiesso.DefaultRole)
			tt.edit(claims)
			c, err := s.Sign(claims)
			require.NoError(t, err)
			_, err = v.Validate(context.Background(), c)
			if tt.code == "" {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, tt.code, ssotoken.CodeOf(err), "%v", err)
		})
	}
}

// Another Signer's cookie has a bad signature; a given secret is the
// cookie's, and copied.
func TestSecret(t *testing.T) {
	secret := []byte("the SSO cookie's own secret, 32+ bytes")
	s := newSigner(t, cookiessotest.Secret(secret))
	secret[0] = 'X'
	assert.Equal(t, "the SSO cookie's own secret, 32+ bytes", string(s.Secret()))
	v, err := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: []byte("the SSO cookie's own secret, 32+ bytes")})
	require.NoError(t, err)
	_, err = v.Validate(context.Background(), s.Cookie(t, "jdoe"))
	assert.NoError(t, err)

	other := newSigner(t)
	assert.NotEqual(t, s.Secret(), other.Secret())
	assert.GreaterOrEqual(t, len(other.Secret()), ssotoken.MinHMACSecretLen)
	_, err = v.Validate(context.Background(), other.Cookie(t, "jdoe"))
	assert.Equal(t, cookiesso.CodeCookieBadSignature, ssotoken.CodeOf(err))
	assert.Nil(t, other.ValidatorConfig().Now, "no Clock, no Now")
}

func TestOptionErrors(t *testing.T) {
	for name, opt := range map[string]cookiessotest.Option{
		"short secret": cookiessotest.Secret([]byte("short")),
		"no lifetime":  cookiessotest.Lifetime(0),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := cookiessotest.NewSigner(opt)
			assert.Error(t, err)
			assert.Nil(t, s)
		})
	}
	_, err := cookiessotest.NewSigner(cookiessotest.Option{})
	assert.NoError(t, err, "a zero Option does nothing")
}

func TestHTTPCookie(t *testing.T) {
	c := cookiessotest.HTTPCookie("v")
	assert.Equal(t, "AnswerHubCookieSSO=v", c.String())
}

// The main site answers a RemoteValidator's questions as the Cookie SSO
// document's main site does.
func TestMainSite(t *testing.T) {
	site := cookiessotest.NewMainSite()
	t.Cleanup(site.Close)
	jdoe := site.Login("jdoe", "Use API")
	gone := site.Login("gone")
	site.Logout(gone)
	assert.NotEqual(t, jdoe, site.Login("jdoe", "Use API"), "every session has its own id")

	tests := []struct {
		name, method, cookie string
		status               int
		body                 string
	}{
		{"session", http.MethodGet, jdoe, http.StatusOK, `{"username":"jdoe","roles":["Use API"]}`},
		{"session by POST", http.MethodPost, jdoe, http.StatusOK, `{"username":"jdoe","roles":["Use API"]}`},
		{"ended session", http.MethodGet, gone, http.StatusUnauthorized, ""},
		{"unknown session", http.MethodGet, "nope", http.StatusUnauthorized, ""},
		{"no cookie", http.MethodGet, "", http.StatusUnauthorized, ""},
		{"another method", http.MethodPut, jdoe, http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, site.URL(), nil)
			require.NoError(t, err)
			if tt.cookie != "" {
				r.AddCookie(cookiessotest.HTTPCookie(tt.cookie))
			}
			res, err := http.DefaultClient.Do(r)
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			assert.Equal(t, tt.status, res.StatusCode)
			if tt.body != "" {
				assert.JSONEq(t, tt.body, string(body))
			}
		})
	}
	assert.Equal(t, len(tests), site.Requests())

	cfg := site.ValidatorConfig()
	cfg.Method, cfg.CacheTTL, cfg.NegativeCacheTTL = http.MethodPost, -1, -1
	v, err := cookiesso.NewRemoteValidator(cfg)
	require.NoError(t, err)
	p, err := v.Validate(context.Background(), jdoe)
	require.NoError(t, err)
	assert.Equal(t, "jdoe", p.Username)
	assert.Equal(t, []string{"Use API"}, p.Groups)

	site.Down()
	_, err = v.Validate(context.Background(), jdoe)
	assert.Equal(t, cookiesso.CodeMainSiteUnavailable, ssotoken.CodeOf(err))
	site.Up()
	_, err = v.Validate(context.Background(), jdoe)
	assert.NoError(t, err)
	site.Logout(jdoe)
	_, err = v.Validate(context.Background(), jdoe)
	assert.Equal(t, cookiesso.CodeCookieInvalid, ssotoken.CodeOf(err))
}
