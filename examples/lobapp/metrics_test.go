package main

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/ssotokentest"
)

// TestRedemptionsCountedAndAudited: each redemption is one audit record
// and is counted by outcome and code, and by its result in the replay
// store.
func TestRedemptionsCountedAndAudited(t *testing.T) {
	var logs bytes.Buffer
	m := newMetrics()
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	a, err := newApp(appConfig{secret: testSecret, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now,
		logger: slog.New(slog.NewJSONHandler(&logs, nil)), metrics: m})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	iss := ssotokentest.NewIssuer(t, ssotokentest.Secret([]byte(testSecret)), ssotokentest.Clock(clk.now))
	tok := iss.TokenNo(t, ssotoken.Request{CIINo: "10001XXX", LOBId: "XX", Functionality: "D"})

	assert.Equal(t, http.StatusOK, post(a, tok, "").Code)
	assert.Equal(t, http.StatusUnauthorized, post(a, tok, "").Code)
	assert.Equal(t, http.StatusUnauthorized, post(a, tok[:len(tok)-4]+"AAAA", "").Code)

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := rec.Body.String()
	for _, line := range []string{
		`ssokit_requests_total{code="none",endpoint="sso_token",outcome="accepted"} 1`,
		`ssokit_requests_total{code="token_replayed",endpoint="sso_token",outcome="refused"} 1`,
		`ssokit_requests_total{code="bad_signature",endpoint="sso_token",outcome="refused"} 1`,
		`ssokit_request_duration_seconds_count{endpoint="sso_token"} 3`,
		`ssokit_sso_redemptions_total{result="accepted"} 1`,
		`ssokit_sso_redemptions_total{result="replayed"} 1`,
		`ssokit_sso_redemptions_total{result="store_full"} 0`,
		`ssokit_sso_redemptions_total{result="caller_limited"} 0`,
	} {
		assert.Contains(t, text, line+"\n")
	}
	assert.Equal(t, 3, strings.Count(logs.String(), `"msg":"RequireSSOToken"`), logs.String())
	assert.NotContains(t, logs.String(), tok)
	assert.NotContains(t, text, "10001XXX")
}

// TestCallerLimitedCounted: a CIINo over its share of the memory replay
// store is counted as caller_limited, and its refusal as too_many_tokens;
// a result or code this lobapp does not know is counted as "other", so
// that the label sets stay bounded.
func TestCallerLimitedCounted(t *testing.T) {
	m := newMetrics()
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	a, err := newApp(appConfig{secret: testSecret, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now,
		replayEntries: 10, replayPerCaller: 2, metrics: m})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	signer := newSigner(t, clk)
	var codes []int
	for range 4 {
		codes = append(codes, post(a, issueTo(t, signer, "10001XXX", "D"), "").Code)
	}
	assert.Equal(t, []int{200, 200, 429, 429}, codes)
	assert.Equal(t, http.StatusOK, post(a, issueTo(t, signer, "20002XXX", "D"), "").Code, "another CIINo has its own share")
	m.onRedeem()(t.Context(), "a result of a later ssotoken")
	m.onEvent()(t.Context(), httpadapter.Event{Endpoint: httpadapter.EndpointSSOToken, Status: 400, Code: "a code of a later httpadapter"})

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := rec.Body.String()
	for _, line := range []string{
		`ssokit_sso_redemptions_total{result="accepted"} 3`,
		`ssokit_sso_redemptions_total{result="caller_limited"} 2`,
		`ssokit_sso_redemptions_total{result="other"} 1`,
		`ssokit_requests_total{code="too_many_tokens",endpoint="sso_token",outcome="refused"} 2`,
		`ssokit_requests_total{code="other",endpoint="sso_token",outcome="refused"} 1`,
	} {
		assert.Contains(t, text, line+"\n")
	}
	assert.Equal(t, len(redeemResults)+1, strings.Count(text, "ssokit_sso_redemptions_total{"), "one series per known result, and other")
}

// TestReadyz: ready with a shared secret; with a JWKS that cannot be
// reached, 503 and why.
func TestReadyz(t *testing.T) {
	get := func(a *app) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec
	}
	a, _, _ := newTestApp(t)
	rec := get(a)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "ready\n", rec.Body.String())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	down, err := newApp(appConfig{jwksURL: "http://" + addr + "/jwks.json", lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: time.Now})
	require.NoError(t, err)
	t.Cleanup(down.Close)
	ok := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rec = get(down); strings.Contains(rec.Body.String(), "connection refused") {
			ok = true
			break
		}
	}
	assert.True(t, ok, "the last fetch's result: %s", rec.Body.String())
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), "not ready: ")
}
