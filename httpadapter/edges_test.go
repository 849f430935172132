package httpadapter

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// The cases of this file are edges that decide by one character or one
// unit: each is beside its neighbour on the other side, so that a check
// moved by one (">=" for ">", "<=" for "<") or turned round fails here.

// TestBearerTokenSeparators: the scheme ends at the first space or tab,
// whichever comes first, and any run of spaces and tabs may follow it; a
// token that holds, or starts with, a space, tab or comma is one
// credential too many.
func TestBearerTokenSeparators(t *testing.T) {
	tests := []struct {
		name  string
		value string
		token string // "" is refused with code
		code  string
	}{
		{name: "space then tab", value: "Bearer \tabc", token: "abc"},
		{name: "tab then space", value: "Bearer\t abc", token: "abc"},
		{name: "tab only", value: "Bearer\tabc", token: "abc"},
		{name: "space inside the token after a tab", value: "Bearer\tab c", code: CodeInvalidAuthorization},
		{name: "tab inside the token after a space", value: "Bearer ab\tc", code: CodeInvalidAuthorization},
		{name: "a token that starts with a comma", value: "Bearer ,abc", code: CodeInvalidAuthorization},
		{name: "a list of two tokens", value: "Bearer abc,def", code: CodeInvalidAuthorization},
		{name: "a bare token with a tab", value: "abc\tdef", code: CodeInvalidAuthorization},
		{name: "the scheme and blanks only", value: "Bearer \t ", code: CodeMissingAuthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", tt.value)
			tok, err := BearerToken(r)
			if tt.code != "" {
				assert.Empty(t, tok)
				assert.Equal(t, tt.code, ssotoken.CodeOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.token, tok)
		})
	}
}

// TestFromCookieTokenChars: a cookie's value is the token as it is; a
// quoted value that starts with a space or a comma is not one token.
func TestFromCookieTokenChars(t *testing.T) {
	ex := FromCookie("sso")
	for line, want := range map[string]string{
		`sso=abc`:    "abc",
		`sso="abc"`:  "abc",
		`sso=" abc"`: "",
		`sso=",abc"`: "",
		`sso="a,bc"`: "",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", line)
		tok, err := ex(httptest.NewRecorder(), r)
		if want == "" {
			assert.Equal(t, CodeInvalidAuthorization, ssotoken.CodeOf(err), "%s: %q", line, tok)
			continue
		}
		assert.NoError(t, err, line)
		assert.Equal(t, want, tok, line)
	}
}

// TestAuditWithOneHook: a Logger alone, without OnEvent, gets every
// call's record; OnEvent alone, without a Logger, every call's event; on
// each endpoint that takes them.
func TestAuditWithOneHook(t *testing.T) {
	logOnly := newAuditLog()
	h, _ := newTestHandler(t, func(c *Config) { c.Logger = logOnly.logger })
	h.ServeHTTP(httptest.NewRecorder(), newRequest(testBody))
	records, events, _ := logOnly.take(t)
	require.Len(t, records, 1, "a Logger without OnEvent still logs")
	assert.Equal(t, "issued", records[0]["outcome"])
	assert.Empty(t, events)

	audit := newAuditLog()
	h, _ = newTestHandler(t, func(c *Config) { c.OnEvent = audit.onEvent })
	h.ServeHTTP(httptest.NewRecorder(), newRequest(testBody))
	h.ServeHTTP(httptest.NewRecorder(), newRequest(`{"CIINo":"1"`))
	_, events, text := audit.take(t)
	assert.Empty(t, text, "no Logger, no record")
	require.Len(t, events, 2)
	assert.Equal(t, http.StatusOK, events[0].Status)
	assert.NotEmpty(t, events[0].TokenRefNo)
	assert.Equal(t, CodeMalformedBody, events[1].Code)

	auth := ssotoken.AuthenticatorFunc(func(context.Context, string) (*ssotoken.Principal, error) {
		return &ssotoken.Principal{Subject: "u"}, nil
	})
	mw := RequireBearer(auth, BearerOptions{OnEvent: audit.onEvent, AuditSuccess: true})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	mw.ServeHTTP(httptest.NewRecorder(), r) // no token: refused
	r.Header.Set("Authorization", "Bearer abc")
	mw.ServeHTTP(httptest.NewRecorder(), r)
	_, events, _ = audit.take(t)
	require.Len(t, events, 2)
	assert.Equal(t, CodeMissingAuthorization, events[0].Code)
	assert.Equal(t, http.StatusOK, events[1].Status)
}

// TestClientRemoteErrorText: a remote's ErrorCode is kept when it is one
// of ours in form (lowercase, digits, underscores, at most 64 bytes),
// else replaced by one made of the status; its ReturnMessage is kept, cut
// to 200 bytes and without control characters, or, when empty, replaced
// by one made of the status.
func TestClientRemoteErrorText(t *testing.T) {
	long := strings.Repeat("m", 200)
	tests := []struct {
		name     string
		status   int
		code     string
		msg      string
		wantCode string
		wantMsg  string
	}{
		{name: "a code of 64 bytes", status: 403, code: strings.Repeat("a", 64), msg: "no", wantCode: strings.Repeat("a", 64), wantMsg: "no"},
		{name: "a code of 65 bytes", status: 403, code: strings.Repeat("a", 65), msg: "no", wantCode: "remote_forbidden", wantMsg: "no"},
		{name: "a code with a capital", status: 403, code: "Forbidden", msg: "no", wantCode: "remote_forbidden", wantMsg: "no"},
		{name: "an empty message", status: 401, code: "token_expired", wantCode: "token_expired", wantMsg: "the issuer answered Unauthorized"},
		{name: "a message of 200 bytes", status: 400, code: "x", msg: long, wantCode: "x", wantMsg: long},
		{name: "a message of 201 bytes", status: 400, code: "x", msg: long + "!", wantCode: "x", wantMsg: long},
		{name: "control characters dropped", status: 400, code: "x", msg: "a\nb\x00c", wantCode: "x", wantMsg: "abc"},
		{name: "a message of control characters only", status: 502, code: "x", msg: "\r\n", wantCode: "x", wantMsg: "the issuer answered Bad Gateway"},
		{name: "a status without text", status: 599, wantCode: "remote_error", wantMsg: "the issuer answered "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, tt.status, ErrorResponse{ReturnMessage: tt.msg, ErrorCode: tt.code})
			}))
			defer srv.Close()
			c, err := NewClient(ClientConfig{BaseURL: srv.URL, ClientID: "cid", Token: func(context.Context) (string, error) { return "b", nil }})
			require.NoError(t, err)
			_, err = c.Issue(context.Background(), ssotoken.Request{CIINo: "1", LOBId: "01", Functionality: "D"})
			require.Error(t, err)
			assert.Equal(t, tt.wantCode, ssotoken.CodeOf(err))
			assert.Equal(t, tt.wantMsg, ssotoken.MessageOf(err))
		})
	}
}

// TestNormalizeOriginPorts: ports 1 and 65535 are the ends of the range.
func TestNormalizeOriginPorts(t *testing.T) {
	for origin, want := range map[string]string{
		"http://a.example:1":     "http://a.example:1",
		"http://a.example:65535": "http://a.example:65535",
		"http://a.example:2":     "http://a.example:2",
		"http://a.example:0":     "",
		"http://a.example:65536": "",
	} {
		got, err := NormalizeOrigin(origin)
		if want == "" {
			assert.ErrorContains(t, err, "1 to 65535", origin)
			continue
		}
		require.NoError(t, err, origin)
		assert.Equal(t, want, got)
	}
}

// TestGuardHostEdges: a Host that differs from its entry in spelling
// (case, trailing dot) still matches an entry with a port, through the
// normalized lookup; ports of five digits and ports with a 9 are ports;
// an entry or a Host without a name before its port is nothing.
func TestGuardHostEdges(t *testing.T) {
	g, err := NewGuard(GuardConfig{AllowedHosts: []string{"api.example.com", "admin.example.com:8443"}})
	require.NoError(t, err)
	for host, allowed := range map[string]bool{
		"ADMIN.example.com:8443":  true,
		"admin.example.com.:8443": true,
		"Admin.Example.Com:443":   false,
		"ADMIN.example.com":       false,
		"api.example.com:10443":   true,
		"api.example.com:65535":   true,
		"api.example.com:9999":    true,
		"api.example.com:90":      true,
		"api.example.com:123456":  false,
		"api.example.com:9a":      false,
		":443":                    false,
		":8443":                   false,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Host = host
		err := g.Check(r)
		if allowed {
			assert.NoError(t, err, host)
		} else {
			assert.Equal(t, CodeHostNotAllowed, ssotoken.CodeOf(err), host)
		}
	}
	for _, entry := range []string{":443", ":8443", ":"} {
		_, err := NewGuard(GuardConfig{AllowedHosts: []string{entry}})
		assert.Error(t, err, "an entry without a name: %q", entry)
	}
}

// TestGuardClientIPEmptyEntries: empty entries of X-Forwarded-For (a
// leading or doubled comma) are skipped, wherever they are.
func TestGuardClientIPEmptyEntries(t *testing.T) {
	g, err := NewGuard(GuardConfig{AllowedCIDRs: []string{"198.51.100.0/24"}, TrustedProxies: []string{"10.0.0.0/8"}})
	require.NoError(t, err)
	for _, xff := range []string{",198.51.100.7", " , 198.51.100.7", "198.51.100.7,", "192.0.2.1,,198.51.100.7", ",10.0.0.9,198.51.100.7,10.0.0.8"} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = "10.1.2.3:1"
		r.Header.Set("X-Forwarded-For", xff)
		ip, ok := g.ClientIP(r)
		require.True(t, ok, xff)
		assert.Equal(t, netip.MustParseAddr("198.51.100.7"), ip, xff)
		assert.NoError(t, g.Check(r), xff)
	}
}

// TestEventOutcomeAt500: 500 is the first status that is a failure of the
// service, not a refusal.
func TestEventOutcomeAt500(t *testing.T) {
	for status, want := range map[int]string{499: "refused", 500: "failed", 501: "failed", 502: "failed"} {
		assert.Equal(t, want, Event{Endpoint: EndpointGenerateSSOToken, Status: status}.Outcome(), "%d", status)
	}
}

// TestGuardIPv4MappedNetworks: an IPv4-mapped IPv6 network of /96 or
// longer is an IPv4 network (::ffff:0.0.0.0/96 is every IPv4 address); a
// shorter one is an IPv6 network, which admits no IPv4 client.
func TestGuardIPv4MappedNetworks(t *testing.T) {
	for _, tt := range []struct {
		cidr    string
		peer    string
		allowed bool
	}{
		{"::ffff:0.0.0.0/96", "203.0.113.7:1", true},
		{"::ffff:0.0.0.0/96", "[::ffff:198.51.100.1]:1", true},
		{"::ffff:0.0.0.0/95", "203.0.113.7:1", false},
		{"::ffff:203.0.113.0/120", "203.0.113.7:1", true},
		{"::ffff:203.0.113.7/128", "203.0.113.7:1", true},
		{"::ffff:203.0.113.7/128", "203.0.113.8:1", false},
	} {
		g, err := NewGuard(GuardConfig{AllowedCIDRs: []string{tt.cidr}})
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = tt.peer
		assert.Equal(t, tt.allowed, g.Check(r) == nil, "%s from %s", tt.cidr, tt.peer)
	}
}

// TestHandlerLimiterFailsAfterDeadline: a limiter that cannot decide is
// 502, unless the call's deadline passed meanwhile: then it is the call's
// timeout, 504, whatever the limiter's error says.
func TestHandlerLimiterFailsAfterDeadline(t *testing.T) {
	redisErr := errors.New("redis: read tcp 127.0.0.1:1: use of closed network connection")
	for _, tt := range []struct {
		name    string
		limiter limiterFunc
		status  int
		code    string
	}{
		{name: "fails before the deadline", limiter: func(context.Context, string) (bool, time.Duration, error) {
			return false, 0, redisErr
		}, status: http.StatusBadGateway, code: CodeLimiterUnavailable},
		{name: "fails after the deadline", limiter: func(ctx context.Context, _ string) (bool, time.Duration, error) {
			<-ctx.Done()
			return false, 0, redisErr
		}, status: http.StatusGatewayTimeout, code: ssotoken.CodeDeadlineExceeded},
		{name: "refuses", limiter: func(context.Context, string) (bool, time.Duration, error) {
			return false, 1500 * time.Millisecond, nil
		}, status: http.StatusTooManyRequests, code: CodeRateLimited},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, func(c *Config) { c.Timeout = 20 * time.Millisecond; c.Limiter = tt.limiter })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(testBody))
			assert.Equal(t, tt.status, rec.Code, rec.Body.String())
			assert.Equal(t, tt.code, decodeEnvelope(t, rec)["ErrorCode"])
		})
	}
}
