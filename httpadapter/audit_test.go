package httpadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/ssotoken"
)

// auditLog collects the audit records (JSON) and events of one or more
// endpoints, as one host's Logger and OnEvent would.
type auditLog struct {
	buf    bytes.Buffer
	logger *slog.Logger
	mu     sync.Mutex
	events []Event
}

func newAuditLog() *auditLog {
	a := &auditLog{}
	a.logger = slog.New(slog.NewJSONHandler(&syncWriter{w: &a.buf}, nil))
	return a
}

func (a *auditLog) onEvent(_ context.Context, e Event) {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
}

// take returns the records and events since the last take.
func (a *auditLog) take(t *testing.T) (records []map[string]any, events []Event, text string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	text = a.buf.String()
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		records = append(records, m)
	}
	events = a.events
	a.buf.Reset()
	a.events = nil
	return records, events, text
}

// check asserts exactly one record and one event, that agree, with the
// endpoint, outcome, status and code.
func (a *auditLog) check(t *testing.T, endpoint, outcome string, status int, code string) (map[string]any, Event, string) {
	t.Helper()
	records, events, text := a.take(t)
	require.Len(t, records, 1, "one record per call: %s", text)
	require.Len(t, events, 1, "one event per call")
	rec, ev := records[0], events[0]
	assert.Equal(t, endpoint, ev.Endpoint)
	assert.Equal(t, outcome, ev.Outcome())
	assert.Equal(t, status, ev.Status)
	assert.Equal(t, code, ev.Code)
	assert.Equal(t, endpoint, rec["endpoint"])
	assert.Equal(t, outcome, rec["outcome"])
	assert.EqualValues(t, status, rec["status"])
	assert.Equal(t, code, rec["error_code"])
	assert.Contains(t, rec, "latency")
	wantLevel := "INFO"
	if status >= 500 {
		wantLevel = "WARN"
	}
	assert.Equal(t, wantLevel, rec["level"])
	return rec, ev, text
}

// noCredential asserts that none of secrets appears in the logged text or
// in any field of the events.
func noCredential(t *testing.T, text string, events []Event, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		require.NotEmpty(t, s)
		assert.NotContains(t, text, s, "a credential in the audit record")
		for _, e := range events {
			for _, f := range []string{e.Endpoint, e.Code, e.ClientID, e.LOBId, e.Subject, e.TokenRefNo} {
				assert.NotContains(t, f, s, "a credential in an event")
			}
		}
	}
}

func TestCookieExchangeAudit(t *testing.T) {
	log := newAuditLog()
	h, _ := newCookieSetup(t, CookieExchangeOptions{
		AllowedOrigins: []string{"https://answers.example.com"},
		Logger:         log.logger, OnEvent: log.onEvent,
	})
	good := signedCookie(t, cookieSecret, time.Now().Add(time.Hour), "Use API")
	forged := signedCookie(t, []byte("not the cookie's secret, but 32 bytes"), time.Now().Add(time.Hour))
	expired := signedCookie(t, cookieSecret, time.Now().Add(-time.Hour))
	for _, tt := range []struct {
		name, method, cookie, origin string
		outcome                      string
		status                       int
		code                         string
	}{
		{name: "exchanged", cookie: good, outcome: "exchanged", status: 200},
		{name: "GET", method: http.MethodGet, cookie: good, outcome: "refused", status: 405, code: CodeMethodNotAllowed},
		{name: "no cookie", outcome: "refused", status: 400, code: cookiesso.CodeCookieMissing},
		{name: "forged", cookie: forged, outcome: "refused", status: 401, code: cookiesso.CodeCookieBadSignature},
		{name: "expired", cookie: expired, outcome: "refused", status: 401, code: cookiesso.CodeCookieExpired},
		{name: "other origin", cookie: good, origin: "https://evil.example", outcome: "refused", status: 403, code: CodeOriginNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(cmpOr(tt.method, http.MethodPost), CookieSSOPath, nil)
			r.RemoteAddr = "192.0.2.20:4000"
			if tt.cookie != "" {
				r.Header.Set("Cookie", "AnswerHubCookieSSO="+tt.cookie)
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			require.Equal(t, tt.status, w.Code, w.Body.String())
			rec, ev, text := log.check(t, EndpointCookieExchange, tt.outcome, tt.status, tt.code)
			assert.Equal(t, "CookieExchange", rec["msg"])
			assert.Equal(t, "192.0.2.20", rec["client_ip"])
			secrets := []string{good, forged, expired}
			if tt.status == 200 {
				var resp CookieResponse
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &resp))
				secrets = append(secrets, resp.JWT)
			}
			noCredential(t, text, []Event{ev}, secrets...)
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestRequireBearerAudit(t *testing.T) {
	auth := &fakeAuth{errors: map[string]error{
		"tok-no-scope":  ssotoken.NewError(ssotoken.ErrForbidden, ssotoken.CodeInsufficientScope, "the token lacks a required scope", nil),
		"tok-jwks-down": ssotoken.NewError(ssotoken.ErrUpstream, ssotoken.CodeKeysUnavailable, "the signing keys are not available", nil),
	}}
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, success := range []bool{false, true} {
		t.Run(map[bool]string{false: "refusals only", true: "with AuditSuccess"}[success], func(t *testing.T) {
			log := newAuditLog()
			h := RequireBearer(auth, BearerOptions{Logger: log.logger, OnEvent: log.onEvent, AuditSuccess: success})(next)
			for _, tt := range []struct {
				name, authz, outcome string
				status               int
				code                 string
			}{
				{name: "authenticated", authz: "Bearer " + testBearer, outcome: "authenticated", status: 200},
				{name: "missing", outcome: "refused", status: 401, code: CodeMissingAuthorization},
				{name: "forged", authz: "Bearer tok-forged", outcome: "refused", status: 401, code: ssotoken.CodeBadSignature},
				{name: "no scope", authz: "Bearer tok-no-scope", outcome: "refused", status: 403, code: ssotoken.CodeInsufficientScope},
				{name: "keys down", authz: "Bearer tok-jwks-down", outcome: "failed", status: 502, code: ssotoken.CodeKeysUnavailable},
				{name: "Basic", authz: "Basic dXNlcjpwYXNz", outcome: "refused", status: 401, code: CodeInvalidAuthorization},
			} {
				t.Run(tt.name, func(t *testing.T) {
					r := httptest.NewRequest(http.MethodGet, "/services/v2/user.json", nil)
					if tt.authz != "" {
						r.Header.Set("Authorization", tt.authz)
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if tt.status == 200 {
						require.Equal(t, http.StatusNoContent, w.Code)
						if !success {
							records, events, _ := log.take(t)
							assert.Empty(t, records, "a pass is not recorded without AuditSuccess")
							assert.Empty(t, events)
							return
						}
					} else {
						require.Equal(t, tt.status, w.Code)
					}
					rec, ev, text := log.check(t, EndpointBearer, tt.outcome, tt.status, tt.code)
					assert.Equal(t, "RequireBearer", rec["msg"])
					if tt.status == 200 {
						assert.Equal(t, "user-1", ev.Subject)
						assert.Equal(t, "user-1", rec["subject"])
					}
					noCredential(t, text, []Event{ev}, testBearer, "tok-forged", "tok-no-scope", "tok-jwks-down", "dXNlcjpwYXNz")
				})
			}
		})
	}

	// Passed without a credential: not an authentication, not recorded.
	log := newAuditLog()
	h := RequireBearer(auth, BearerOptions{Logger: log.logger, OnEvent: log.onEvent, AuditSuccess: true, CredentialsOptional: true, PassPreflight: true})(next)
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/forum", nil),
		func() *http.Request {
			r := httptest.NewRequest(http.MethodOptions, "/forum", nil)
			r.Header.Set("Origin", "https://answers.example.com")
			r.Header.Set("Access-Control-Request-Method", "GET")
			return r
		}(),
	} {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	records, events, _ := log.take(t)
	assert.Empty(t, records)
	assert.Empty(t, events)
}

// failingStore is a ReplayStore that cannot answer.
type failingStore struct{}

func (failingStore) Redeem(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("store down")
}

func TestRequireSSOTokenAudit(t *testing.T) {
	ring := newTestRing(t)
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, Now: time.Now, IncludeJTI: true})
	require.NoError(t, err)
	newVerifier := func(store ssotoken.ReplayStore) *ssotoken.Verifier {
		v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Replay: store})
		require.NoError(t, err)
		return v
	}
	issue := func(lob string) ssotoken.Response {
		resp, err := signer.Issue(context.Background(), ssotoken.Request{CIINo: "10001004", LOBId: lob, Functionality: "D"})
		require.NoError(t, err)
		return resp
	}
	log := newAuditLog()
	opts := SSOTokenOptions{Logger: log.logger, OnEvent: log.onEvent}
	landing := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusSeeOther) })
	h := RequireSSOToken(newVerifier(ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{})), opts)(landing)
	down := RequireSSOToken(newVerifier(failingStore{}), opts)(landing)

	post := func(h http.Handler, token string) *httptest.ResponseRecorder {
		form := url.Values{}
		if token != "" {
			form.Set("TokenNo", token)
		}
		r := httptest.NewRequest(http.MethodPost, "/sso", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	first, other, third := issue("01"), issue("02"), issue("01")
	tokens := []string{first.TokenNo, other.TokenNo, third.TokenNo}
	for _, tt := range []struct {
		name    string
		h       http.Handler
		token   string
		outcome string
		status  int
		code    string
		ref     string
	}{
		{name: "accepted", h: h, token: first.TokenNo, outcome: "accepted", status: 200, ref: first.TokenRefNo},
		{name: "replayed", h: h, token: first.TokenNo, outcome: "refused", status: 401, code: ssotoken.CodeTokenReplayed},
		{name: "another LOB's", h: h, token: other.TokenNo, outcome: "refused", status: 401, code: ssotoken.CodeWrongLOB},
		{name: "forged", h: h, token: third.TokenNo[:len(third.TokenNo)-4] + "AAAA", outcome: "refused", status: 401, code: ssotoken.CodeBadSignature},
		{name: "no token", h: h, outcome: "refused", status: 401, code: CodeMissingAuthorization},
		{name: "store down", h: down, token: third.TokenNo, outcome: "failed", status: 502, code: ssotoken.CodeReplayStore},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := post(tt.h, tt.token)
			want := tt.status
			if want == 200 {
				want = http.StatusSeeOther // the landing's own
			}
			require.Equal(t, want, w.Code, w.Body.String())
			rec, ev, text := log.check(t, EndpointSSOToken, tt.outcome, tt.status, tt.code)
			assert.Equal(t, "RequireSSOToken", rec["msg"])
			if tt.status == 200 {
				assert.Equal(t, tt.ref, ev.TokenRefNo)
				assert.Equal(t, tt.ref, rec["token_ref_no"])
				assert.Equal(t, "01", ev.LOBId)
			}
			noCredential(t, text, []Event{ev}, append(tokens, "10001004")...) // no token, no CIINo
		})
	}
}

// One OnEvent function serves every endpoint: the Endpoint tells them
// apart.
func TestOneOnEventForEveryEndpoint(t *testing.T) {
	log := newAuditLog()
	gen, _ := newTestHandler(t, func(c *Config) { c.OnEvent = log.onEvent })
	gen.ServeHTTP(httptest.NewRecorder(), newRequest(testBody))
	cookie, auth := newCookieSetup(t, CookieExchangeOptions{OnEvent: log.onEvent})
	cookie.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, CookieSSOPath, nil))
	RequireBearer(auth, BearerOptions{OnEvent: log.onEvent})(http.NotFoundHandler()).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: newTestRing(t), LOBId: "01"})
	require.NoError(t, err)
	RequireSSOToken(v, SSOTokenOptions{OnEvent: log.onEvent})(http.NotFoundHandler()).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/sso", nil))

	_, events, _ := log.take(t)
	var got []string
	for _, e := range events {
		got = append(got, e.Endpoint+" "+e.Outcome())
	}
	assert.Equal(t, []string{
		"generate_sso_token issued", "cookie_exchange refused", "bearer refused", "sso_token refused",
	}, got)
}

func TestEventOutcome(t *testing.T) {
	for want, e := range map[string]Event{
		"issued":        {Endpoint: EndpointGenerateSSOToken, Status: 200},
		"exchanged":     {Endpoint: EndpointCookieExchange, Status: 200},
		"authenticated": {Endpoint: EndpointBearer, Status: 200},
		"accepted":      {Endpoint: EndpointSSOToken, Status: 200},
		"ok":            {Status: 200},
		"refused":       {Endpoint: EndpointBearer, Status: 401, Code: "bad_signature"},
		"failed":        {Endpoint: EndpointSSOToken, Status: 504, Code: "deadline_exceeded"},
	} {
		assert.Equal(t, want, e.Outcome(), "%+v", e)
	}
}

// Without Logger and OnEvent the middlewares do no audit work at all:
// the bearer path allocates no more than it did.
func TestRequireBearerNoAuditNoAllocs(t *testing.T) {
	p := &ssotoken.Principal{Subject: "user-1"}
	auth := ssotoken.AuthenticatorFunc(func(context.Context, string) (*ssotoken.Principal, error) { return p, nil })
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer abc")
	w := httptest.NewRecorder()
	plain := RequireBearer(auth, BearerOptions{})(next)
	audited := RequireBearer(auth, BearerOptions{OnEvent: func(context.Context, Event) {}})(next)
	base := testing.AllocsPerRun(100, func() { plain.ServeHTTP(w, r) })
	withHook := testing.AllocsPerRun(100, func() { audited.ServeHTTP(w, r) })
	assert.Equal(t, base, withHook, "a pass without AuditSuccess records nothing")
}
