package httpadapter

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/ssokit/ssokit/internal/limit"
	"github.com/ssokit/ssokit/ssotoken"
)

// Client defaults.
const (
	DefaultClientTimeout    = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	// GenerateSSOTokenPath is the document's path, joined to BaseURL.
	GenerateSSOTokenPath = "/v2/get_sso_token"
)

// Codes of the Client's own failures.
const (
	CodeIssuerUnreachable = "issuer_unreachable"  // the request could not be sent or the answer read (502)
	CodeIssuerBadResponse = "issuer_bad_response" // the answer is not the document's envelope (502)
	CodeIssuerRefused     = "issuer_refused"      // a 200 with ReturnCode other than 1, or an issuer refusal that is not the caller's fault (502)
	CodeBearerUnavailable = "bearer_unavailable"  // ClientConfig.Token failed (502)
)

// ClientConfig configures a Client. BaseURL, ClientID and Token are
// required.
type ClientConfig struct {
	// BaseURL is the endpoint's scheme and host, with an optional path
	// prefix, for example "https://api.example.com". Required.
	BaseURL string
	// APIVersion is sent as x-api-version. Empty means "1.0.0".
	APIVersion string
	// ClientID is sent as x-lob-client-id. Required.
	ClientID string
	// Token supplies the caller's bearer token (a Cognito access token)
	// for each call. Required.
	Token func(ctx context.Context) (string, error)
	// HTTPClient sends the requests. Nil means a client with a
	// DefaultClientTimeout (10 s) timeout that follows no redirect (a
	// redirect would carry the bearer token along).
	HTTPClient *http.Client
	// MaxResponseBytes caps the response body read. Zero means 64 KiB.
	MaxResponseBytes int64
}

// Client is an ssotoken.Issuer that calls a remote GenerateSSOToken
// endpoint. Statuses map back to the taxonomy: 400, 401, 403, 406, 502
// and 504 to their kinds, anything else to ErrUpstream; the remote
// ErrorCode is kept as the error's code when it sends one. It is safe for
// concurrent use.
type Client struct {
	url      string
	version  string
	clientID string
	token    func(ctx context.Context) (string, error)
	hc       *http.Client // capped at MaxResponseBytes
}

var _ ssotoken.Issuer = (*Client)(nil)

// NewClient returns a Client for cfg, or an error if cfg is not usable.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case cfg.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, errors.New("httpadapter: ClientConfig.BaseURL must be an http or https URL")
	case cfg.ClientID == "":
		return nil, errors.New("httpadapter: ClientConfig.ClientID is required")
	case cfg.Token == nil:
		return nil, errors.New("httpadapter: ClientConfig.Token is required")
	case cfg.MaxResponseBytes < 0:
		return nil, errors.New("httpadapter: ClientConfig.MaxResponseBytes must not be negative")
	}
	return &Client{
		url:      strings.TrimSuffix(cfg.BaseURL, "/") + GenerateSSOTokenPath,
		version:  cmp.Or(cfg.APIVersion, DefaultAPIVersion),
		clientID: cfg.ClientID,
		token:    cfg.Token,
		hc:       cappedClient(cfg.HTTPClient, cfg.MaxResponseBytes),
	}, nil
}

// cappedClient returns hc (nil means defaultHTTPClient) with response
// bodies capped at max bytes (zero means DefaultMaxResponseBytes).
func cappedClient(hc *http.Client, max int64) *http.Client {
	if hc == nil {
		hc = defaultHTTPClient()
	}
	return limit.Client(hc, 0, cmp.Or(max, DefaultMaxResponseBytes))
}

// defaultHTTPClient has a timeout and follows no redirect, so that a
// redirect (to http, or to another host of the same domain) never carries
// the bearer token or the cookie anywhere else: a 3xx is an upstream
// error.
func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       DefaultClientTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Issue calls the remote endpoint with req.
func (c *Client) Issue(ctx context.Context, req ssotoken.Request) (ssotoken.Response, error) {
	bearer, err := c.token(ctx)
	if err != nil {
		if k := ssotoken.KindOf(err); k == ssotoken.ErrTimeout {
			return ssotoken.Response{}, ssotoken.Wrap(err)
		}
		return ssotoken.Response{}, ssotoken.NewError(ssotoken.ErrUpstream, CodeBearerUnavailable, "no bearer token for the issuer", err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return ssotoken.Response{}, ssotoken.Wrap(err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return ssotoken.Response{}, ssotoken.Wrap(err)
	}
	hr.Header.Set(HeaderAPIVersion, c.version)
	hr.Header.Set(HeaderClientID, c.clientID)
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("Authorization", "Bearer "+bearer)

	var env struct {
		ssotoken.Response
		ErrorCode string `json:"ErrorCode"`
	}
	if err := post(ctx, c.hc, hr, &env); err != nil {
		return ssotoken.Response{}, err
	}
	switch {
	case env.ReturnCode != ssotoken.ReturnCodeSuccess:
		return ssotoken.Response{}, ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerRefused, "the issuer did not generate a token", nil)
	case env.TokenNo == "":
		return ssotoken.Response{}, ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerBadResponse, "the issuer's answer has no token", nil)
	}
	return env.Response, nil
}

// post sends hr through hc and decodes a 200 answer's JSON into env. A
// failure is in the taxonomy: another status is the remote's error (see
// statusError), an answer over the client's cap or not JSON is
// CodeIssuerBadResponse, a transport failure CodeIssuerUnreachable or a
// timeout.
func post(ctx context.Context, hc *http.Client, hr *http.Request, env any) error {
	res, err := hc.Do(hr)
	if err != nil {
		return transportError(ctx, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return transportError(ctx, err)
	}
	if res.StatusCode != http.StatusOK {
		var e ErrorResponse
		_ = json.Unmarshal(raw, &e) // a remote without the envelope gets a code from its status
		return statusError(res.StatusCode, e.ErrorCode, e.ReturnMessage)
	}
	if err := json.Unmarshal(raw, env); err != nil {
		return ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerBadResponse, "the answer is not the expected JSON", err)
	}
	return nil
}

// statusError maps a remote status to the taxonomy, keeping the remote's
// code and (a cleaned, bounded copy of) its message.
func statusError(status int, code, msg string) error {
	kind := ssotoken.ErrUpstream
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusMethodNotAllowed:
		kind = ssotoken.ErrBadRequest
	case http.StatusUnauthorized:
		kind = ssotoken.ErrUnauthorized
	case http.StatusForbidden:
		kind = ssotoken.ErrForbidden
	case http.StatusNotAcceptable:
		kind = ssotoken.ErrNotAcceptable
	case http.StatusGatewayTimeout:
		kind = ssotoken.ErrTimeout
	case http.StatusTooManyRequests:
		kind = ssotoken.ErrRateLimited
	}
	if code == "" || len(code) > 64 || strings.ContainsFunc(code, func(r rune) bool { return r != '_' && !unicode.IsLower(r) && !unicode.IsDigit(r) }) {
		code = "remote_" + strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
		if http.StatusText(status) == "" {
			code = "remote_error"
		}
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, msg)
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "")
	}
	if msg == "" {
		msg = "the issuer answered " + http.StatusText(status)
	}
	return ssotoken.NewError(kind, code, msg, errors.New("issuer answered status "+http.StatusText(status)))
}

func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ssotoken.Wrap(ctx.Err())
	}
	if limit.TooLarge(err) {
		return ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerBadResponse, "the answer is too large", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return ssotoken.NewError(ssotoken.ErrTimeout, ssotoken.CodeDeadlineExceeded, "the issuer did not answer in time", err)
	}
	return ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerUnreachable, "the issuer could not be reached", err)
}
