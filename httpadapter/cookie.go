package httpadapter

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/ssotoken"
)

// Paths of the Cookie SSO document: the endpoint, and the one its sample
// request uses.
const (
	CookieSSOPath      = "/services/v2/auth/cookiesso/token.json"
	CookieSSOAliasPath = "/services/v2/auth/token.json"
)

// CookieExchanger exchanges the value of an SSO cookie for a JWT;
// *cookiesso.Exchanger is one.
type CookieExchanger interface {
	// CookieName returns the name of the SSO cookie.
	CookieName() string
	// Exchange validates the cookie's value and returns the JWT.
	Exchange(ctx context.Context, value string) (cookiesso.Token, error)
}

// CookieExchangeOptions configures CookieExchangeHandler.
type CookieExchangeOptions struct {
	// AllowedOrigins, when set, are the only Origin values (scheme://host
	// [:port], see NormalizeOrigin) an exchange request may carry, so that
	// a page of another site cannot spend the user's cookie: another
	// Origin is 403 origin_not_allowed. A request without Origin is
	// allowed (it is not a browser's cross-site POST). Empty allows any
	// Origin.
	AllowedOrigins []string

	// Logger, when set, receives one audit record per call, message
	// "CookieExchange", with the fields and levels of Config.Logger's
	// (endpoint "cookie_exchange", outcome "exchanged", "refused" or
	// "failed", status, error code, latency, the client's address). Never
	// the cookie or the JWT.
	Logger *slog.Logger
	// OnEvent, when set, is called once per call with its Event (Endpoint
	// EndpointCookieExchange), as Config.OnEvent is: on the request's
	// goroutine, with its context, after the response is written. It
	// must not block, and must be safe for concurrent use.
	OnEvent func(context.Context, Event)
}

// Codes of the exchange's refusals that the request itself causes.
const (
	CodeCookieDuplicate  = "cookie_duplicate"   // 400: two cookies of the configured name (cookie tossing)
	CodeOriginNotAllowed = "origin_not_allowed" // 403: an Origin not in CookieExchangeOptions.AllowedOrigins
)

var (
	errCookieDuplicate  = badRequest(CodeCookieDuplicate, "the SSO cookie was sent more than once")
	errOriginNotAllowed = ssotoken.NewError(ssotoken.ErrForbidden, CodeOriginNotAllowed, "the request's origin is not allowed", nil)
)

// CookieResponse is the body of a successful exchange.
type CookieResponse struct {
	JWT string `json:"jwt"`
}

// CookieExchangeHandler serves the Cookie SSO exchange: POST only (405
// with Allow: POST otherwise); the Origin checked against
// opts.AllowedOrigins (two Origin headers are 400 multiple_origin); the
// cookie named ex.CookieName() found in the Cookie headers and exchanged.
// It answers 200 with {"jwt": "..."}, and failures in the JSON failure
// envelope: 400 for a missing, duplicate (cookie tossing) or ill-formatted
// cookie, 401 for a bad signature or an expired one, 403 for an Origin not
// allowed. Every answer has Cache-Control: no-store. With opts.Logger or
// opts.OnEvent every call is recorded.
func CookieExchangeHandler(ex CookieExchanger, opts CookieExchangeOptions) (http.Handler, error) {
	if ex == nil {
		return nil, errors.New("httpadapter: CookieExchangeHandler needs an exchanger")
	}
	var origins map[string]bool
	if len(opts.AllowedOrigins) > 0 {
		var err error
		if origins, err = originSet(opts.AllowedOrigins); err != nil {
			return nil, err
		}
	}
	name := ex.CookieName()
	audit := &auditor{endpoint: EndpointCookieExchange, message: "CookieExchange", logger: opts.Logger, onEvent: opts.OnEvent}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !audit.on() {
			exchangeCookie(w, r, ex, name, origins)
			return
		}
		start := time.Now()
		err := exchangeCookie(w, r, ex, name, origins)
		audit.record(r, &Event{Latency: time.Since(start)}, err)
	}), nil
}

// exchangeCookie answers one exchange request and returns the error it
// answered, nil for a JWT.
func exchangeCookie(w http.ResponseWriter, r *http.Request, ex CookieExchanger, name string, origins map[string]bool) error {
	tok, err := cookieExchange(r, ex, name, origins)
	if err != nil {
		WriteError(w, err)
		return err
	}
	writeJSON(w, http.StatusOK, CookieResponse{JWT: tok.JWT})
	return nil
}

func cookieExchange(r *http.Request, ex CookieExchanger, name string, origins map[string]bool) (cookiesso.Token, error) {
	if r.Method != http.MethodPost {
		return cookiesso.Token{}, ErrMethodNotAllowed
	}
	if err := checkOrigin(r, origins); err != nil {
		return cookiesso.Token{}, err
	}
	value, err := cookieValue(r, name)
	if err != nil {
		return cookiesso.Token{}, err
	}
	tok, err := ex.Exchange(r.Context(), value)
	if err != nil {
		return cookiesso.Token{}, ssotoken.Wrap(err)
	}
	return tok, nil
}

// checkOrigin refuses a request with more than one Origin header, and one
// whose Origin is not in origins (nil allows any).
func checkOrigin(r *http.Request, origins map[string]bool) error {
	o := r.Header.Values("Origin")
	switch {
	case len(o) > 1:
		return errMultipleOrigin
	case len(o) == 0 || origins == nil || origins[strings.ToLower(o[0])]:
		return nil
	}
	return errOriginNotAllowed
}

// cookieValue returns the value of r's cookie named name. None is
// cookiesso.ErrCookieMissing; two or more are errCookieDuplicate, even
// when one of them is ill-formed; one whose value net/http cannot parse
// (a backslash, a control or non-ASCII byte), or that net/http does not
// read because the request has more cookies than its limit (3,000 by
// default, GODEBUG httpcookiemaxnum), is cookiesso.ErrCookieMalformed. The value's own checks (empty, size,
// RFC 6265 octets) are the exchanger's.
func cookieValue(r *http.Request, name string) (string, error) {
	switch n := countCookies(r, name); {
	case n == 0:
		return "", cookiesso.ErrCookieMissing
	case n > 1:
		return "", errCookieDuplicate
	}
	cs := r.CookiesNamed(name)
	if len(cs) != 1 {
		return "", cookiesso.ErrCookieMalformed
	}
	return cs[0].Value, nil
}

// countCookies counts the pairs of r's Cookie headers named name, whether
// or not their values parse, without allocating.
func countCookies(r *http.Request, name string) int {
	n := 0
	for _, line := range r.Header["Cookie"] {
		for part := range strings.SplitSeq(line, ";") {
			k, _, ok := strings.Cut(part, "=")
			if ok && strings.TrimSpace(k) == name {
				n++
			}
		}
	}
	return n
}

// CookieClientConfig configures a CookieClient. URL is required.
type CookieClientConfig struct {
	// URL is the exchange endpoint, for example
	// "https://answers.example.com/services/v2/auth/cookiesso/token.json".
	URL string
	// HTTPClient sends the requests. Nil means a client with a 10 s
	// timeout that follows no redirect (a redirect would carry the cookie
	// along).
	HTTPClient *http.Client
	// MaxResponseBytes caps the response body read. Zero means 64 KiB.
	MaxResponseBytes int64
}

// CookieClient calls a remote Cookie SSO exchange endpoint. Statuses map
// back to the taxonomy as for Client. It is safe for concurrent use.
type CookieClient struct {
	url string
	hc  *http.Client // capped at MaxResponseBytes
}

// NewCookieClient returns a CookieClient for cfg.
func NewCookieClient(cfg CookieClientConfig) (*CookieClient, error) {
	u, err := url.Parse(cfg.URL)
	if cfg.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("httpadapter: CookieClientConfig.URL must be an http or https URL")
	}
	return &CookieClient{url: cfg.URL, hc: cappedClient(cfg.HTTPClient, max(cfg.MaxResponseBytes, 0))}, nil
}

// Exchange sends the cookie name=value to the endpoint and returns the
// JWT it answers.
func (c *CookieClient) Exchange(ctx context.Context, name, value string) (string, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, nil)
	if err != nil {
		return "", ssotoken.Wrap(err)
	}
	hr.Header.Set("Cookie", (&http.Cookie{Name: name, Value: value}).String())
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("Content-Type", "application/json")
	var env CookieResponse
	if err := post(ctx, c.hc, hr, &env); err != nil {
		return "", err
	}
	if strings.Count(env.JWT, ".") != 2 {
		return "", ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerBadResponse, "the answer holds no JWT", nil)
	}
	return env.JWT, nil
}
