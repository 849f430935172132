package httpadapter

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// TestGuardForwardedHostTrustedProxy: behind a trusted proxy the host is
// the value that proxy appended to X-Forwarded-Host, the last one, whether
// the client's own value arrives in the same header line ("a, b") or in a
// line of its own; never the client's value, first or not. The request
// goes through the GenerateSSOToken handler, so the answer is the one a
// client sees (406 host_not_allowed or 200).
func TestGuardForwardedHostTrustedProxy(t *testing.T) {
	g, err := NewGuard(GuardConfig{AllowedHosts: []string{"api.example.com"}, TrustedProxies: []string{"10.0.0.0/8"}})
	require.NoError(t, err)
	h, _ := newTestHandler(t, func(c *Config) { c.Guard = g })

	tests := []struct {
		name    string
		peer    string
		lines   []string // X-Forwarded-Host header lines, in order
		allowed bool
	}{
		{name: "client's allowed host first, the proxy's appended: comma list", lines: []string{"api.example.com, evil.example"}},
		{name: "client's allowed host first, the proxy's appended: two lines", lines: []string{"api.example.com", "evil.example"}},
		{name: "client's forged host first, the proxy's allowed one last: comma list", lines: []string{"evil.example, api.example.com"}, allowed: true},
		{name: "client's forged host first, the proxy's allowed one last: two lines", lines: []string{"evil.example", "api.example.com"}, allowed: true},
		{name: "a list in the client's line, the proxy's in its own", lines: []string{"evil.example, api.example.com", "evil.example"}},
		{name: "no space after the comma", lines: []string{"evil.example,api.example.com"}, allowed: true},
		{name: "spaces around the proxy's value", lines: []string{"evil.example ,  api.example.com  "}, allowed: true},
		{name: "the client sent an empty value, the proxy appended the allowed host", lines: []string{",api.example.com"}, allowed: true},
		{name: "the proxy appended nothing after a comma", lines: []string{"api.example.com,"}},
		{name: "the proxy appended an empty line", lines: []string{"api.example.com", ""}},
		{name: "from an untrusted peer the header is ignored, Host decides", peer: "192.0.2.10:1", lines: []string{"evil.example"}, allowed: true},
		{name: "from an untrusted peer an allowed X-Forwarded-Host does not help", peer: "192.0.2.10:1", lines: []string{"api.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(testBody)
			r.RemoteAddr = "10.0.0.5:443" // the trusted proxy
			r.Host = "internal:8080"      // what the proxy connected to: not an allowed host
			if tt.peer != "" {
				r.RemoteAddr = tt.peer
				r.Host = "evil.example" // untrusted: Host is the client's, and decides
				if tt.allowed {
					r.Host = "api.example.com"
				}
			}
			r.Header["X-Forwarded-Host"] = tt.lines
			require.Equal(t, tt.allowed, g.Check(r) == nil, "Guard.Check")

			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if tt.allowed {
				assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				return
			}
			assert.Equal(t, http.StatusNotAcceptable, rec.Code, rec.Body.String())
			assert.Equal(t, CodeHostNotAllowed, decodeEnvelope(t, rec)["ErrorCode"])
			assert.Equal(t, CodeHostNotAllowed, ssotoken.CodeOf(g.Check(r)))
		})
	}
}
