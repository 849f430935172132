package httpadapter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/ssotoken"
)

var cookieSecret = []byte("httpadapter's cookie secret, 32+ bytes")

func newCookieSetup(t testing.TB, opts CookieExchangeOptions) (http.Handler, *cookiesso.Authenticator) {
	v, err := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: cookieSecret})
	require.NoError(t, err)
	key, err := ssotoken.NewHMACKey("", []byte("httpadapter's API JWT secret, 32+ bytes"))
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(t, err)
	ex, err := cookiesso.New(cookiesso.Config{Validator: v, Keys: ring})
	require.NoError(t, err)
	auth, err := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: ring})
	require.NoError(t, err)
	h, err := CookieExchangeHandler(ex, opts)
	require.NoError(t, err)
	return h, auth
}

func signedCookie(t testing.TB, secret []byte, exp time.Time, roles ...string) string {
	claims := jwt.MapClaims{"sub": "jdoe", "exp": exp.Unix()}
	if roles != nil {
		claims["roles"] = roles
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	require.NoError(t, err)
	return s
}

func TestCookieExchangeHandler(t *testing.T) {
	h, auth := newCookieSetup(t, CookieExchangeOptions{AllowedOrigins: []string{"https://answers.example.com"}})
	good := signedCookie(t, cookieSecret, time.Now().Add(time.Hour), "Use API")
	tests := []struct {
		name    string
		method  string
		cookies []string
		origins []string
		status  int
		code    string
	}{
		{name: "valid", cookies: []string{"AnswerHubCookieSSO=" + good}, status: 200},
		{name: "GET", method: http.MethodGet, cookies: []string{"AnswerHubCookieSSO=" + good}, status: 405, code: CodeMethodNotAllowed},
		{name: "no cookie", status: 400, code: cookiesso.CodeCookieMissing},
		{name: "empty cookie", cookies: []string{"AnswerHubCookieSSO="}, status: 400, code: cookiesso.CodeCookieMissing},
		{name: "ill-formatted", cookies: []string{"AnswerHubCookieSSO=hello"}, status: 400, code: cookiesso.CodeCookieMalformed},
		{name: "two cookies", cookies: []string{"AnswerHubCookieSSO=" + good + "; AnswerHubCookieSSO=" + good}, status: 400, code: CodeCookieDuplicate},
		{name: "oversized", cookies: []string{"AnswerHubCookieSSO=" + strings.Repeat("a", 5000)}, status: 400, code: cookiesso.CodeCookieTooLarge},
		{name: "bad signature", cookies: []string{"AnswerHubCookieSSO=" + signedCookie(t, []byte("not the cookie's secret, but 32 bytes"), time.Now().Add(time.Hour))}, status: 401, code: cookiesso.CodeCookieBadSignature},
		{name: "expired", cookies: []string{"AnswerHubCookieSSO=" + signedCookie(t, cookieSecret, time.Now().Add(-time.Hour))}, status: 401, code: cookiesso.CodeCookieExpired},
		{name: "allowed origin", cookies: []string{"AnswerHubCookieSSO=" + good}, origins: []string{"https://answers.example.com"}, status: 200},
		{name: "allowed origin, other case", cookies: []string{"AnswerHubCookieSSO=" + good}, origins: []string{"HTTPS://Answers.Example.com"}, status: 200},
		{name: "other origin", cookies: []string{"AnswerHubCookieSSO=" + good}, origins: []string{"https://evil.example"}, status: 403, code: CodeOriginNotAllowed},
		{name: "origin null", cookies: []string{"AnswerHubCookieSSO=" + good}, origins: []string{"null"}, status: 403, code: CodeOriginNotAllowed},
		{name: "two origins, the first allowed", cookies: []string{"AnswerHubCookieSSO=" + good}, origins: []string{"https://answers.example.com", "https://evil.example"}, status: 400, code: CodeMultipleOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, CookieSSOPath, nil)
			for _, c := range tt.cookies {
				r.Header.Add("Cookie", c)
			}
			for _, o := range tt.origins {
				r.Header.Add("Origin", o)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.NotContains(t, rec.Body.String(), good)
			if tt.status != 200 {
				var env ErrorResponse
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
				assert.Equal(t, tt.code, env.ErrorCode)
				return
			}
			var resp CookieResponse
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
			p, err := auth.Authenticate(context.Background(), resp.JWT)
			require.NoError(t, err)
			assert.Equal(t, "jdoe", p.Subject)
		})
	}
}

// TestCookieValue: the SSO cookie is found among the request's cookies, a
// second one of the same name (cookie tossing from a sibling domain) is
// refused whatever its value, and a value net/http cannot parse is
// ill-formatted, not missing.
func TestCookieValue(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		value   string
		code    string
	}{
		{name: "one cookie", headers: []string{"AnswerHubCookieSSO=abc.def.ghi"}, value: "abc.def.ghi"},
		{name: "among others", headers: []string{"a=1; AnswerHubCookieSSO=v1; b=2"}, value: "v1"},
		{name: "in a second header", headers: []string{"a=1", "AnswerHubCookieSSO=v1"}, value: "v1"},
		{name: "quoted", headers: []string{`AnswerHubCookieSSO="v1"`}, value: "v1"},
		{name: "spaces around pairs", headers: []string{"  a=1 ;  AnswerHubCookieSSO=v1  "}, value: "v1"},
		{name: "name with a common prefix is another cookie", headers: []string{"AnswerHubCookieSSOX=1; XAnswerHubCookieSSO=2; AnswerHubCookieSSO=v"}, value: "v"},
		{name: "empty value (the exchanger refuses it)", headers: []string{"AnswerHubCookieSSO="}, value: ""},
		{name: "2,999 other pairs", headers: []string{strings.Repeat("x=1; ", 2999) + "AnswerHubCookieSSO=v"}, value: "v"},
		{name: "over net/http's 3,000 cookies", headers: []string{strings.Repeat("x=1; ", 3000) + "AnswerHubCookieSSO=v"}, code: cookiesso.CodeCookieMalformed},
		{name: "no Cookie header", code: cookiesso.CodeCookieMissing},
		{name: "other cookies only", headers: []string{"a=1; b=2"}, code: cookiesso.CodeCookieMissing},
		{name: "name in another case", headers: []string{"SSOCOOKIE=v"}, code: cookiesso.CodeCookieMissing},
		{name: "two cookies (tossing)", headers: []string{"AnswerHubCookieSSO=a; AnswerHubCookieSSO=b"}, code: CodeCookieDuplicate},
		{name: "two cookies across headers", headers: []string{"AnswerHubCookieSSO=a", "AnswerHubCookieSSO=a"}, code: CodeCookieDuplicate},
		{name: "two cookies, one ill-formed", headers: []string{`AnswerHubCookieSSO=a; AnswerHubCookieSSO=b\c`}, code: CodeCookieDuplicate},
		{name: "backslash", headers: []string{`AnswerHubCookieSSO=a\b`}, code: cookiesso.CodeCookieMalformed},
		{name: "control character", headers: []string{"AnswerHubCookieSSO=a\x01b"}, code: cookiesso.CodeCookieMalformed},
		{name: "non-ASCII", headers: []string{"AnswerHubCookieSSO=é"}, code: cookiesso.CodeCookieMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Cookie", h)
			}
			v, err := cookieValue(r, "AnswerHubCookieSSO")
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.value, v)
				return
			}
			assert.ErrorIs(t, err, ssotoken.ErrBadRequest)
			assert.Equal(t, tt.code, ssotoken.CodeOf(err))
		})
	}
}

func TestCookieExchangeHandlerConfig(t *testing.T) {
	_, err := CookieExchangeHandler(nil, CookieExchangeOptions{})
	assert.Error(t, err)
	v, err := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: cookieSecret})
	require.NoError(t, err)
	key, err := ssotoken.NewHMACKey("", []byte("httpadapter's API JWT secret, 32+ bytes"))
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(t, err)
	ex, err := cookiesso.New(cookiesso.Config{Validator: v, Keys: ring})
	require.NoError(t, err)
	for _, o := range []string{"*", "null", "https://answers.example.com/", "answers.example.com"} {
		_, err := CookieExchangeHandler(ex, CookieExchangeOptions{AllowedOrigins: []string{o}})
		assert.Error(t, err, o)
	}
}

func TestCookieClient(t *testing.T) {
	h, _ := newCookieSetup(t, CookieExchangeOptions{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := NewCookieClient(CookieClientConfig{URL: srv.URL + CookieSSOPath})
	require.NoError(t, err)

	jwt, err := c.Exchange(context.Background(), "AnswerHubCookieSSO", signedCookie(t, cookieSecret, time.Now().Add(time.Hour), "Use API"))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(jwt, "."))

	_, err = c.Exchange(context.Background(), "AnswerHubCookieSSO", "garbage")
	assert.ErrorIs(t, err, ssotoken.ErrBadRequest)
	assert.Equal(t, cookiesso.CodeCookieMalformed, ssotoken.CodeOf(err))

	_, err = c.Exchange(context.Background(), "AnswerHubCookieSSO", signedCookie(t, cookieSecret, time.Now().Add(-time.Hour)))
	assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	assert.Equal(t, cookiesso.CodeCookieExpired, ssotoken.CodeOf(err))

	_, err = NewCookieClient(CookieClientConfig{URL: "ftp://x"})
	assert.Error(t, err)
}
