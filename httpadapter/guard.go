package httpadapter

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/ssokit/ssokit/ssotoken"
)

// GuardConfig configures a Guard. The zero value allows every client and
// every host.
type GuardConfig struct {
	// AllowedCIDRs are the client networks allowed, for example
	// "10.0.0.0/8" or "2001:db8::/32"; a bare address is a /32 or /128.
	// Empty allows every address.
	AllowedCIDRs []string

	// AllowedHosts are the Host values allowed, for example
	// "api.example.com", "api.example.com:8443", "[2001:db8::1]" or
	// "[2001:db8::1]:8443" (a bare "2001:db8::1" is read as the bracketed
	// literal, without a port). Matching ignores case and a trailing dot;
	// an entry without a port matches any port, an entry with one only
	// that port; an IPv6 literal matches in any of its spellings. Empty
	// allows every host.
	//
	// A request's Host (or a trusted proxy's X-Forwarded-Host) must be
	// well formed to match (RFC 3986 section 3.2.2): brackets only around
	// an IPv6 literal, so "[api.example.com]" matches nothing; an IPv6
	// literal only in brackets, so "2001:db8::1" or "::1:8443" matches
	// nothing; a port, when there is one, of digits only.
	AllowedHosts []string

	// TrustedProxies are the networks of the reverse proxies whose
	// X-Forwarded-For (and X-Forwarded-Host) are believed. From any other
	// peer those headers, X-Real-IP and Forwarded are ignored.
	TrustedProxies []string
}

// Guard is the network guard of the GenerateSSOToken document's 406 row:
// it refuses requests from client addresses outside the allowed networks
// and for hosts that are not allowed. The client address is the socket's
// peer, unless that peer is a trusted proxy: then X-Forwarded-For is
// walked from the right, past trusted proxies, to the first address that
// is not one. Matching costs the same however many networks are listed.
// A Guard is safe for concurrent use.
type Guard struct {
	allowed prefixSet
	trusted prefixSet
	hosts   map[string]bool // normalized host or host:port
}

var (
	errIPNotAllowed   = ssotoken.NewError(ssotoken.ErrNotAcceptable, CodeIPNotAllowed, "the request is not accepted from this network", nil)
	errHostNotAllowed = ssotoken.NewError(ssotoken.ErrNotAcceptable, CodeHostNotAllowed, "the request is not accepted for this host", nil)
)

// NewGuard returns a Guard for cfg, or an error naming the first entry
// that does not parse.
func NewGuard(cfg GuardConfig) (*Guard, error) {
	g := &Guard{}
	var err error
	if g.allowed, err = newPrefixSet(cfg.AllowedCIDRs); err != nil {
		return nil, err
	}
	if g.trusted, err = newPrefixSet(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	if len(cfg.AllowedHosts) > 0 {
		g.hosts = make(map[string]bool, len(cfg.AllowedHosts))
		for _, h := range cfg.AllowedHosts {
			e := strings.TrimSpace(h)
			if a, err := netip.ParseAddr(e); err == nil && a.Is6() {
				e = "[" + e + "]" // a bare IPv6 literal, as the old entries had it
			}
			name, port, ok := parseHost(e)
			if !ok || strings.ContainsAny(name, "/ @") {
				return nil, fmt.Errorf("httpadapter: allowed host %q is not a host name, an IPv4 address or a bracketed IPv6 literal, with an optional port", h)
			}
			if port != "" {
				name += ":" + port
			}
			g.hosts[name] = true
		}
	}
	return g, nil
}

// Check returns nil if r may pass, or an ErrNotAcceptable error
// (ip_not_allowed, host_not_allowed).
func (g *Guard) Check(r *http.Request) error {
	if g == nil {
		return nil
	}
	if !g.allowed.empty() {
		ip, ok := g.ClientIP(r)
		if !ok || !g.allowed.contains(ip) {
			return errIPNotAllowed
		}
	}
	if g.hosts != nil && !g.hostAllowed(g.host(r)) {
		return errHostNotAllowed
	}
	return nil
}

// Middleware returns middleware that answers 406 to requests Check
// refuses and passes the others on.
func (g *Guard) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.Check(r); err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ClientIP returns the client's address: the socket's peer (r.RemoteAddr),
// or, when the peer is a trusted proxy, the rightmost X-Forwarded-For
// address that is not a trusted proxy. It reports false when no address
// can be told (an unparsable RemoteAddr or X-Forwarded-For entry).
func (g *Guard) ClientIP(r *http.Request) (netip.Addr, bool) {
	peer, ok := remoteAddr(r.RemoteAddr)
	if !ok || g == nil || !g.trusted.contains(peer) {
		return peer, ok
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return peer, true
	}
	addr := peer
	for i := len(xff) - 1; i >= 0; i-- {
		list := xff[i]
		for list != "" {
			var entry string
			if c := strings.LastIndexByte(list, ','); c >= 0 {
				list, entry = list[:c], list[c+1:]
			} else {
				list, entry = "", list
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, ok := remoteAddr(entry)
			if !ok {
				return netip.Addr{}, false
			}
			if !g.trusted.contains(a) {
				return a, true
			}
			addr = a
		}
	}
	return addr, true // every hop was a trusted proxy
}

// host returns the request's host: r.Host, or the rightmost
// X-Forwarded-Host when the peer is a trusted proxy.
func (g *Guard) host(r *http.Request) string {
	if peer, ok := remoteAddr(r.RemoteAddr); ok && g.trusted.contains(peer) {
		if v := r.Header.Values("X-Forwarded-Host"); len(v) > 0 {
			last := v[len(v)-1]
			if c := strings.LastIndexByte(last, ','); c >= 0 {
				last = last[c+1:]
			}
			return strings.TrimSpace(last)
		}
	}
	return r.Host
}

func (g *Guard) hostAllowed(h string) bool {
	if g.hosts[h] {
		return true // h is an entry as written: well formed (the common case, no parsing)
	}
	name, port, ok := parseHost(h)
	if !ok {
		return false
	}
	return g.hosts[name] || port != "" && g.hosts[name+":"+port]
}

// parseHost splits a Host value into host and port, to the letter of RFC
// 3986 section 3.2.2 (which RFC 9110's Host follows): a bracketed IPv6
// literal ("[::1]", "[::1]:8443"), or a name or IPv4 address with no
// bracket and no colon but the port's ("api.example.com",
// "api.example.com:443"). host comes back lowercased without a trailing
// dot, an IPv6 literal bracketed in its canonical spelling; port is "" or
// digits. ok is false for anything else: brackets around anything but an
// IPv6 literal (with a zone too), an IPv6 literal without brackets, an
// empty host or port, a port that is not a number.
func parseHost(s string) (host, port string, ok bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", false // "[api.example.com]", "[192.0.2.1]", "[fe80::1%eth0]"
		}
		host, rest := "["+a.String()+"]", s[end+1:]
		if rest != "" {
			if rest[0] != ':' || !validPort(rest[1:]) {
				return "", "", false
			}
			port = rest[1:]
		}
		return host, port, true
	}
	host = s
	if c := strings.IndexByte(s, ':'); c >= 0 {
		host, port = s[:c], s[c+1:]
		if !validPort(port) {
			return "", "", false // also a second colon: "::1", "2001:db8::1:443"
		}
	}
	if strings.ContainsAny(host, "[]") {
		return "", "", false
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return "", "", false
	}
	return host, port, true
}

// validPort reports whether p is a port number: 1 to 5 digits.
func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// remoteAddr parses "ip:port", "[ip]:port" or a bare "ip", unmapping
// IPv4-in-IPv6 and dropping a zone.
func remoteAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// prefixSet matches an address against a set of networks with one map
// lookup per distinct prefix length, so its cost is bounded by the number
// of lengths (at most 33 for IPv4 and 129 for IPv6), not of networks.
// IPv4 and IPv6 networks are kept apart: an IPv6 network never admits an
// IPv4 client (though ::/0 contains ::ffff:0:0/96), and IPv4-mapped IPv6
// networks and addresses count as IPv4.
type prefixSet struct {
	v4, v6 lengthSet
}

type lengthSet struct {
	lens []int // distinct prefix lengths, ascending
	nets map[netip.Prefix]bool
}

func newPrefixSet(cidrs []string) (prefixSet, error) {
	var s prefixSet
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return prefixSet{}, fmt.Errorf("httpadapter: %q is not a CIDR or an address", c)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		a, bits := p.Addr().WithZone(""), p.Bits()
		switch {
		case a.Is4():
			s.v4.add(netip.PrefixFrom(a, bits))
		case a.Is4In6() && bits >= 96:
			s.v4.add(netip.PrefixFrom(a.Unmap(), bits-96))
		default:
			s.v6.add(netip.PrefixFrom(a, bits))
		}
	}
	return s, nil
}

func (l *lengthSet) add(p netip.Prefix) {
	if l.nets == nil {
		l.nets = map[netip.Prefix]bool{}
	}
	l.nets[p.Masked()] = true
	if !slices.Contains(l.lens, p.Bits()) {
		l.lens = append(l.lens, p.Bits())
		slices.Sort(l.lens)
	}
}

func (s prefixSet) empty() bool { return len(s.v4.nets) == 0 && len(s.v6.nets) == 0 }

func (s prefixSet) contains(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return s.v4.contains(a)
	}
	return s.v6.contains(a)
}

func (l lengthSet) contains(a netip.Addr) bool {
	for _, n := range l.lens {
		p, err := a.Prefix(n)
		if err == nil && l.nets[p] {
			return true
		}
	}
	return false
}
