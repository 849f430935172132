package httpadapter

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

func TestGuardClientIP(t *testing.T) {
	g, err := NewGuard(GuardConfig{
		AllowedCIDRs:   []string{"198.51.100.0/24", "2001:db8:1::/48", "203.0.113.9"},
		TrustedProxies: []string{"10.0.0.0/8", "fd00::/8"},
	})
	require.NoError(t, err)

	tests := []struct {
		name    string
		peer    string
		headers map[string][]string
		ip      string // "" when no address can be told
		allowed bool
	}{
		{name: "direct allowed peer", peer: "198.51.100.7:4000", ip: "198.51.100.7", allowed: true},
		{name: "direct refused peer", peer: "192.0.2.1:4000", ip: "192.0.2.1"},
		{name: "bare address entry", peer: "203.0.113.9:1", ip: "203.0.113.9", allowed: true},
		{name: "IPv6 peer", peer: "[2001:db8:1::5]:443", ip: "2001:db8:1::5", allowed: true},
		{name: "IPv4-mapped IPv6 peer", peer: "[::ffff:198.51.100.7]:443", ip: "198.51.100.7", allowed: true},
		{name: "spoofed X-Forwarded-For from an untrusted peer", peer: "192.0.2.1:4000", headers: map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, ip: "192.0.2.1"},
		{name: "spoofed X-Real-IP", peer: "192.0.2.1:4000", headers: map[string][]string{"X-Real-Ip": {"198.51.100.7"}}, ip: "192.0.2.1"},
		{name: "spoofed Forwarded", peer: "192.0.2.1:4000", headers: map[string][]string{"Forwarded": {"for=198.51.100.7"}}, ip: "192.0.2.1"},
		{name: "trusted proxy without XFF", peer: "10.1.2.3:4000", ip: "10.1.2.3"},
		{name: "trusted proxy forwards an allowed client", peer: "10.1.2.3:4000", headers: map[string][]string{"X-Forwarded-For": {"198.51.100.7"}}, ip: "198.51.100.7", allowed: true},
		{name: "client prepends a spoofed address", peer: "10.1.2.3:4000", headers: map[string][]string{"X-Forwarded-For": {"198.51.100.7, 192.0.2.1"}}, ip: "192.0.2.1"},
		{name: "chain of trusted proxies is walked from the right", peer: "10.1.2.3:4000", headers: map[string][]string{"X-Forwarded-For": {"192.0.2.55, 198.51.100.7, 10.9.9.9, fd00::1"}}, ip: "198.51.100.7", allowed: true},
		{name: "several XFF headers are one list", peer: "10.1.2.3:4000", headers: map[string][]string{"X-Forwarded-For": {"192.0.2.1", "198.51.100.7"}}, ip: "198.51.100.7", allowed: true},
		{name: "every hop trusted", peer: "10.1.2.3:4000", headers: map[string][]string{"X-Forwarded-For": {"10.0.0.1, 10.0.0.2"}}, ip: "10.0.0.1"},
		{name: "garbage XFF entry fails closed", peer: "10.1.2.3:4000", headers: map[string][]string{"X-Forwarded-For": {"198.51.100.7, not-an-ip"}}},
		{name: "unparsable peer", peer: "@invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = tt.peer
			for k, v := range tt.headers {
				r.Header[k] = v
			}
			ip, ok := g.ClientIP(r)
			if tt.ip == "" {
				assert.False(t, ok)
			} else {
				require.True(t, ok)
				assert.Equal(t, netip.MustParseAddr(tt.ip), ip)
			}
			err := g.Check(r)
			if tt.allowed {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ssotoken.ErrNotAcceptable)
				assert.Equal(t, CodeIPNotAllowed, ssotoken.CodeOf(err))
			}
		})
	}
}

// TestGuardKeepsIPv4AndIPv6Apart: an IPv6 network never admits an IPv4
// client, and an IPv4-mapped network counts as IPv4.
func TestGuardKeepsIPv4AndIPv6Apart(t *testing.T) {
	for _, tt := range []struct {
		cidrs   []string
		peer    string
		allowed bool
	}{
		{[]string{"::/0"}, "203.0.113.7:1", false},
		{[]string{"::/64"}, "203.0.113.7:1", false},
		{[]string{"::/0"}, "[2001:db8::1]:1", true},
		{[]string{"::ffff:203.0.113.0/120"}, "203.0.113.7:1", true},
		{[]string{"::ffff:203.0.113.0/120"}, "203.0.114.7:1", false},
		{[]string{"203.0.113.0/24"}, "[::ffff:203.0.113.7]:1", true},
		{[]string{"0.0.0.0/0"}, "[2001:db8::1]:1", false},
	} {
		g, err := NewGuard(GuardConfig{AllowedCIDRs: tt.cidrs})
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = tt.peer
		assert.Equal(t, tt.allowed, g.Check(r) == nil, "%v from %s", tt.cidrs, tt.peer)
	}
}

func TestGuardHosts(t *testing.T) {
	g, err := NewGuard(GuardConfig{
		AllowedHosts:   []string{"API.example.com", "admin.example.com:8443", "[2001:db8::1]"},
		TrustedProxies: []string{"10.0.0.0/8"},
	})
	require.NoError(t, err)
	tests := []struct {
		name    string
		peer    string
		host    string
		xfh     string
		allowed bool
	}{
		{name: "exact", host: "api.example.com", allowed: true},
		{name: "mixed case", host: "Api.Example.COM", allowed: true},
		{name: "trailing dot", host: "api.example.com.", allowed: true},
		{name: "any port for an entry without one", host: "api.example.com:8080", allowed: true},
		{name: "trailing dot and port", host: "api.example.com.:443", allowed: true},
		{name: "the entry's port", host: "admin.example.com:8443", allowed: true},
		{name: "another port", host: "admin.example.com:443"},
		{name: "no port for an entry with one", host: "admin.example.com"},
		{name: "IPv6 literal", host: "[2001:db8::1]:443", allowed: true},
		{name: "suffix trick", host: "api.example.com.evil.example"},
		{name: "prefix trick", host: "evil-api.example.com"},
		{name: "empty", host: ""},
		{name: "X-Forwarded-Host from an untrusted peer is ignored", host: "evil.example", xfh: "api.example.com"},
		{name: "X-Forwarded-Host from an untrusted peer is ignored either way", host: "api.example.com", xfh: "evil.example", allowed: true},
		{name: "X-Forwarded-Host from a trusted proxy", peer: "10.0.0.5:1", host: "internal:8080", xfh: "api.example.com", allowed: true},
		{name: "trusted proxy forwards a wrong host", peer: "10.0.0.5:1", host: "api.example.com", xfh: "evil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = "192.0.2.1:1"
			if tt.peer != "" {
				r.RemoteAddr = tt.peer
			}
			r.Host = tt.host
			if tt.xfh != "" {
				r.Header.Set("X-Forwarded-Host", tt.xfh)
			}
			err := g.Check(r)
			if tt.allowed {
				assert.NoError(t, err)
			} else {
				assert.Equal(t, CodeHostNotAllowed, ssotoken.CodeOf(err))
			}
		})
	}
}

// TestGuardHostBrackets: brackets are only valid around an IPv6 literal
// (RFC 3986 section 3.2.2), and an IPv6 literal only in brackets, in Host
// and in a trusted proxy's X-Forwarded-Host alike.
func TestGuardHostBrackets(t *testing.T) {
	g, err := NewGuard(GuardConfig{
		AllowedHosts:   []string{"api.example.com", "[::1]", "2001:db8::1", "192.0.2.1", "[2001:db8::2]:8443"},
		TrustedProxies: []string{"10.0.0.0/8"},
	})
	require.NoError(t, err)
	tests := []struct {
		host    string
		allowed bool
	}{
		{"api.example.com", true},
		{"api.example.com:443", true},
		{"[api.example.com]", false},
		{"[api.example.com]:443", false},
		{"[API.example.com.]", false},
		{"[api.example.com", false},
		{"api.example.com]", false},
		{"api.example.com:", false},
		{"api.example.com:https", false},
		{"api.example.com:443:443", false},
		{"[::1]", true},
		{"[::1]:8443", true},
		{"[0:0::0:1]:8443", true}, // another spelling of ::1
		{"::1", false},
		{"::1:8443", false},
		{"[::1]8443", false},
		{"[::1]:", false},
		{"[::1]:x", false},
		{"[::1%25eth0]", false},
		{"[::1%eth0]", false},
		{"[[::1]]", false},
		{"[2001:db8::1]", true}, // allowed as a bare literal in the configuration
		{"[2001:DB8::1]:443", true},
		{"2001:db8::1", false},
		{"2001:db8::1:443", false},
		{"[2001:db8::2]:8443", true},
		{"[2001:db8::2]:443", false},
		{"[2001:db8::2]", false},
		{"192.0.2.1", true},
		{"192.0.2.1:8080", true},
		{"[192.0.2.1]", false},
		{"[192.0.2.1]:8080", false},
		{"[::ffff:192.0.2.1]", false}, // an IPv6 literal, not the IPv4 entry
		{"[v1.api]", false},
		{"[]", false},
		{"[]:443", false},
		{"", false},
	}
	for _, tt := range tests {
		for _, via := range []string{"Host", "X-Forwarded-Host"} {
			t.Run(via+" "+tt.host, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.RemoteAddr = "192.0.2.9:1"
				r.Host = tt.host
				if via == "X-Forwarded-Host" {
					r.RemoteAddr = "10.0.0.5:1" // a trusted proxy
					r.Host = "internal:8080"
					r.Header.Set("X-Forwarded-Host", "evil.example, "+tt.host)
				}
				err := g.Check(r)
				if tt.allowed {
					assert.NoError(t, err)
				} else {
					assert.Equal(t, CodeHostNotAllowed, ssotoken.CodeOf(err))
					assert.Equal(t, http.StatusNotAcceptable, StatusFor(err))
				}
			})
		}
	}
}

// TestGuardHostBracketsThroughTheHandler: the handler answers a bracketed
// host name 406 host_not_allowed.
func TestGuardHostBracketsThroughTheHandler(t *testing.T) {
	g, err := NewGuard(GuardConfig{AllowedHosts: []string{"api.example.com", "[::1]"}})
	require.NoError(t, err)
	h, _ := newTestHandler(t, func(c *Config) { c.Guard = g })
	for host, status := range map[string]int{
		"api.example.com": http.StatusOK, "[api.example.com]": http.StatusNotAcceptable, "[api.example.com]:443": http.StatusNotAcceptable,
		"[::1]": http.StatusOK, "[::1]:8443": http.StatusOK, "::1": http.StatusNotAcceptable,
	} {
		r := newRequest(testBody)
		r.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, status, rec.Code, "%s: %s", host, rec.Body.String())
		if status != http.StatusOK {
			assert.Contains(t, rec.Body.String(), `"ErrorCode":"host_not_allowed"`)
		}
	}
}

func TestGuardConfigErrors(t *testing.T) {
	for _, cfg := range []GuardConfig{
		{AllowedCIDRs: []string{"10.0.0.0/33"}},
		{AllowedCIDRs: []string{"not a network"}},
		{TrustedProxies: []string{"10.0.0.0/8", "x"}},
		{AllowedHosts: []string{""}},
		{AllowedHosts: []string{"https://api.example.com/"}},
		{AllowedHosts: []string{"[api.example.com]"}},
		{AllowedHosts: []string{"[192.0.2.1]:443"}},
		{AllowedHosts: []string{"api.example.com:https"}},
		{AllowedHosts: []string{"user@api.example.com"}},
	} {
		_, err := NewGuard(cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

func TestGuardZeroValueAllowsAll(t *testing.T) {
	g, err := NewGuard(GuardConfig{})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "http://anything.example/", nil)
	assert.NoError(t, g.Check(r))
	var nilGuard *Guard
	assert.NoError(t, nilGuard.Check(r))
}

func TestGuardMiddleware(t *testing.T) {
	g, err := NewGuard(GuardConfig{AllowedCIDRs: []string{"127.0.0.0/8"}})
	require.NoError(t, err)
	h := g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusNoContent, rec.Code)

	r.RemoteAddr = "192.0.2.1:5000"
	r.Header.Set("X-Forwarded-For", "127.0.0.1")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusNotAcceptable, rec.Code)
	assert.Contains(t, rec.Body.String(), `"ErrorCode":"ip_not_allowed"`)
}

// BenchmarkGuardCheck shows that matching costs the same with 1 and with
// 10,000 allowed networks.
func BenchmarkGuardCheck(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		b.Run(fmt.Sprintf("networks=%d", n), func(b *testing.B) {
			cidrs := make([]string, 0, n)
			for i := range n {
				cidrs = append(cidrs, fmt.Sprintf("10.%d.%d.0/24", i/256, i%256))
			}
			g, err := NewGuard(GuardConfig{AllowedCIDRs: cidrs})
			if err != nil {
				b.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = "192.0.2.1:5000" // matches nothing: the worst case
			b.ReportAllocs()
			for b.Loop() {
				if g.Check(r) == nil {
					b.Fatal("allowed")
				}
			}
		})
	}
}
