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

// CORSConfig configures NewCORS.
type CORSConfig struct {
	// AllowedOrigins are the origins whose pages may call the wrapped
	// endpoints from a browser, each exactly as a browser sends it in the
	// Origin header: scheme://host[:port] (RFC 6454), such as
	// "https://www.abc.example" or "http://127.0.0.1:8082". Scheme and host
	// are lowercased and a default port (:443, :80) is dropped, as browsers
	// do; a path, a wildcard, "*" and "null" are refused. Required: CORS is
	// an allowlist, never "any origin".
	AllowedOrigins []string
	// MaxAge is how long a browser may reuse a preflight's answer. Zero
	// means DefaultCORSMaxAge.
	MaxAge time.Duration
}

// CORS answers the browser's cross-origin protocol (the Fetch standard's
// CORS, preflights included) for this package's endpoints, for an explicit
// list of origins. The protocol is github.com/rs/cors's; the policy is
// this package's: which origins (exact matches only), and for each route
// exactly the methods and request headers it needs, and credentials only
// where the route needs the browser's cookie.
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
// /services/v2/user.json"). A CORS is safe for concurrent use.
type CORS struct {
	origins map[string]bool
	maxAge  int // seconds

	generate, exchange *cors.Cors
}

// NewCORS returns a CORS for cfg, or an error if an origin is not exactly
// scheme://host[:port] or none is given.
func NewCORS(cfg CORSConfig) (*CORS, error) {
	if len(cfg.AllowedOrigins) == 0 {
		return nil, errors.New("httpadapter: CORSConfig.AllowedOrigins is required (CORS is an allowlist)")
	}
	if cfg.MaxAge < 0 {
		return nil, errors.New("httpadapter: CORSConfig.MaxAge must not be negative")
	}
	c := &CORS{origins: make(map[string]bool, len(cfg.AllowedOrigins)), maxAge: int(cfg.MaxAge / time.Second)}
	for _, o := range cfg.AllowedOrigins {
		origin, err := normalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		c.origins[origin] = true
	}
	if cfg.MaxAge == 0 {
		c.maxAge = int(DefaultCORSMaxAge / time.Second)
	}
	if c.maxAge == 0 {
		c.maxAge = -1 // under a second: rs/cors sends "Access-Control-Max-Age: 0"
	}
	// The GenerateSSOToken document's four headers; the Authorization
	// header is the credential, so the browser's cookies are not needed.
	c.generate = c.policy([]string{http.MethodPost}, []string{"Authorization", "Content-Type", HeaderAPIVersion, HeaderClientID}, false)
	// The Cookie SSO document's sample sends Accept and Content-Type; the
	// browser must send the SSO cookie, so credentials are allowed.
	c.exchange = c.policy([]string{http.MethodPost}, []string{"Accept", "Content-Type"}, true)
	return c, nil
}

// normalizeOrigin returns origin as a browser serializes it in the Origin
// header (lowercase scheme and host, no default port), or an error if it
// is not exactly an http or https scheme://host[:port]: a path, query,
// user info, wildcard, "*" or "null" is refused.
func normalizeOrigin(origin string) (string, error) {
	bad := func(why string) (string, error) {
		return "", errors.New("httpadapter: origin " + strconv.Quote(origin) + ": " + why)
	}
	switch {
	case origin == "*" || strings.Contains(origin, "*"):
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
	if host == "" || strings.HasSuffix(u.Host, ":") {
		return bad("want scheme://host[:port]")
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if port == "" || scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		return scheme + "://" + host, nil
	}
	return scheme + "://" + host + ":" + port, nil
}

func (c *CORS) policy(methods, headers []string, credentials bool) *cors.Cors {
	return cors.New(cors.Options{
		AllowOriginFunc:  func(origin string) bool { return c.origins[origin] },
		AllowedMethods:   methods,
		AllowedHeaders:   headers,
		AllowCredentials: credentials,
		MaxAge:           c.maxAge,
	})
}

// GenerateSSOToken wraps the GenerateSSOToken handler: POST with the
// headers Authorization, Content-Type, x-api-version and x-lob-client-id,
// without credentials (the token travels in Authorization), as the
// document's fetch sample sends it.
func (c *CORS) GenerateSSOToken(h http.Handler) http.Handler { return c.wrap(c.generate, h) }

// CookieExchange wraps CookieExchangeHandler: POST with Accept and
// Content-Type, and with credentials (Access-Control-Allow-Credentials:
// true), so that a page calling fetch with credentials: "include" sends
// the SSO cookie and may read the JWT. Keep cookiesso.Config.AllowedOrigins
// set as well: CORS only decides what a page may read, while the server's
// own Origin check refuses an exchange that no preflight guards (a form
// POST, or fetch without custom headers, from a page not on the list).
func (c *CORS) CookieExchange(h http.Handler) http.Handler { return c.wrap(c.exchange, h) }

// Bearer wraps a route behind RequireBearer: the given methods (GET when
// none) with the headers Authorization, Accept and Content-Type, without
// credentials.
func (c *CORS) Bearer(h http.Handler, methods ...string) http.Handler {
	if len(methods) == 0 {
		methods = []string{http.MethodGet}
	}
	return c.wrap(c.policy(methods, []string{"Authorization", "Accept", "Content-Type"}, false), h)
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
