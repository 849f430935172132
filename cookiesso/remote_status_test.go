package cookiesso

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// TestRemoteValidatorStatuses: every status but 200, 401 and 403 is an
// upstream failure; its message says "redirect" for exactly the 3xx
// statuses (none is followed), and the status otherwise.
func TestRemoteValidatorStatuses(t *testing.T) {
	noLeaks(t)
	for _, tt := range []struct {
		status int
		msg    string
	}{
		{http.StatusNoContent, "the main site answered 204"},
		{299, "the main site answered 299"},
		{http.StatusMultipleChoices, "the main site answered with a redirect"},
		{http.StatusFound, "the main site answered with a redirect"},
		{http.StatusNotModified, "the main site answered with a redirect"},
		{399, "the main site answered with a redirect"},
		{http.StatusBadRequest, "the main site answered 400"},
		{http.StatusInternalServerError, "the main site answered 500"},
	} {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			site := newMainSite(t, answerStatus(tt.status))
			_, err := newRemote(t, site.URL, nil).Validate(context.Background(), sessionCookie)
			assert.ErrorIs(t, err, ssotoken.ErrUpstream)
			assert.Equal(t, CodeMainSiteUnavailable, ssotoken.CodeOf(err))
			assert.Equal(t, tt.msg, ssotoken.MessageOf(err))
		})
	}
}

// TestRemoteValidatorExpBoundary: a session whose "exp" is now has ended
// (cookie_expired); one that ends a second later is accepted, and cached
// no longer than that second.
func TestRemoteValidatorExpBoundary(t *testing.T) {
	noLeaks(t)
	now := &testClock{now: testNow}
	for _, tt := range []struct {
		exp  int64
		code string
	}{
		{testNow.Unix() - 1, CodeCookieExpired},
		{testNow.Unix(), CodeCookieExpired},
		{testNow.Unix() + 1, ""},
	} {
		site := newMainSite(t, answerJSON(`{"username":"jdoe","exp":`+itoa(tt.exp)+`}`))
		v := newRemote(t, site.URL, func(c *RemoteValidatorConfig) { c.Now = now.Now })
		p, err := v.Validate(context.Background(), sessionCookie)
		if tt.code != "" {
			assert.Nil(t, p)
			assert.Equal(t, tt.code, ssotoken.CodeOf(err), "exp %d: %v", tt.exp, err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, time.Unix(tt.exp, 0), p.ExpiresAt)
		_, err = v.Validate(context.Background(), sessionCookie)
		require.NoError(t, err)
		assert.EqualValues(t, 1, site.hits.Load(), "cached within its second")
		now.Add(time.Second)
		_, err = v.Validate(context.Background(), sessionCookie)
		assert.Equal(t, CodeCookieExpired, ssotoken.CodeOf(err), "asked again once it ended: %v", err)
		assert.EqualValues(t, 2, site.hits.Load())
	}
}

// TestRemoteValidatorMethods: GET (the default, or named) and POST are
// sent as configured; any other method is refused by the constructor.
func TestRemoteValidatorMethods(t *testing.T) {
	noLeaks(t)
	for _, tt := range []struct{ method, sent string }{
		{"", http.MethodGet},
		{http.MethodGet, http.MethodGet},
		{http.MethodPost, http.MethodPost},
	} {
		site := newMainSite(t, answerJSON(`{"username":"jdoe"}`))
		v := newRemote(t, site.URL, func(c *RemoteValidatorConfig) { c.Method = tt.method })
		_, err := v.Validate(context.Background(), sessionCookie)
		require.NoError(t, err, "%q", tt.method)
		_, sent := site.last()
		assert.Equal(t, tt.sent, sent, "%q", tt.method)
	}
	for _, m := range []string{http.MethodPut, http.MethodHead, "get", "GET "} {
		_, err := NewRemoteValidator(RemoteValidatorConfig{URL: "https://main.example/session", Method: m})
		assert.Error(t, err, "%q", m)
	}
}
