package httpadapter

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// TestClientRoundTrip runs the Client against the Handler over HTTP, one
// case per status, and checks that each status comes back as its kind
// with the server's ErrorCode.
func TestClientRoundTrip(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	guard, err := NewGuard(GuardConfig{AllowedCIDRs: []string{"198.51.100.0/24"}})
	require.NoError(t, err)

	tests := []struct {
		name     string
		mod      func(*Config)
		clientID string
		bearer   string
		req      ssotoken.Request
		kind     ssotoken.Kind // 0: success
		code     string
	}{
		{name: "200", req: ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}},
		{name: "400", req: ssotoken.Request{CIINo: "10001004", LOBId: "01"}, kind: ssotoken.ErrBadRequest, code: "missing_functionality"},
		{name: "401", bearer: "tok-expired", kind: ssotoken.ErrUnauthorized, code: ssotoken.CodeTokenExpired},
		{name: "403", clientID: "stranger", kind: ssotoken.ErrForbidden, code: CodeUnknownClient},
		{name: "406", mod: func(c *Config) { c.Guard = guard }, kind: ssotoken.ErrNotAcceptable, code: CodeIPNotAllowed},
		{name: "502", bearer: "tok-jwks-down", kind: ssotoken.ErrUpstream, code: "jwks_unavailable"},
		{name: "504", mod: func(c *Config) {
			c.Timeout = 20 * time.Millisecond
			c.Issuer = AbandonOnDeadline(ssotoken.IssuerFunc(func(context.Context, ssotoken.Request) (ssotoken.Response, error) {
				<-hang
				return ssotoken.Response{}, nil
			}))
		}, kind: ssotoken.ErrTimeout, code: ssotoken.CodeDeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, tt.mod)
			srv := httptest.NewServer(h)
			defer srv.Close()

			clientID, bearer := testClientID, testBearer
			if tt.clientID != "" {
				clientID = tt.clientID
			}
			if tt.bearer != "" {
				bearer = tt.bearer
			}
			c, err := NewClient(ClientConfig{
				BaseURL: srv.URL, ClientID: clientID, HTTPClient: srv.Client(),
				Token: func(context.Context) (string, error) { return bearer, nil },
			})
			require.NoError(t, err)
			req := tt.req
			if req == (ssotoken.Request{}) {
				req = ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}
			}

			resp, err := c.Issue(context.Background(), req)
			if tt.kind == 0 {
				require.NoError(t, err)
				assert.Equal(t, 1, resp.ReturnCode)
				assert.True(t, ssotoken.ValidRefNo(resp.TokenRefNo))
				assert.NotEmpty(t, resp.TokenNo)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.kind, ssotoken.KindOf(err))
			assert.Equal(t, tt.code, ssotoken.CodeOf(err))
			assert.Equal(t, ssotoken.Response{}, resp)
		})
	}
}

func TestClientBadAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		max    int64
		kind   ssotoken.Kind
		code   string
	}{
		{name: "200 with ReturnCode 0", status: 200, body: `{"ReturnCode":0,"ReturnMessage":"no","TokenRefNo":"","TokenNo":""}`, kind: ssotoken.ErrUpstream, code: CodeIssuerRefused},
		{name: "200 without a token", status: 200, body: `{"ReturnCode":1,"ReturnMessage":"ok","TokenRefNo":"1","TokenNo":""}`, kind: ssotoken.ErrUpstream, code: CodeIssuerBadResponse},
		{name: "200 not JSON", status: 200, body: `<html>`, kind: ssotoken.ErrUpstream, code: CodeIssuerBadResponse},
		{name: "200 too large", status: 200, body: `{"ReturnCode":1,"TokenNo":"` + strings.Repeat("a", 200) + `"}`, max: 100, kind: ssotoken.ErrUpstream, code: CodeIssuerBadResponse},
		{name: "500 with an HTML page", status: 500, body: `<h1>oops</h1>`, kind: ssotoken.ErrUpstream, code: "remote_internal_server_error"},
		{name: "503", status: 503, kind: ssotoken.ErrUpstream, code: "remote_service_unavailable"},
		{name: "401 without envelope", status: 401, kind: ssotoken.ErrUnauthorized, code: "remote_unauthorized"},
		{name: "403 with a code that is not ours", status: 403, body: `{"ReturnCode":0,"ReturnMessage":"nope","ErrorCode":"Bad Code!"}`, kind: ssotoken.ErrForbidden, code: "remote_forbidden"},
		{name: "504", status: 504, body: `{"ReturnCode":0,"ReturnMessage":"Timed out","ErrorCode":"deadline_exceeded"}`, kind: ssotoken.ErrTimeout, code: "deadline_exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "/base/v2/get_sso_token", r.URL.Path)
				assert.Equal(t, "Bearer b", r.Header.Get("Authorization"))
				assert.Equal(t, "1.0.0", r.Header.Get("x-api-version"))
				assert.Equal(t, "cid", r.Header.Get("x-lob-client-id"))
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := NewClient(ClientConfig{
				BaseURL: srv.URL + "/base/", ClientID: "cid", MaxResponseBytes: tt.max,
				Token: func(context.Context) (string, error) { return "b", nil },
			})
			require.NoError(t, err)
			_, err = c.Issue(context.Background(), ssotoken.Request{CIINo: "1", LOBId: "01", Functionality: "D"})
			assert.Equal(t, tt.kind, ssotoken.KindOf(err), "%v", err)
			assert.Equal(t, tt.code, ssotoken.CodeOf(err))
		})
	}
}

func TestClientTransportFailures(t *testing.T) {
	// A server that is closed: nothing listens on its port any more.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	c, err := NewClient(ClientConfig{BaseURL: closed.URL, ClientID: "cid", Token: func(context.Context) (string, error) { return "b", nil }})
	require.NoError(t, err)
	_, err = c.Issue(context.Background(), ssotoken.Request{})
	assert.Equal(t, CodeIssuerUnreachable, ssotoken.CodeOf(err))

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	c, err = NewClient(ClientConfig{BaseURL: slow.URL, ClientID: "cid", Token: func(context.Context) (string, error) { return "b", nil }})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = c.Issue(ctx, ssotoken.Request{})
	assert.ErrorIs(t, err, ssotoken.ErrTimeout)

	c, err = NewClient(ClientConfig{BaseURL: slow.URL, ClientID: "cid", Token: func(context.Context) (string, error) { return "", errors.New("sts down") }})
	require.NoError(t, err)
	_, err = c.Issue(context.Background(), ssotoken.Request{})
	assert.Equal(t, CodeBearerUnavailable, ssotoken.CodeOf(err))
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)
}

func TestNewClientErrors(t *testing.T) {
	tok := func(context.Context) (string, error) { return "", nil }
	for name, cfg := range map[string]ClientConfig{
		"no URL":        {ClientID: "c", Token: tok},
		"ftp URL":       {BaseURL: "ftp://x", ClientID: "c", Token: tok},
		"no host":       {BaseURL: "https://", ClientID: "c", Token: tok},
		"no client id":  {BaseURL: "https://x", Token: tok},
		"no token":      {BaseURL: "https://x", ClientID: "c"},
		"negative size": {BaseURL: "https://x", ClientID: "c", Token: tok, MaxResponseBytes: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewClient(cfg)
			assert.Error(t, err)
		})
	}
}

// TestClientsFollowNoRedirect: a redirect never carries the bearer token
// or the cookie elsewhere; it is an upstream error.
func TestClientsFollowNoRedirect(t *testing.T) {
	var leaked atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			leaked.Add(1)
		}
	}))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()

	c, err := NewClient(ClientConfig{BaseURL: redirect.URL, ClientID: "cid", Token: func(context.Context) (string, error) { return "secret-bearer", nil }})
	require.NoError(t, err)
	_, err = c.Issue(context.Background(), ssotoken.Request{CIINo: "1", LOBId: "01", Functionality: "D"})
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)

	cc, err := NewCookieClient(CookieClientConfig{URL: redirect.URL + CookieSSOPath})
	require.NoError(t, err)
	_, err = cc.Exchange(context.Background(), "ssoCookie", "secret-cookie")
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)
	assert.Zero(t, leaked.Load(), "nothing was sent to the redirect's target")
}
