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

func newCookieSetup(t *testing.T) (http.Handler, *cookiesso.Authenticator) {
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
	return CookieExchangeHandler(ex), auth
}

func signedCookie(t *testing.T, secret []byte, exp time.Time, roles ...string) string {
	claims := jwt.MapClaims{"sub": "jdoe", "exp": exp.Unix()}
	if roles != nil {
		claims["roles"] = roles
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	require.NoError(t, err)
	return s
}

func TestCookieExchangeHandler(t *testing.T) {
	h, auth := newCookieSetup(t)
	good := signedCookie(t, cookieSecret, time.Now().Add(time.Hour), "Use API")
	tests := []struct {
		name    string
		method  string
		cookies []string
		status  int
		code    string
	}{
		{name: "valid", cookies: []string{"ssoCookie=" + good}, status: 200},
		{name: "GET", method: http.MethodGet, cookies: []string{"ssoCookie=" + good}, status: 405, code: CodeMethodNotAllowed},
		{name: "no cookie", status: 400, code: cookiesso.CodeCookieMissing},
		{name: "empty cookie", cookies: []string{"ssoCookie="}, status: 400, code: cookiesso.CodeCookieMissing},
		{name: "ill-formatted", cookies: []string{"ssoCookie=hello"}, status: 400, code: cookiesso.CodeCookieMalformed},
		{name: "two cookies", cookies: []string{"ssoCookie=" + good + "; ssoCookie=" + good}, status: 400, code: cookiesso.CodeCookieDuplicate},
		{name: "oversized", cookies: []string{"ssoCookie=" + strings.Repeat("a", 5000)}, status: 400, code: cookiesso.CodeCookieTooLarge},
		{name: "bad signature", cookies: []string{"ssoCookie=" + signedCookie(t, []byte("not the cookie's secret, but 32 bytes"), time.Now().Add(time.Hour))}, status: 401, code: cookiesso.CodeCookieBadSignature},
		{name: "expired", cookies: []string{"ssoCookie=" + signedCookie(t, cookieSecret, time.Now().Add(-time.Hour))}, status: 401, code: cookiesso.CodeCookieExpired},
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

func TestCookieClient(t *testing.T) {
	h, _ := newCookieSetup(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := NewCookieClient(CookieClientConfig{URL: srv.URL + CookieSSOPath})
	require.NoError(t, err)

	jwt, err := c.Exchange(context.Background(), "ssoCookie", signedCookie(t, cookieSecret, time.Now().Add(time.Hour), "Use API"))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(jwt, "."))

	_, err = c.Exchange(context.Background(), "ssoCookie", "garbage")
	assert.ErrorIs(t, err, ssotoken.ErrBadRequest)
	assert.Equal(t, cookiesso.CodeCookieMalformed, ssotoken.CodeOf(err))

	_, err = c.Exchange(context.Background(), "ssoCookie", signedCookie(t, cookieSecret, time.Now().Add(-time.Hour)))
	assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
	assert.Equal(t, cookiesso.CodeCookieExpired, ssotoken.CodeOf(err))

	_, err = NewCookieClient(CookieClientConfig{URL: "ftp://x"})
	assert.Error(t, err)
}
