package httpadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

const (
	testBearer   = "eyJraWQiOiJ0ZXN0In0.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl" // what the fake authenticator accepts
	testClientID = "1RrLMyLrZGA="                                      // the document's sample id
	testBody     = `{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`
)

var testSecret = []byte("httpadapter test secret of 32+ bytes")

// fakeAuth accepts testBearer and answers any other token with the error
// registered for it, counting calls.
type fakeAuth struct {
	calls  atomic.Int32
	errors map[string]error
}

func (f *fakeAuth) Authenticate(_ context.Context, tok string) (*ssotoken.Principal, error) {
	f.calls.Add(1)
	if tok == testBearer {
		return &ssotoken.Principal{
			Subject: "user-1", Username: "jdoe", ClientID: "app", TokenUse: "access",
			Attributes: map[string]string{"custom:ciino": "10001004"},
		}, nil
	}
	if err, ok := f.errors[tok]; ok {
		return nil, err
	}
	return nil, ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature, "the token's signature is not valid", nil)
}

func newTestRing(t testing.TB) *ssotoken.Keyring {
	key, err := ssotoken.NewHMACKey("", testSecret)
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(t, err)
	return ring
}

// newTestSigner returns a Signer on the wall clock, injected: a Signer on
// its own clock waits out its start-up second.
func newTestSigner(t testing.TB, ring *ssotoken.Keyring) *ssotoken.Signer {
	s, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, Now: time.Now})
	require.NoError(t, err)
	return s
}

func newTestHandler(t testing.TB, mod func(*Config)) (*Handler, *fakeAuth) {
	t.Helper()
	auth := &fakeAuth{errors: map[string]error{
		"tok-expired":   ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeTokenExpired, "the token has expired", nil),
		"tok-wrong-iss": ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeWrongIssuer, "the token's issuer is not accepted", nil),
		"tok-no-scope":  ssotoken.NewError(ssotoken.ErrForbidden, ssotoken.CodeInsufficientScope, "the token lacks a required scope", nil),
		"tok-jwks-down": ssotoken.NewError(ssotoken.ErrUpstream, "jwks_unavailable", "the signing keys are not available", nil),
		"tok-jwks-slow": ssotoken.Wrap(context.DeadlineExceeded),
	}}
	cfg := Config{
		Authenticator: auth,
		Issuer:        newTestSigner(t, newTestRing(t)),
		Clients: StaticRegistry{
			testClientID:   {LOBs: []string{"01", "03"}, AppClients: []string{"app"}},
			"other-client": {LOBs: []string{"02"}, AppClients: []string{"another-app"}},
		},
		CIINoClaim: "custom:ciino", // the fake principal's: 10001004, testBody's
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewHandler(cfg)
	require.NoError(t, err)
	return h, auth
}

// newRequest is the document's sample request.
func newRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://api.example.com/v2/get_sso_token", strings.NewReader(body))
	r.RemoteAddr = "192.0.2.10:51000"
	r.Header.Set("x-api-version", "1.0.0")
	r.Header.Set("x-lob-client-id", testClientID)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+testBearer)
	return r
}

func decodeEnvelope(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

func TestHandlerSuccess(t *testing.T) {
	ring := newTestRing(t)
	h, _ := newTestHandler(t, func(c *Config) { c.Issuer = newTestSigner(t, ring) })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(testBody))

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))

	var resp ssotoken.Response
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	assert.Equal(t, 1, resp.ReturnCode)
	assert.Equal(t, "Token Generated successfully", resp.ReturnMessage)
	assert.True(t, ssotoken.ValidRefNo(resp.TokenRefNo))
	assert.Equal(t, []string{"ReturnCode", "ReturnMessage", "TokenNo", "TokenRefNo"}, keys(decodeEnvelope(t, rec)))

	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01"})
	require.NoError(t, err)
	c, err := v.Verify(context.Background(), resp.TokenNo)
	require.NoError(t, err)
	assert.Equal(t, "10001004", c.CIINo)
	assert.Len(t, resp.TokenRefNo, ssotoken.RefNoLen)
	assert.Equal(t, strconv.FormatInt(c.IssuedAt, 10), resp.TokenRefNo[:10], "the reference starts with the second of iat")
	assert.Empty(t, c.ID, "the document's claims carry no jti")
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestHandlerErrorTable has one case per row of the GenerateSSOToken
// document's error table, plus 405 and 413 and the rows of our own.
func TestHandlerErrorTable(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	guard, err := NewGuard(GuardConfig{AllowedCIDRs: []string{"198.51.100.0/24"}, AllowedHosts: []string{"api.example.com"}})
	require.NoError(t, err)

	tests := []struct {
		name      string
		mod       func(*Config)
		req       func(*http.Request)
		body      string
		status    int
		code      string
		challenge string // WWW-Authenticate, when one is expected
	}{
		{name: "401 Cognito token expired", req: bearer("tok-expired"), status: 401, code: ssotoken.CodeTokenExpired, challenge: `Bearer error="invalid_token"`},
		{name: "401 Authorization not included", req: del("Authorization"), status: 401, code: CodeMissingAuthorization, challenge: "Bearer"},
		{name: "401 Authorization blank", req: set("Authorization", "  "), status: 401, code: CodeMissingAuthorization, challenge: "Bearer"},
		{name: "401 Bearer with no token", req: set("Authorization", "Bearer "), status: 401, code: CodeMissingAuthorization, challenge: "Bearer"},
		{name: "401 incorrect token", req: bearer("garbage"), status: 401, code: ssotoken.CodeBadSignature, challenge: `Bearer error="invalid_token"`},
		{name: "401 mismatched issuer", req: bearer("tok-wrong-iss"), status: 401, code: ssotoken.CodeWrongIssuer, challenge: `Bearer error="invalid_token"`},
		{name: "401 Basic scheme", req: set("Authorization", "Basic dXNlcjpwYXNz"), status: 401, code: CodeInvalidAuthorization, challenge: `Bearer error="invalid_token"`},
		{name: "403 lacks the required permissions", req: bearer("tok-no-scope"), status: 403, code: ssotoken.CodeInsufficientScope, challenge: `Bearer error="insufficient_scope"`},
		{name: "403 unknown x-lob-client-id", req: set("x-lob-client-id", "stranger"), status: 403, code: CodeUnknownClient},
		{name: "403 x-lob-client-id of another app client", req: set("x-lob-client-id", "other-client"), body: `{"CIINo":"10001004","LOBId":"02","Functionality":"D"}`, status: 403, code: CodeUnknownClient},
		{name: "403 LOB not registered for the client", body: `{"CIINo":"10001004","LOBId":"02","Functionality":"D"}`, status: 403, code: CodeLOBNotAllowed},
		{name: "403 CIINo not the caller's", mod: func(c *Config) { c.CIINoClaim = "custom:ciino" }, body: `{"CIINo":"10001005","LOBId":"01","Functionality":"D"}`, status: 403, code: CodeCIINoMismatch},
		{name: "403 CIINo claim absent", mod: func(c *Config) { c.CIINoClaim = "custom:other" }, status: 403, code: CodeCIINoMismatch},
		{name: "406 IP restricted", mod: func(c *Config) { c.Guard = guard }, req: set("Host", "api.example.com"), status: 406, code: CodeIPNotAllowed},
		{name: "406 domain incorrect", mod: func(c *Config) { c.Guard = guard }, req: func(r *http.Request) { r.RemoteAddr = "198.51.100.7:1234"; r.Host = "evil.example" }, status: 406, code: CodeHostNotAllowed},
		{name: "400 x-lob-client-id not included", req: del("x-lob-client-id"), status: 400, code: CodeMissingClientID},
		{name: "400 Content-Type not included", req: del("Content-Type"), status: 400, code: CodeMissingContentType},
		{name: "400 x-api-version not included", req: del("x-api-version"), status: 400, code: CodeMissingAPIVersion},
		{name: "400 unsupported api version", req: set("x-api-version", "2.0.0"), status: 400, code: CodeUnsupportedAPIVersion},
		{name: "400 Content-Type not JSON", req: set("Content-Type", "text/plain"), status: 400, code: CodeBadContentType},
		{name: "400 two x-lob-client-id headers, the first registered", req: func(r *http.Request) { r.Header.Add("x-lob-client-id", "stranger") }, status: 400, code: CodeMultipleHeader},
		{name: "400 two x-api-version headers", req: func(r *http.Request) { r.Header.Add("x-api-version", "2.0.0") }, status: 400, code: CodeMultipleHeader},
		{name: "400 two Content-Type headers", req: func(r *http.Request) { r.Header.Add("Content-Type", "text/plain") }, status: 400, code: CodeMultipleHeader},
		{name: "400 two Authorization headers", req: func(r *http.Request) { r.Header.Add("Authorization", "Bearer "+testBearer) }, status: 400, code: CodeMultipleAuthorization},
		{name: "400 body not JSON", body: `CIINo=1`, status: 400, code: CodeMalformedBody},
		{name: "400 body an array", body: `[` + testBody + `]`, status: 400, code: CodeMalformedBody},
		{name: "400 two JSON objects", body: testBody + testBody, status: 400, code: CodeMalformedBody},
		{name: "400 empty body", body: " ", status: 400, code: CodeMalformedBody},
		{name: "400 CIINo a number", body: `{"CIINo":10001004,"LOBId":"01","Functionality":"D"}`, status: 400, code: CodeMalformedBody},
		{name: "400 Functionality missing", body: `{"CIINo":"10001004","LOBId":"01"}`, status: 400, code: "missing_functionality"},
		{name: "400 NUL in CIINo", body: `{"CIINo":"1000\u00001004","LOBId":"01","Functionality":"D"}`, status: 400, code: "invalid_ciino"},
		{name: "502 internal error of the issuer", mod: func(c *Config) {
			c.Issuer = ssotoken.IssuerFunc(func(context.Context, ssotoken.Request) (ssotoken.Response, error) {
				return ssotoken.Response{}, errors.New("kms: key disabled, secret=hunter2")
			})
		}, status: 502, code: ssotoken.CodeInternal},
		{name: "502 remote issuer refused our own credential", mod: func(c *Config) {
			c.Issuer = ssotoken.IssuerFunc(func(context.Context, ssotoken.Request) (ssotoken.Response, error) {
				return ssotoken.Response{}, ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeTokenExpired, "the token has expired", nil)
			})
		}, status: 502, code: CodeIssuerRefused},
		{name: "502 remote issuer relays a 405", mod: func(c *Config) {
			c.Issuer = ssotoken.IssuerFunc(func(context.Context, ssotoken.Request) (ssotoken.Response, error) {
				return ssotoken.Response{}, ssotoken.NewError(ssotoken.ErrBadRequest, CodeMethodNotAllowed, "method not allowed", nil)
			})
		}, status: 502, code: CodeIssuerRefused},
		{name: "502 signing keys unavailable", req: bearer("tok-jwks-down"), status: 502, code: "jwks_unavailable"},
		{name: "502 authenticator that returns no principal", mod: func(c *Config) {
			c.Authenticator = ssotoken.AuthenticatorFunc(func(context.Context, string) (*ssotoken.Principal, error) { return nil, nil })
		}, status: 502, code: ssotoken.CodeInternal},
		{name: "502 registry down", mod: func(c *Config) { c.Clients = failingRegistry{} }, status: 502, code: ssotoken.CodeInternal},
		{name: "504 authenticator past its deadline", req: bearer("tok-jwks-slow"), status: 504, code: ssotoken.CodeDeadlineExceeded},
		{name: "504 issuer that honours its context", mod: func(c *Config) {
			c.Timeout = 20 * time.Millisecond
			c.Issuer = ssotoken.IssuerFunc(func(ctx context.Context, _ ssotoken.Request) (ssotoken.Response, error) {
				<-ctx.Done()
				return ssotoken.Response{}, ctx.Err()
			})
		}, status: 504, code: ssotoken.CodeDeadlineExceeded},
		{name: "504 issuer that ignores its context, abandoned", mod: func(c *Config) {
			c.Timeout = 20 * time.Millisecond
			c.Issuer = AbandonOnDeadline(ssotoken.IssuerFunc(func(context.Context, ssotoken.Request) (ssotoken.Response, error) {
				<-hang
				return ssotoken.Response{}, nil
			}))
		}, status: 504, code: ssotoken.CodeDeadlineExceeded},
		{name: "405 GET", req: func(r *http.Request) { r.Method = http.MethodGet }, status: 405, code: CodeMethodNotAllowed},
		{name: "413 body over the limit", mod: func(c *Config) { c.MaxBodyBytes = 64 }, body: `{"CIINo":"` + strings.Repeat("1", 100) + `","LOBId":"01","Functionality":"D"}`, status: 413, code: CodeBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, tt.mod)
			body := tt.body
			if body == "" {
				body = testBody
			}
			r := newRequest(body)
			if tt.req != nil {
				tt.req(r)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)

			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			env := decodeEnvelope(t, rec)
			assert.Equal(t, float64(0), env["ReturnCode"])
			assert.Equal(t, tt.code, env["ErrorCode"])
			assert.NotEmpty(t, env["ReturnMessage"])
			assert.NotContains(t, env, "TokenNo")
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			if tt.status == 405 {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
			assert.NotContains(t, rec.Body.String(), "hunter2")
			assert.NotContains(t, rec.Body.String(), testBearer)
		})
	}
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
func set(k, v string) func(*http.Request) {
	return func(r *http.Request) {
		if k == "Host" {
			r.Host = v
		}
		r.Header.Set(k, v)
	}
}
func del(k string) func(*http.Request) { return func(r *http.Request) { r.Header.Del(k) } }

type failingRegistry struct{}

func (failingRegistry) LOBs(context.Context, string, *ssotoken.Principal) ([]string, bool, error) {
	return nil, false, errors.New("registry: connection refused")
}

func TestHandlerCheckOrder(t *testing.T) {
	guard, err := NewGuard(GuardConfig{AllowedCIDRs: []string{"198.51.100.0/24"}})
	require.NoError(t, err)
	tests := []struct {
		name      string
		mod       func(*Config)
		req       func(*http.Request)
		body      string
		code      string
		authCalls int32
	}{
		{name: "method before everything", mod: func(c *Config) { c.Guard = guard }, req: func(r *http.Request) { r.Method = http.MethodPut; r.Header = http.Header{} }, code: CodeMethodNotAllowed},
		{name: "guard before headers", mod: func(c *Config) { c.Guard = guard }, req: func(r *http.Request) { r.Header = http.Header{} }, code: CodeIPNotAllowed},
		{name: "headers before the token", req: func(r *http.Request) { r.Header.Del("x-api-version"); r.Header.Set("Authorization", "Bearer bad") }, code: CodeMissingAPIVersion},
		{name: "the token before the client", req: func(r *http.Request) {
			r.Header.Set("x-lob-client-id", "stranger")
			r.Header.Set("Authorization", "Bearer bad")
		}, code: ssotoken.CodeBadSignature, authCalls: 1},
		{name: "the token before the body", body: "not json", req: bearer("bad"), code: ssotoken.CodeBadSignature, authCalls: 1},
		{name: "the client before the body", body: "not json", req: set("x-lob-client-id", "stranger"), code: CodeUnknownClient, authCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, auth := newTestHandler(t, tt.mod)
			body := tt.body
			if body == "" {
				body = testBody
			}
			r := newRequest(body)
			tt.req(r)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			assert.Equal(t, tt.code, decodeEnvelope(t, rec)["ErrorCode"])
			assert.Equal(t, tt.authCalls, auth.calls.Load(), "authenticator calls")
		})
	}
}

func TestHandlerAcceptsDocumentVariants(t *testing.T) {
	tests := []struct {
		name string
		req  func(*http.Request)
	}{
		{"bare token as in the JavaScript sample", set("Authorization", testBearer)},
		{"lower-case bearer", set("Authorization", "bearer "+testBearer)},
		{"upper-case BEARER and extra spaces", set("Authorization", "BEARER   "+testBearer+" ")},
		{"charset parameter", set("Content-Type", "application/json; charset=utf-8")},
		{"header names in any case", func(r *http.Request) {
			r.Header = http.Header{}
			for k, v := range map[string]string{"X-API-VERSION": "1.0.0", "X-Lob-Client-Id": testClientID, "content-type": "application/json", "AUTHORIZATION": "Bearer " + testBearer} {
				r.Header.Add(k, v) // Add canonicalizes, as the server does
			}
		}},
		{"unknown body fields are ignored", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"CIINo":"10001004","LOBId":"01","Functionality":"D","exp":99999999999,"aud":"x"}`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, nil)
			r := newRequest(testBody)
			tt.req(r)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		})
	}
}

func TestHandlerUnknownFieldsNeverReachTheToken(t *testing.T) {
	ring := newTestRing(t)
	h, _ := newTestHandler(t, func(c *Config) { c.Issuer = newTestSigner(t, ring) })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(`{"CIINo":"10001004","LOBId":"01","Functionality":"D","exp":99999999999,"iss":"evil","aud":"x"}`))
	require.Equal(t, http.StatusOK, rec.Code)
	var resp ssotoken.Response
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01"})
	require.NoError(t, err)
	c, err := v.Verify(context.Background(), resp.TokenNo)
	require.NoError(t, err)
	assert.Empty(t, c.Issuer)
	assert.Empty(t, c.Audience)
	assert.Equal(t, int64(3600), c.ExpiresAt-c.IssuedAt)
}

func TestHandlerAuditLogAndEvents(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	var events []Event
	h, _ := newTestHandler(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil))
		c.OnEvent = func(_ context.Context, e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	})

	ok := httptest.NewRecorder()
	h.ServeHTTP(ok, newRequest(testBody))
	require.Equal(t, http.StatusOK, ok.Code)
	var resp ssotoken.Response
	require.NoError(t, json.Unmarshal(ok.Body.Bytes(), &resp))

	bad := newRequest(testBody)
	bad.Header.Set("Authorization", "Bearer tok-expired")
	h.ServeHTTP(httptest.NewRecorder(), bad)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 2, "one record per call")
	var first, second map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &first))
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &second))
	assert.Equal(t, "issued", first["outcome"])
	assert.Equal(t, resp.TokenRefNo, first["token_ref_no"])
	assert.Equal(t, "01", first["lob_id"])
	assert.Equal(t, testClientID, first["client_id"])
	assert.Equal(t, "user-1", first["subject"])
	assert.Equal(t, "192.0.2.10", first["client_ip"])
	assert.Equal(t, "refused", second["outcome"])
	assert.Equal(t, ssotoken.CodeTokenExpired, second["error_code"])

	for _, secret := range []string{resp.TokenNo, testBearer, string(testSecret), "tok-expired"} {
		assert.NotContains(t, logs.String(), secret, "no credential in the log")
	}
	require.Len(t, events, 2)
	assert.Equal(t, 200, events[0].Status)
	assert.Equal(t, resp.TokenRefNo, events[0].TokenRefNo)
	assert.Equal(t, 401, events[1].Status)
	assert.Equal(t, ssotoken.CodeTokenExpired, events[1].Code)
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestHandlerConcurrent(t *testing.T) {
	// 200 tokens for one caller: more than the default issuing limit.
	h, _ := newTestHandler(t, func(c *Config) { c.InsecureNoIssueLimit = true })
	srv := httptest.NewServer(h)
	defer srv.Close()

	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for range 8 {
		wg.Go(func() {
			for range 25 {
				r, _ := http.NewRequest(http.MethodPost, srv.URL+"/v2/get_sso_token", strings.NewReader(testBody))
				r.Header = newRequest(testBody).Header.Clone()
				res, err := srv.Client().Do(r)
				if !assert.NoError(t, err) {
					return
				}
				var resp ssotoken.Response
				assert.NoError(t, json.NewDecoder(res.Body).Decode(&resp))
				res.Body.Close()
				assert.Equal(t, http.StatusOK, res.StatusCode)
				mu.Lock()
				assert.False(t, seen[resp.TokenRefNo])
				seen[resp.TokenRefNo] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, 200)
}

func TestNewHandlerErrors(t *testing.T) {
	auth := &fakeAuth{}
	signer := newTestSigner(t, newTestRing(t))
	resolver := func(context.Context, *ssotoken.Principal) (string, error) { return "10001004", nil }
	const claim = "custom:ciino"
	for name, tc := range map[string]struct {
		cfg  Config
		want string // in the error's message
	}{
		"no authenticator":                      {Config{Issuer: signer, Clients: StaticRegistry{}, CIINoClaim: claim}, "Authenticator is required"},
		"no issuer":                             {Config{Authenticator: auth, Clients: StaticRegistry{}, CIINoClaim: claim}, "Issuer is required"},
		"no clients":                            {Config{Authenticator: auth, Issuer: signer, CIINoClaim: claim}, "Clients is required"},
		"negative body":                         {Config{Authenticator: auth, Issuer: signer, Clients: StaticRegistry{}, CIINoClaim: claim, MaxBodyBytes: -1}, "negative"},
		"nil *Signer, as from an ignored error": {Config{Authenticator: auth, Issuer: (*ssotoken.Signer)(nil), Clients: StaticRegistry{}, CIINoClaim: claim}, "Issuer is required"},
		"nil StaticRegistry":                    {Config{Authenticator: auth, Issuer: signer, Clients: StaticRegistry(nil), CIINoClaim: claim}, "Clients is required"},
		"registration without app clients":      {Config{Authenticator: auth, Issuer: signer, Clients: StaticRegistry{"c": {LOBs: []string{"01"}}}, CIINoClaim: claim}, "names no AppClients"},
		"registration without LOBs":             {Config{Authenticator: auth, Issuer: signer, Clients: StaticRegistry{"c": {AppClients: []string{"app"}}}, CIINoClaim: claim}, "has no LOB"},
		// The CIINo binding is the default: a Config must say how.
		"no CIINo binding": {Config{Authenticator: auth, Issuer: signer, Clients: StaticRegistry{}},
			`set Config.CIINoClaim to the token claim that holds it (e.g. "custom:ciino"), or Config.CIINoResolver`},
		"claim and resolver": {Config{Authenticator: auth, Issuer: signer, Clients: StaticRegistry{}, CIINoClaim: claim, CIINoResolver: resolver},
			"CIINoClaim or Config.CIINoResolver, not both"},
		"unbound and a claim": {Config{Authenticator: auth, Issuer: signer, Clients: StaticRegistry{}, CIINoClaim: claim, InsecureUnboundCIINo: true},
			"InsecureUnboundCIINo cannot be combined"},
		"unbound and a resolver": {Config{Authenticator: auth, Issuer: signer, Clients: StaticRegistry{}, CIINoResolver: resolver, InsecureUnboundCIINo: true},
			"InsecureUnboundCIINo cannot be combined"},
	} {
		t.Run(name, func(t *testing.T) {
			h, err := NewHandler(tc.cfg)
			assert.Nil(t, h)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestNewHandlerCIINoModes: each of the three ways to configure the CIINo
// is accepted on its own.
func TestNewHandlerCIINoModes(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"claim": func(c *Config) { c.CIINoClaim = "custom:ciino" },
		"resolver": func(c *Config) {
			c.CIINoResolver = func(context.Context, *ssotoken.Principal) (string, error) { return "", nil }
		},
		"unbound": func(c *Config) { c.InsecureUnboundCIINo = true },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Authenticator: &fakeAuth{}, Issuer: newTestSigner(t, newTestRing(t)), Clients: StaticRegistry{}}
			mod(&cfg)
			h, err := NewHandler(cfg)
			require.NoError(t, err)
			assert.NotNil(t, h)
		})
	}
}

// TestHandlerCIINoBinding: the body's CIINo must be the caller's, by claim
// or by resolver; only InsecureUnboundCIINo lets any CIINo through.
func TestHandlerCIINoBinding(t *testing.T) {
	const other = `{"CIINo":"10001005","LOBId":"01","Functionality":"D"}`
	resolveTo := func(ciino string, err error) func(*Config) {
		return func(c *Config) {
			c.CIINoClaim = ""
			c.CIINoResolver = func(_ context.Context, p *ssotoken.Principal) (string, error) {
				if p == nil || p.Subject != "user-1" {
					return "", errors.New("resolver: not the authenticated principal")
				}
				return ciino, err
			}
		}
	}
	unbound := func(c *Config) { c.CIINoClaim = ""; c.InsecureUnboundCIINo = true }
	tests := []struct {
		name   string
		mod    func(*Config)
		body   string
		status int
		code   string
	}{
		{name: "claim: the caller's CIINo", body: testBody, status: 200},
		{name: "claim: another CIINo", body: other, status: 403, code: CodeCIINoMismatch},
		{name: "claim absent", mod: func(c *Config) { c.CIINoClaim = "custom:absent" }, body: testBody, status: 403, code: CodeCIINoMismatch},
		{name: "claim not a string", mod: func(c *Config) {
			c.CIINoClaim = "ciino"
			c.Authenticator = ssotoken.AuthenticatorFunc(func(context.Context, string) (*ssotoken.Principal, error) {
				return &ssotoken.Principal{Subject: "user-1", ClientID: "app", Claims: []byte(`{"ciino":10001004}`)}, nil
			})
		}, body: testBody, status: 403, code: CodeCIINoMismatch},
		{name: "claim in the raw claim set", mod: func(c *Config) {
			c.CIINoClaim = "ciino"
			c.Authenticator = ssotoken.AuthenticatorFunc(func(context.Context, string) (*ssotoken.Principal, error) {
				return &ssotoken.Principal{Subject: "user-1", ClientID: "app", Claims: []byte(`{"ciino":"10001004"}`)}, nil
			})
		}, body: testBody, status: 200},
		{name: "claim empty", mod: func(c *Config) {
			c.Authenticator = ssotoken.AuthenticatorFunc(func(context.Context, string) (*ssotoken.Principal, error) {
				return &ssotoken.Principal{Subject: "user-1", ClientID: "app", Attributes: map[string]string{"custom:ciino": ""}}, nil
			})
		}, body: testBody, status: 403, code: CodeCIINoMismatch},
		{name: "resolver: the caller's CIINo", mod: resolveTo("10001004", nil), body: testBody, status: 200},
		{name: "resolver: another CIINo", mod: resolveTo("10001004", nil), body: other, status: 403, code: CodeCIINoMismatch},
		{name: "resolver: no CIINo for the caller", mod: resolveTo("", nil), body: testBody, status: 403, code: CodeCIINoMismatch},
		{name: "resolver: store down", mod: resolveTo("", errors.New("customers: connection refused, password=hunter2")), body: testBody, status: 502, code: ssotoken.CodeInternal},
		{name: "resolver: a refusal of the taxonomy keeps its kind", mod: resolveTo("", ssotoken.NewError(ssotoken.ErrForbidden, "no_customer", "the caller is no customer", nil)), body: testBody, status: 403, code: "no_customer"},
		{name: "resolver: its own deadline", mod: resolveTo("", context.DeadlineExceeded), body: testBody, status: 504, code: ssotoken.CodeDeadlineExceeded},
		{name: "unbound: the caller's CIINo", mod: unbound, body: testBody, status: 200},
		{name: "unbound: another CIINo", mod: unbound, body: other, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, tt.mod)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(tt.body))
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status != http.StatusOK {
				assert.Equal(t, tt.code, decodeEnvelope(t, rec)["ErrorCode"])
			}
			assert.NotContains(t, rec.Body.String(), "hunter2")
		})
	}
}

// TestHandlerCIINoResolverContext: the resolver runs under the call's
// deadline, is answered 504 past it, and is not asked before the LOB is
// checked.
func TestHandlerCIINoResolverContext(t *testing.T) {
	var calls atomic.Int32
	var deadline time.Time
	var hasDeadline bool
	h, _ := newTestHandler(t, func(c *Config) {
		c.CIINoClaim = ""
		c.Timeout = 50 * time.Millisecond
		c.CIINoResolver = func(ctx context.Context, _ *ssotoken.Principal) (string, error) {
			calls.Add(1)
			deadline, hasDeadline = ctx.Deadline()
			<-ctx.Done() // a store that does not answer in time
			return "", ctx.Err()
		}
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(`{"CIINo":"10001004","LOBId":"02","Functionality":"D"}`))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Equal(t, CodeLOBNotAllowed, decodeEnvelope(t, rec)["ErrorCode"])
	assert.Zero(t, calls.Load(), "the resolver is not asked for a LOB the client may not request")

	start := time.Now()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(testBody))
	require.Equal(t, http.StatusGatewayTimeout, rec.Code, rec.Body.String())
	assert.Equal(t, ssotoken.CodeDeadlineExceeded, decodeEnvelope(t, rec)["ErrorCode"])
	assert.Equal(t, int32(1), calls.Load())
	require.True(t, hasDeadline, "the resolver gets the call's context")
	assert.WithinDuration(t, start.Add(50*time.Millisecond), deadline, 40*time.Millisecond)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// TestHandlerCIINoResolverLateAnswer: an answer that comes after the
// deadline is not used.
func TestHandlerCIINoResolverLateAnswer(t *testing.T) {
	h, _ := newTestHandler(t, func(c *Config) {
		c.CIINoClaim = ""
		c.Timeout = 20 * time.Millisecond
		c.CIINoResolver = func(ctx context.Context, _ *ssotoken.Principal) (string, error) {
			<-ctx.Done()
			return "10001004", nil // ignores its context's error
		}
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(testBody))
	assert.Equal(t, http.StatusGatewayTimeout, rec.Code, rec.Body.String())
}

// endless is a body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestHandlerEndlessBody: an endless chunked body is
// cut at the limit and answered 413, after reading at most the limit.
func TestHandlerEndlessBody(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	r, err := http.NewRequest(http.MethodPost, srv.URL+"/v2/get_sso_token", io.MultiReader(strings.NewReader("{"), endless{}))
	require.NoError(t, err)
	r.Header = newRequest(testBody).Header.Clone()
	r.ContentLength = -1 // chunked
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := srv.Client().Do(r.WithContext(ctx))
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
}

// TestHandlerSlowBodyTimesOut: the call's deadline bounds reading the body.
func TestHandlerSlowBodyTimesOut(t *testing.T) {
	h, _ := newTestHandler(t, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	srv := httptest.NewServer(h)
	defer srv.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = pw.Write([]byte(`{"CIINo":`)) }() // and then nothing
	r, err := http.NewRequest(http.MethodPost, srv.URL+"/v2/get_sso_token", pr)
	require.NoError(t, err)
	r.Header = newRequest(testBody).Header.Clone()
	start := time.Now()
	res, err := srv.Client().Do(r)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusGatewayTimeout, res.StatusCode)
	assert.Less(t, time.Since(start), 3*time.Second)
}

// Every JSON answer carries one Date, set by the handler in net/http's
// format, for a success and for a failure alike.
func TestHandlerDateHeader(t *testing.T) {
	h, _ := newTestHandler(t, func(c *Config) { c.Issuer = newTestSigner(t, newTestRing(t)) })
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		body   string
		status int
	}{
		{"success", testBody, http.StatusOK},
		{"failure", `{`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, srv.URL+"/v2/get_sso_token", strings.NewReader(tc.body))
			require.NoError(t, err)
			r.Header = newRequest(testBody).Header.Clone()
			before := time.Now().Truncate(time.Second)
			res, err := srv.Client().Do(r)
			require.NoError(t, err)
			res.Body.Close()
			after := time.Now()
			require.Equal(t, tc.status, res.StatusCode)
			require.Len(t, res.Header.Values("Date"), 1)
			date, err := http.ParseTime(res.Header.Get("Date"))
			require.NoError(t, err)
			assert.False(t, date.Before(before) || date.After(after), "%v not within [%v, %v]", date, before, after)
			assert.Equal(t, date.UTC().Format(http.TimeFormat), res.Header.Get("Date"))
		})
	}
}

// A Date set before the handler writes (by a middleware) is kept.
func TestWriteErrorKeepsDate(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
	WriteError(rec, ErrMethodNotAllowed)
	assert.Equal(t, []string{"Mon, 02 Jan 2006 15:04:05 GMT"}, rec.Header().Values("Date"))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}
