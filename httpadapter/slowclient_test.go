package httpadapter

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// eventsOf returns a handler whose every call's Event arrives on the
// channel.
func eventsOf(t *testing.T, mod func(*Config)) (*Handler, <-chan Event) {
	t.Helper()
	events := make(chan Event, 16)
	h, _ := newTestHandler(t, func(c *Config) {
		c.OnEvent = func(_ context.Context, ev Event) { events <- ev }
		if mod != nil {
			mod(c)
		}
	})
	return h, events
}

func nextEvent(t *testing.T, events <-chan Event) Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
		return Event{}
	}
}

// rawRequest is the sample request's head for a body of n bytes.
func rawRequest(n int) string {
	return "POST /v2/get_sso_token HTTP/1.1\r\nHost: api.example.com\r\nx-api-version: 1.0.0\r\n" +
		"x-lob-client-id: " + testClientID + "\r\nContent-Type: application/json\r\nAuthorization: Bearer " + testBearer + "\r\n" +
		"Content-Length: " + strconv.Itoa(n) + "\r\n\r\n"
}

// TestHandlerSlowBodyServerReadTimeout: a body that trickles in holds the
// connection only until the server's ReadTimeout, although the call's
// Timeout is much longer (the handler never extends the read deadline).
func TestHandlerSlowBodyServerReadTimeout(t *testing.T) {
	h, events := eventsOf(t, func(c *Config) { c.Timeout = 45 * time.Second })
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, rawRequest(len(testBody))+`{"CIINo":`)
	require.NoError(t, err)
	done := make(chan struct{})
	defer close(done)
	go func() { // one byte every 50 ms: never idle, never finished
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()

	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "answered before the call's 45 s")
	res.Body.Close()
	assert.Equal(t, http.StatusGatewayTimeout, res.StatusCode)
	assert.Less(t, time.Since(start), 5*time.Second, "bounded by the 300 ms ReadTimeout, not the 45 s Timeout")

	ev := nextEvent(t, events)
	assert.Equal(t, ssotoken.CodeDeadlineExceeded, ev.Code)
	assert.Equal(t, "failed", ev.Outcome())
}

// TestHandlerClientDisconnects: a client that goes away, mid-body or while
// its token is being checked, is recorded as a client disconnect (499,
// refused), not as a timeout.
func TestHandlerClientDisconnects(t *testing.T) {
	t.Run("mid body", func(t *testing.T) {
		h, events := eventsOf(t, nil)
		srv := httptest.NewServer(h)
		defer srv.Close()
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		_, err = io.WriteString(conn, rawRequest(len(testBody))+testBody[:10])
		require.NoError(t, err)
		require.NoError(t, conn.Close())

		ev := nextEvent(t, events)
		assert.Equal(t, StatusClientClosedRequest, ev.Status)
		assert.Equal(t, CodeClientDisconnected, ev.Code)
		assert.Equal(t, "refused", ev.Outcome())
	})
	// (net/http notices a closed connection once the body has been read:
	// while the token is being issued, not while it is authenticated.)
	t.Run("while issuing", func(t *testing.T) {
		entered := make(chan struct{})
		h, events := eventsOf(t, func(c *Config) {
			c.Issuer = ssotoken.IssuerFunc(func(ctx context.Context, _ ssotoken.Request) (ssotoken.Response, error) {
				close(entered)
				<-ctx.Done()
				return ssotoken.Response{}, ssotoken.Wrap(ctx.Err())
			})
		})
		srv := httptest.NewServer(h)
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v2/get_sso_token", strings.NewReader(testBody))
		require.NoError(t, err)
		r.Header = newRequest(testBody).Header.Clone()
		go func() { <-entered; cancel() }()
		_, err = srv.Client().Do(r)
		require.ErrorIs(t, err, context.Canceled)

		ev := nextEvent(t, events)
		assert.Equal(t, StatusClientClosedRequest, ev.Status)
		assert.Equal(t, CodeClientDisconnected, ev.Code)
	})
	t.Run("the call's own deadline stays a timeout", func(t *testing.T) {
		h, events := eventsOf(t, func(c *Config) {
			c.Timeout = 50 * time.Millisecond
			c.Authenticator = ssotoken.AuthenticatorFunc(func(ctx context.Context, _ string) (*ssotoken.Principal, error) {
				<-ctx.Done()
				return nil, ssotoken.Wrap(ctx.Err())
			})
		})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest(testBody))
		assert.Equal(t, http.StatusGatewayTimeout, rec.Code)
		assert.Equal(t, ssotoken.CodeDeadlineExceeded, nextEvent(t, events).Code)
	})
	assert.Equal(t, 499, StatusFor(ErrClientDisconnected))
}
