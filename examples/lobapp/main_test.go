package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/ssotokentest"
)

const (
	testSecret = "lobapp's test secret, 32 bytes or more"
	// browserAccept is what Chromium sends when it navigates.
	browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestApp(t *testing.T) (*app, *clock, func(lob string) string) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	a, err := newApp(appConfig{secret: testSecret, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	iss := ssotokentest.NewIssuer(t, ssotokentest.Secret([]byte(testSecret)), ssotokentest.Clock(clk.now))
	issue := func(lob string) string {
		clk.add(time.Millisecond) // two tokens of one request in one millisecond are one token
		return iss.TokenNo(t, ssotoken.Request{CIINo: "10001XXX", LOBId: lob, Functionality: "D"})
	}
	return a, clk, issue
}

func post(a *app, token, accept string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/sso", strings.NewReader(url.Values{"TokenNo": {token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, r)
	return rec
}

func TestBrowserArrivesAndIsRefusedTheSecondTime(t *testing.T) {
	a, _, issue := newTestApp(t)
	tok := issue("XX")

	rec := post(a, tok, browserAccept)
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	assert.Equal(t, "/", rec.Header().Get("Location"), "on to the welcome page, so that a reload posts nothing")
	res := rec.Result()
	require.Len(t, res.Cookies(), 1)
	session := res.Cookies()[0]
	assert.Equal(t, sessionCookie, session.Name)
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, session.SameSite)

	home := httptest.NewRequest(http.MethodGet, "/", nil)
	home.AddCookie(session)
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, home)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), "Welcome, CIINo 10001XXX: you arrived at LOB XX for functionality D")

	rec = post(a, tok, browserAccept)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, `Bearer error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Contains(t, rec.Body.String(), "This TokenNo was already used")
	assert.Contains(t, rec.Body.String(), `<code id="code">token_replayed</code>`)
	assert.Empty(t, rec.Result().Cookies(), "no session for a refused token")
}

func TestBrowserRefusalPages(t *testing.T) {
	a, clk, issue := newTestApp(t)
	expired := issue("XX")
	clk.add(time.Hour + 31*time.Second) // past exp and the 30 s leeway
	for _, tt := range []struct {
		name, token, code, reason string
		status                    int
	}{
		{"expired", expired, "token_expired", "This TokenNo has expired.", 401},
		{"another LOB's", issue("01"), "wrong_lob", "This TokenNo was issued for another line of business.", 401},
		{"tampered", issue("XX") + "x", "bad_signature", "This TokenNo was not signed by the portal.", 401},
		{"none", "", "missing_authorization", "no TokenNo was sent", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(a, tt.token, browserAccept)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Body.String(), "You could not be signed in to LOB XX")
			assert.Contains(t, rec.Body.String(), `<code id="code">`+tt.code+`</code>`)
			assert.Contains(t, rec.Body.String(), tt.reason)
			if tt.token != "" {
				assert.NotContains(t, rec.Body.String(), tt.token[10:], "the page never shows the token")
			}
		})
	}
}

func TestAPIClientGetsJSON(t *testing.T) {
	a, _, issue := newTestApp(t)
	for _, accept := range []string{"", "*/*", "application/json", "application/json, text/html;q=0.5"} {
		t.Run(accept, func(t *testing.T) {
			tok := issue("XX")
			rec := post(a, tok, accept)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			var w welcome
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &w))
			assert.Equal(t, welcome{ReturnCode: 1, ReturnMessage: "Welcome", CIINo: "10001XXX", LOBId: "XX", Functionality: "D", Date: w.Date}, w, "no TokenRefNo: the document's claims carry no jti")
			assert.Regexp(t, `^2026-11-29T12:00:00\.\d{3}Z$`, w.Date)
			assert.Len(t, rec.Result().Cookies(), 1, "an API client gets the session cookie too")

			rec = post(a, tok, accept)
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Contains(t, rec.Body.String(), `"ErrorCode":"token_replayed"`)
		})
	}
}

func TestWantsHTML(t *testing.T) {
	for _, tt := range []struct {
		accept []string
		want   bool
	}{
		{[]string{browserAccept}, true},
		{[]string{"text/html"}, true},
		{[]string{"application/xhtml+xml"}, true},
		{[]string{"text/html;q=0.9, application/json"}, false},
		{[]string{"application/json;q=0.5, text/html"}, true},
		{[]string{"text/html;q=0"}, false},
		{[]string{"text/html;q=2"}, false},
		{[]string{"*/*"}, false},
		{[]string{"text/*"}, false},
		{nil, false},
		{[]string{"application/json", "text/html"}, true},
		{[]string{";;;, text/html"}, true},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, v := range tt.accept {
			r.Header.Add("Accept", v)
		}
		assert.Equal(t, tt.want, wantsHTML(r), "%q", tt.accept)
	}
}
