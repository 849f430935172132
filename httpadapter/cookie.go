package httpadapter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// Paths of the Cookie SSO document: the endpoint, and the one its sample
// request uses.
const (
	CookieSSOPath      = "/services/v2/auth/cookiesso/token.json"
	CookieSSOAliasPath = "/services/v2/auth/token.json"
)

// CookieExchanger exchanges the SSO cookie of a request for a JWT;
// *cookiesso.Exchanger is one.
type CookieExchanger interface {
	ExchangeRequest(r *http.Request) (jwt string, expiresAt time.Time, err error)
}

// CookieResponse is the body of a successful exchange.
type CookieResponse struct {
	JWT string `json:"jwt"`
}

// CookieExchangeHandler serves the Cookie SSO exchange: POST only (405
// with Allow: POST otherwise), 200 with {"jwt": "..."} and Cache-Control:
// no-store, failures in the JSON failure envelope (400 for a missing,
// duplicate or ill-formatted cookie, 401 for a bad signature or an expired
// one, 403 for an Origin not allowed).
func CookieExchangeHandler(ex CookieExchanger) http.Handler {
	if ex == nil {
		panic("httpadapter: CookieExchangeHandler with a nil exchanger")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			WriteError(w, ErrMethodNotAllowed)
			return
		}
		jwt, _, err := ex.ExchangeRequest(r)
		if err != nil {
			WriteError(w, ssotoken.Wrap(err))
			return
		}
		writeJSON(w, http.StatusOK, CookieResponse{JWT: jwt})
	})
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
	hc  *http.Client
	max int64
}

// NewCookieClient returns a CookieClient for cfg.
func NewCookieClient(cfg CookieClientConfig) (*CookieClient, error) {
	u, err := url.Parse(cfg.URL)
	if cfg.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("httpadapter: CookieClientConfig.URL must be an http or https URL")
	}
	c := &CookieClient{url: cfg.URL, hc: cfg.HTTPClient, max: cfg.MaxResponseBytes}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.max <= 0 {
		c.max = DefaultMaxResponseBytes
	}
	return c, nil
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
	res, err := c.hc.Do(hr)
	if err != nil {
		return "", transportError(ctx, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, c.max+1))
	if err != nil {
		return "", transportError(ctx, err)
	}
	if int64(len(raw)) > c.max {
		return "", ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerBadResponse, "the answer is too large", nil)
	}
	var env struct {
		JWT           string `json:"jwt"`
		ReturnMessage string `json:"ReturnMessage"`
		ErrorCode     string `json:"ErrorCode"`
	}
	jsonErr := json.Unmarshal(raw, &env)
	if res.StatusCode != http.StatusOK {
		return "", statusError(res.StatusCode, env.ErrorCode, env.ReturnMessage)
	}
	if jsonErr != nil || env.JWT == "" || strings.Count(env.JWT, ".") != 2 {
		return "", ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerBadResponse, "the answer holds no JWT", jsonErr)
	}
	return env.JWT, nil
}
