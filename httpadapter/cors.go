package httpadapter

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/cors"
)

// DefaultCORSMaxAge is how long a browser may reuse a preflight's answer
// when CORSConfig.MaxAge is zero. Browsers cap it (Chromium at 2 hours).
const DefaultCORSMaxAge = 10 * time.Minute

// CodeMultipleOrigin is the code of a request with more than one Origin
// header (400): no browser sends two, and "the first wins" would let a
// proxy or a client choose which one is checked.
const CodeMultipleOrigin = "multiple_origin"

var errMultipleOrigin = badRequest(CodeMultipleOrigin, "more than one Origin header")

// CORSConfig configures NewCORS. Each origin is written exactly as a
// browser sends it in the Origin header: scheme://host[:port] (RFC 6454),
// such as "https://www.abc.example" or "http://127.0.0.1:8082" (see
// NormalizeOrigin). The two lists are two levels of trust, and neither
// implies the other. At least one origin is required: CORS is an
// allowlist, never "any origin".
type CORSConfig struct {
	// AllowedOrigins are the origins whose pages may call GenerateSSOToken
	// and the bearer routes. Their calls carry the credential the page
	// holds itself (the Authorization header), never the browser's
	// cookies.
	AllowedOrigins []string
	// CookieExchangeOrigins are the origins whose pages may call the
	// cookie exchange with the browser's cookies, and so spend the user's
	// SSO cookie and read the JWT it buys: list only pages of your own
	// site (the forum). Empty means no page may.
	CookieExchangeOrigins []string
	// MaxAge is how long a browser may reuse a preflight's answer. Zero
	// means DefaultCORSMaxAge.
	MaxAge time.Duration
}

// CORS answers the browser's cross-origin protocol (the Fetch standard's
// CORS, preflights included) for this package's endpoints, for explicit
// lists of origins. The protocol is github.com/rs/cors's; the policy is
// this package's: which origins (exact matches only), for each route
// exactly the methods and request headers it needs, and credentials only
// for the cookie exchange, to its own list of origins.
//
// A preflight (OPTIONS with Access-Control-Request-Method) is answered 204
// by CORS itself and never reaches the wrapped handler, so it is never
// authenticated, audited or answered 401 or 405. To an allowed origin the
// answer echoes the origin and grants the route's method and headers; to
// any other it grants nothing, and the browser blocks the call. Every
// answer carries Vary: Origin. A request with two Origin headers is 400.
//
// Wrap outermost, outside the network guard, so that preflights are
// answered before any check, and mount the result on a pattern that
// OPTIONS reaches ("/services/v2/user.json", not "GET
// /services/v2/user.json"). Where a router runs the authentication
// first, set BearerOptions.PassPreflight (SSOTokenOptions.PassPreflight)
// so that RequireBearer hands preflights on to the CORS inside it. A CORS
// is safe for concurrent use.
type CORS struct {
	origins, cookieOrigins map[string]bool
	maxAge                 int // seconds

	generate, exchange *cors.Cors
}

// NewCORS returns a CORS for cfg, or an error if an origin is not exactly
// scheme://host[:port] or none is given.
func NewCORS(cfg CORSConfig) (*CORS, error) {
	if len(cfg.AllowedOrigins) == 0 && len(cfg.CookieExchangeOrigins) == 0 {
		return nil, errors.New("httpadapter: CORSConfig needs AllowedOrigins or CookieExchangeOrigins (CORS is an allowlist)")
	}
	if cfg.MaxAge < 0 {
		return nil, errors.New("httpadapter: CORSConfig.MaxAge must not be negative")
	}
	c := &CORS{maxAge: int(cfg.MaxAge / time.Second)}
	var err error
	if c.origins, err = originSet(cfg.AllowedOrigins); err != nil {
		return nil, err
	}
	if c.cookieOrigins, err = originSet(cfg.CookieExchangeOrigins); err != nil {
		return nil, err
	}
	if cfg.MaxAge == 0 {
		c.maxAge = int(DefaultCORSMaxAge / time.Second)
	}
	if c.maxAge == 0 {
		c.maxAge = -1 // under a second: rs/cors sends "Access-Control-Max-Age: 0"
	}
	// The GenerateSSOToken document's four headers; the Authorization
	// header is the credential, so the browser's cookies are not needed.
	c.generate = c.policy(c.origins, []string{http.MethodPost}, []string{"Authorization", "Content-Type", HeaderAPIVersion, HeaderClientID}, false)
	// The Cookie SSO document's sample sends Accept and Content-Type; the
	// browser must send the SSO cookie, so credentials are allowed.
	c.exchange = c.policy(c.cookieOrigins, []string{http.MethodPost}, []string{"Accept", "Content-Type"}, true)
	return c, nil
}

func originSet(origins []string) (map[string]bool, error) {
	set := make(map[string]bool, len(origins))
	for _, o := range origins {
		origin, err := NormalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		set[origin] = true
	}
	return set, nil
}

// NormalizeOrigin returns origin as a browser serializes it in the Origin
// header: lowercase scheme and host, no default port (:443 for https, :80
// for http). It refuses what is not exactly an http or https
// scheme://host[:port], and what no browser would ever send, so that a
// typo fails at configuration instead of never matching: a path (even
// "/"), query, fragment or user info; a wildcard, "*" or "null"; a port
// outside 1-65535 or with leading zeros; a host with a trailing dot, a
// percent sign or non-ASCII letters (browsers send the punycode "xn--"
// form).
func NormalizeOrigin(origin string) (string, error) {
	bad := func(why string) (string, error) {
		return "", errors.New("httpadapter: origin " + strconv.Quote(origin) + ": " + why)
	}
	switch {
	case strings.Contains(origin, "*"):
		return bad("a wildcard is not allowed; list each origin")
	case strings.EqualFold(origin, "null"):
		return bad(`"null" is the origin of sandboxed and file pages, never an allowed one`)
	}
	u, err := url.Parse(origin)
	if err != nil {
		return bad("not a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return bad("want http:// or https://")
	case u.Host == "" || u.User != nil || u.Opaque != "":
		return bad("want scheme://host[:port]")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(origin, "?") || strings.HasSuffix(origin, "#"):
		return bad("an origin has no path, query or fragment (not even a trailing /)")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	switch {
	case host == "" || strings.HasSuffix(u.Host, ":"):
		return bad("want scheme://host[:port]")
	case strings.HasSuffix(host, ".") || strings.ContainsAny(host, "%") || !isASCII(host):
		return bad("a host as a browser sends it: no trailing dot, no zone, and punycode (xn--) for other letters")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return bad("the port must be a number from 1 to 65535, without leading zeros")
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port == "" || scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		return scheme + "://" + host, nil
	}
	return scheme + "://" + host + ":" + port, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (c *CORS) policy(origins map[string]bool, methods, headers []string, credentials bool) *cors.Cors {
	return cors.New(cors.Options{
		AllowOriginFunc:  func(origin string) bool { return origins[origin] },
		AllowedMethods:   methods,
		AllowedHeaders:   headers,
		AllowCredentials: credentials,
		MaxAge:           c.maxAge,
	})
}

// GenerateSSOToken wraps the GenerateSSOToken handler for AllowedOrigins:
// POST with the headers Authorization, Content-Type, x-api-version and
// x-lob-client-id, without credentials (the token travels in
// Authorization), as the document's fetch sample sends it.
func (c *CORS) GenerateSSOToken(h http.Handler) http.Handler { return c.wrap(c.generate, h) }

// CookieExchange wraps CookieExchangeHandler for CookieExchangeOrigins:
// POST with Accept and Content-Type, and with credentials
// (Access-Control-Allow-Credentials: true), so that a page calling fetch
// with credentials: "include" sends the SSO cookie and may read the JWT.
// Set cookiesso.Config.AllowedOrigins to the same origins: CORS only
// decides what a page may read, while the server's own Origin check
// refuses an exchange that no preflight guards (a form POST, or a fetch
// without custom headers, from a page not on the list).
func (c *CORS) CookieExchange(h http.Handler) http.Handler { return c.wrap(c.exchange, h) }

// Bearer wraps a route behind RequireBearer for AllowedOrigins: the given
// methods (GET when none) with the headers Authorization, Accept and
// Content-Type, without credentials.
func (c *CORS) Bearer(h http.Handler, methods ...string) http.Handler {
	if len(methods) == 0 {
		methods = []string{http.MethodGet}
	}
	return c.wrap(c.policy(c.origins, methods, []string{"Authorization", "Accept", "Content-Type"}, false), h)
}

func (c *CORS) wrap(p *cors.Cors, h http.Handler) http.Handler {
	if h == nil {
		panic("httpadapter: CORS around a nil handler")
	}
	inner := p.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header["Origin"]) > 1 {
			w.Header().Add("Vary", "Origin")
			WriteError(w, errMultipleOrigin)
			return
		}
		inner.ServeHTTP(w, r)
	})
}
