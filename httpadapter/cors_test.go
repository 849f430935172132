package httpadapter

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	portalOrigin = "https://www.abc.example"
	forumOrigin  = "https://answers.abc.example"
)

func newTestCORS(t *testing.T) *CORS {
	t.Helper()
	c, err := NewCORS(CORSConfig{AllowedOrigins: []string{portalOrigin, forumOrigin}, CookieExchangeOrigins: []string{forumOrigin}})
	require.NoError(t, err)
	return c
}

// preflight is what Chromium sends before the document's fetch sample.
func preflight(target, origin, method, headers string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, target, nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	r.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		r.Header.Set("Access-Control-Request-Headers", headers)
	}
	return r
}

// corsHeaders returns the response's Access-Control-* headers.
func corsHeaders(h http.Header) map[string]string {
	m := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			m[k] = strings.Join(v, ", ")
		}
	}
	return m
}

func TestCORSPreflight(t *testing.T) {
	c := newTestCORS(t)
	generate, auth := newTestHandler(t, nil)
	exchange, _ := newCookieSetup(t, CookieExchangeOptions{})
	routes := map[string]http.Handler{
		"generate": c.GenerateSSOToken(generate),
		"exchange": c.CookieExchange(exchange),
		"bearer":   c.Bearer(http.NotFoundHandler()),
	}
	const sampleHeaders = "authorization,content-type,x-api-version,x-lob-client-id"
	tests := []struct {
		name, route, origin, method, headers string
		want                                 map[string]string // the Access-Control-* headers, exactly
	}{
		{
			name: "the fetch sample from an allowed origin", route: "generate",
			origin: portalOrigin, method: "POST", headers: sampleHeaders,
			want: map[string]string{
				"Access-Control-Allow-Origin":  portalOrigin,
				"Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": sampleHeaders,
				"Access-Control-Max-Age":       "600",
			},
		},
		{
			name: "a subset of the headers", route: "generate",
			origin: forumOrigin, method: "POST", headers: "content-type",
			want: map[string]string{
				"Access-Control-Allow-Origin":  forumOrigin,
				"Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "content-type",
				"Access-Control-Max-Age":       "600",
			},
		},
		{name: "an origin not on the list", route: "generate", origin: "https://evil.example", method: "POST", headers: sampleHeaders, want: map[string]string{}},
		{name: "an allowed host on another scheme", route: "generate", origin: "http://www.abc.example", method: "POST", headers: sampleHeaders, want: map[string]string{}},
		{name: "an allowed host on another port", route: "generate", origin: portalOrigin + ":8443", method: "POST", headers: sampleHeaders, want: map[string]string{}},
		{name: "a suffix of an allowed origin", route: "generate", origin: "https://www.abc.example.evil.example", method: "POST", headers: sampleHeaders, want: map[string]string{}},
		{name: "case differs from what a browser sends", route: "generate", origin: "https://WWW.abc.example", method: "POST", headers: sampleHeaders, want: map[string]string{}},
		{name: "Origin null", route: "generate", origin: "null", method: "POST", headers: sampleHeaders, want: map[string]string{}},
		{name: "no Origin", route: "generate", method: "POST", headers: sampleHeaders, want: map[string]string{}},
		{name: "a method the route does not take", route: "generate", origin: portalOrigin, method: "DELETE", headers: sampleHeaders, want: map[string]string{}},
		{name: "a header the route does not take", route: "generate", origin: portalOrigin, method: "POST", headers: sampleHeaders + ",x-requested-with", want: map[string]string{}},
		{
			name: "the cookie exchange allows credentials", route: "exchange",
			origin: forumOrigin, method: "POST", headers: "content-type",
			want: map[string]string{
				"Access-Control-Allow-Origin":      forumOrigin,
				"Access-Control-Allow-Methods":     "POST",
				"Access-Control-Allow-Headers":     "content-type",
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Max-Age":           "600",
			},
		},
		{name: "the cookie exchange, origin not on the list: no credentials either", route: "exchange", origin: "https://evil.example", method: "POST", headers: "content-type", want: map[string]string{}},
		{name: "the cookie exchange from an origin allowed only for the bearer routes", route: "exchange", origin: portalOrigin, method: "POST", headers: "content-type", want: map[string]string{}},
		{name: "the cookie exchange takes no Authorization", route: "exchange", origin: forumOrigin, method: "POST", headers: "authorization", want: map[string]string{}},
		{
			name: "a bearer route", route: "bearer",
			origin: forumOrigin, method: "GET", headers: "authorization",
			want: map[string]string{
				"Access-Control-Allow-Origin":  forumOrigin,
				"Access-Control-Allow-Methods": "GET",
				"Access-Control-Allow-Headers": "authorization",
				"Access-Control-Max-Age":       "600",
			},
		},
		{name: "a bearer route takes GET only by default", route: "bearer", origin: forumOrigin, method: "POST", headers: "authorization", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			routes[tt.route].ServeHTTP(rec, preflight("https://api.abc.example/x", tt.origin, tt.method, tt.headers))
			assert.Equal(t, http.StatusNoContent, rec.Code, "a preflight is never 401 or 405")
			assert.Equal(t, tt.want, corsHeaders(rec.Header()))
			assert.Equal(t, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers", rec.Header().Get("Vary"))
			assert.Empty(t, rec.Body.String())
		})
	}
	assert.Zero(t, auth.calls.Load(), "no preflight reached the authenticator")
}

func TestCORSActualRequests(t *testing.T) {
	c := newTestCORS(t)
	generate, auth := newTestHandler(t, nil)
	h := c.GenerateSSOToken(generate)

	t.Run("allowed origin", func(t *testing.T) {
		r := newRequest(testBody)
		r.Header.Set("Origin", portalOrigin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, map[string]string{"Access-Control-Allow-Origin": portalOrigin}, corsHeaders(rec.Header()))
		assert.Equal(t, "Origin", rec.Header().Get("Vary"))
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	})
	t.Run("a failure carries the CORS headers, so the page can read the envelope", func(t *testing.T) {
		r := newRequest(testBody)
		r.Header.Set("Origin", portalOrigin)
		r.Header.Set("Authorization", "tok-expired")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, portalOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "Origin", rec.Header().Get("Vary"))
		assert.Contains(t, rec.Body.String(), `"ErrorCode":"token_expired"`)
	})
	t.Run("origin not on the list: answered, but nothing the browser lets the page read", func(t *testing.T) {
		r := newRequest(testBody)
		r.Header.Set("Origin", "https://evil.example")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusOK, rec.Code, "not a browser's call: no preflight guarded it, and the token is the credential")
		assert.Empty(t, corsHeaders(rec.Header()))
		assert.Equal(t, "Origin", rec.Header().Get("Vary"))
	})
	t.Run("no Origin: a server-to-server call", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest(testBody))
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, corsHeaders(rec.Header()))
		assert.Equal(t, "Origin", rec.Header().Get("Vary"), "Vary: Origin on every answer, so no cache serves one origin's answer to another")
	})
	t.Run("an OPTIONS that is not a preflight reaches the handler: 405", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodOptions, "/v2/get_sso_token", nil)
		r.Header.Set("Origin", portalOrigin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, portalOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
	})

	before := auth.calls.Load()
	for _, r := range []*http.Request{newRequest(testBody), preflight("/v2/get_sso_token", portalOrigin, "POST", "authorization")} {
		r.Header.Add("Origin", portalOrigin)
		r.Header.Add("Origin", "https://evil.example")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusBadRequest, rec.Code, "two Origin headers: refused, never the first wins")
		assert.Contains(t, rec.Body.String(), `"ErrorCode":"multiple_origin"`)
		assert.Empty(t, corsHeaders(rec.Header()))
		assert.Equal(t, "Origin", rec.Header().Get("Vary"))
	}
	assert.Equal(t, before, auth.calls.Load(), "two Origin headers never reach the authenticator")
}

func TestCORSCookieExchangeCredentials(t *testing.T) {
	c := newTestCORS(t)
	exchange, _ := newCookieSetup(t, CookieExchangeOptions{})
	h := c.CookieExchange(exchange)
	cookie := "AnswerHubCookieSSO=" + signedCookie(t, cookieSecret, time.Now().Add(time.Hour), "Use API")
	for _, tt := range []struct {
		origin string
		want   map[string]string
	}{
		{forumOrigin, map[string]string{"Access-Control-Allow-Origin": forumOrigin, "Access-Control-Allow-Credentials": "true"}},
		{portalOrigin, map[string]string{}}, // may call GenerateSSOToken with its own token, not spend the cookie
		{"https://evil.example", map[string]string{}},
	} {
		r := httptest.NewRequest(http.MethodPost, CookieSSOPath, nil)
		r.Header.Set("Origin", tt.origin)
		r.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusOK, rec.Code, tt.origin)
		assert.Equal(t, tt.want, corsHeaders(rec.Header()), tt.origin)
		assert.NotEqual(t, "*", rec.Header().Get("Access-Control-Allow-Origin"), "never * with credentials")
	}
}

func TestCORSPreflightBeforeTheGuard(t *testing.T) {
	c := newTestCORS(t)
	guard, err := NewGuard(GuardConfig{AllowedCIDRs: []string{"10.0.0.0/8"}})
	require.NoError(t, err)
	generate, auth := newTestHandler(t, func(cfg *Config) { cfg.Guard = guard })
	h := c.GenerateSSOToken(generate)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, preflight("/v2/get_sso_token", portalOrigin, "POST", "authorization"))
	assert.Equal(t, http.StatusNoContent, rec.Code, "the preflight is answered before the network guard")
	assert.Equal(t, portalOrigin, rec.Header().Get("Access-Control-Allow-Origin"))

	r := newRequest(testBody)
	r.Header.Set("Origin", portalOrigin)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusNotAcceptable, rec.Code, "the call itself still meets the guard")
	assert.Zero(t, auth.calls.Load())
}

func TestCORSMaxAge(t *testing.T) {
	for _, tt := range []struct {
		maxAge time.Duration
		want   string
	}{
		{0, "600"},
		{time.Hour, "3600"},
		{time.Millisecond, "0"},
	} {
		c, err := NewCORS(CORSConfig{AllowedOrigins: []string{portalOrigin}, MaxAge: tt.maxAge})
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		c.GenerateSSOToken(http.NotFoundHandler()).ServeHTTP(rec, preflight("/", portalOrigin, "POST", ""))
		assert.Equal(t, tt.want, rec.Header().Get("Access-Control-Max-Age"), tt.maxAge)
	}
}

func TestNewCORSOrigins(t *testing.T) {
	for _, tt := range []struct {
		origin, want, err string
	}{
		{origin: "https://www.abc.example", want: "https://www.abc.example"},
		{origin: "HTTPS://WWW.ABC.example", want: "https://www.abc.example"},
		{origin: "https://www.abc.example:443", want: "https://www.abc.example"},
		{origin: "http://127.0.0.1:80", want: "http://127.0.0.1"},
		{origin: "http://127.0.0.1:8082", want: "http://127.0.0.1:8082"},
		{origin: "https://abc.example:80", want: "https://abc.example:80"},
		{origin: "http://[::1]:8082", want: "http://[::1]:8082"},
		{origin: "*", err: "wildcard"},
		{origin: "https://*.abc.example", err: "wildcard"},
		{origin: "null", err: `"null"`},
		{origin: "https://www.abc.example/", err: "no path"},
		{origin: "https://www.abc.example/portal", err: "no path"},
		{origin: "https://www.abc.example?x", err: "no path"},
		{origin: "https://www.abc.example?", err: "no path"},
		{origin: "https://www.abc.example#", err: "no path"},
		{origin: "https://user@www.abc.example", err: "scheme://host"},
		{origin: "https://www.abc.example:", err: "scheme://host"},
		{origin: "ftp://www.abc.example", err: "http:// or https://"},
		{origin: "www.abc.example", err: "http:// or https://"},
		{origin: "https:www.abc.example", err: "scheme://host"},
		{origin: "", err: "http:// or https://"},
		{origin: "http://127.0.0.1:08082", err: "leading zeros"},
		{origin: "http://127.0.0.1:99999", err: "1 to 65535"},
		{origin: "http://127.0.0.1:0", err: "1 to 65535"},
		{origin: "https://www.abc.example.", err: "trailing dot"},
		{origin: "https://bücher.example", err: "punycode"},
		{origin: "https://xn--bcher-kva.example", want: "https://xn--bcher-kva.example"},
		{origin: "http://[fe80::1%25eth0]:8082", err: "zone"},
	} {
		t.Run(tt.origin, func(t *testing.T) {
			got, err := NormalizeOrigin(tt.origin)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				_, err = NewCORS(CORSConfig{AllowedOrigins: []string{portalOrigin, tt.origin}})
				assert.Error(t, err, "NewCORS refuses what NormalizeOrigin refuses")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := NewCORS(CORSConfig{})
	assert.ErrorContains(t, err, "needs AllowedOrigins or CookieExchangeOrigins")
	_, err = NewCORS(CORSConfig{AllowedOrigins: []string{portalOrigin}, CookieExchangeOrigins: []string{"*"}})
	assert.ErrorContains(t, err, "wildcard", "the cookie list is checked as strictly")
	_, err = NewCORS(CORSConfig{AllowedOrigins: []string{portalOrigin}, MaxAge: -time.Second})
	assert.ErrorContains(t, err, "MaxAge")

	// A configured origin with capitals matches what a browser sends.
	c, err := NewCORS(CORSConfig{AllowedOrigins: []string{"HTTPS://WWW.ABC.EXAMPLE:443"}})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	c.GenerateSSOToken(http.NotFoundHandler()).ServeHTTP(rec, preflight("/", portalOrigin, "POST", ""))
	assert.Equal(t, portalOrigin, rec.Header().Get("Access-Control-Allow-Origin"))

	// Only cookie-exchange origins: the other routes grant nothing.
	c, err = NewCORS(CORSConfig{CookieExchangeOrigins: []string{forumOrigin}})
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	c.GenerateSSOToken(http.NotFoundHandler()).ServeHTTP(rec, preflight("/", forumOrigin, "POST", ""))
	assert.Empty(t, corsHeaders(rec.Header()))
	rec = httptest.NewRecorder()
	c.CookieExchange(http.NotFoundHandler()).ServeHTTP(rec, preflight("/", forumOrigin, "POST", ""))
	assert.Equal(t, forumOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
}
