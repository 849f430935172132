package keyfetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"

	"github.com/ssokit/ssokit/internal/limit"
)

// Errors made by hand: the mapping of each kind, and that wrapping keeps
// it.
func TestReasonOfWrappedErrors(t *testing.T) {
	var syn error = &json.SyntaxError{}
	for want, err := range map[string]error{
		TooLarge:       fmt.Errorf("get: %w", &http.MaxBytesError{Limit: 1}),
		Timeout:        fmt.Errorf("get: %w", context.DeadlineExceeded),
		Canceled:       context.Canceled,
		"HTTP 503":     fmt.Errorf("refresh: %w", fmt.Errorf("%w: %d", jwkset.ErrInvalidHTTPStatusCode, 503)),
		HTTPStatus:     fmt.Errorf("%w: teapot", jwkset.ErrInvalidHTTPStatusCode),
		NotKeySet:      fmt.Errorf("decode: %w", syn),
		InvalidKey:     fmt.Errorf("key: %w", jwkset.ErrJWKValidation),
		Failed:         errors.New("something else"),
		"HTTP 404":     errors.Join(errors.New("first"), fmt.Errorf("%w: %d", jwkset.ErrInvalidHTTPStatusCode, 404)),
		NameResolution: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true},
	} {
		assert.Equal(t, want, Reason(err), "%v", err)
	}
	assert.Equal(t, NotKeySet, Reason(io.ErrUnexpectedEOF))
	assert.Equal(t, OK, Reason(nil))
	assert.Equal(t, HTTPStatus, Status(42))
	assert.Equal(t, "HTTP 200", Status(200))
}

// fetch fetches url once the way cognito and ssotoken.RemoteKeys do:
// jwkset's HTTP storage over a client that follows no redirect, with the
// body capped, and returns its error.
func fetch(t *testing.T, url string, client *http.Client, max int64) error {
	t.Helper()
	if client == nil {
		client = &http.Client{
			Timeout:       2 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := jwkset.NewStorageFromHTTP(url, jwkset.HTTPClientStorageOptions{
		Client:      limit.Client(client, 2*time.Second, max),
		Ctx:         ctx,
		HTTPTimeout: 2 * time.Second,
	})
	return err
}

// Real failures, through a real server, a closed port, a name that does
// not resolve and a TLS server the client does not trust: each is named,
// and no reason holds anything the server sent or the URL's query.
func TestReasonOfRealFailures(t *testing.T) {
	const marker = "SECRET-BODY-MARKER"
	release := make(chan struct{})
	var once sync.Once
	mux := http.NewServeMux()
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, marker, code) }
	}
	body := func(b string, chunked bool) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if !chunked {
				w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			} else {
				w.(http.Flusher).Flush()
			}
			_, _ = io.WriteString(w, b)
		}
	}
	mux.Handle("/503", status(http.StatusServiceUnavailable))
	mux.Handle("/404", status(http.StatusNotFound))
	mux.Handle("/500", status(http.StatusInternalServerError))
	mux.HandleFunc("/204", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/302", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere?"+marker, http.StatusFound)
	})
	mux.HandleFunc("/hold", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.Handle("/html", body("<html>"+marker+"</html>", false))
	mux.Handle("/truncated", body(`{"keys":[{"kty":"`+marker, false))
	mux.Handle("/empty", body("", false))
	mux.Handle("/array", body(`["`+marker+`"]`, false))
	mux.Handle("/keys-string", body(`{"keys":"`+marker+`"}`, false))
	mux.Handle("/invalid-key", body(`{"keys":[{"kty":"RSA","kid":"`+marker+`"}]}`, false))
	mux.Handle("/large", body(strings.Repeat(" ", 2048)+`{"keys":[]}`, false))
	mux.Handle("/large-chunked", body(strings.Repeat(" ", 2048)+`{"keys":[]}`, true))
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, _ *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = c.Close()
		}
	})
	mux.Handle("/ok", body(`{"keys":[]}`, false))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer once.Do(func() { close(release) })

	tlsSrv := httptest.NewUnstartedServer(mux)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake the client refuses
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	// Port 1 (tcpmux) listens nowhere here; a port freed by this test could
	// be taken by another package's server running in parallel.
	closed := "http://127.0.0.1:1/jwks"

	short := &http.Client{Timeout: 200 * time.Millisecond}
	for _, tt := range []struct {
		name, url, want string
		client          *http.Client
	}{
		{name: "503", url: srv.URL + "/503", want: "HTTP 503"},
		{name: "404", url: srv.URL + "/404", want: "HTTP 404"},
		{name: "500", url: srv.URL + "/500", want: "HTTP 500"},
		{name: "204", url: srv.URL + "/204", want: "HTTP 204"},
		{name: "redirect not followed", url: srv.URL + "/302", want: "HTTP 302"},
		{name: "too slow", url: srv.URL + "/hold", want: Timeout, client: short},
		{name: "connection refused", url: closed, want: Refused},
		{name: "TLS, unknown authority", url: tlsSrv.URL + "/ok", want: TLS},
		{name: "HTML", url: srv.URL + "/html", want: NotKeySet},
		{name: "truncated JSON", url: srv.URL + "/truncated", want: NotKeySet},
		{name: "empty body", url: srv.URL + "/empty", want: NotKeySet},
		{name: "JSON array", url: srv.URL + "/array", want: NotKeySet},
		{name: "keys not an array", url: srv.URL + "/keys-string", want: NotKeySet},
		{name: "invalid key", url: srv.URL + "/invalid-key", want: InvalidKey},
		{name: "too large, announced", url: srv.URL + "/large", want: TooLarge},
		{name: "too large, chunked", url: srv.URL + "/large-chunked", want: TooLarge},
		{name: "connection closed", url: srv.URL + "/hangup", want: Failed},
		{name: "a set", url: srv.URL + "/ok", want: OK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := fetch(t, tt.url+"?key="+marker, tt.client, 1024)
			got := Reason(err)
			assert.Equal(t, tt.want, got, "%v", err)
			assert.NotContains(t, got, marker)
			assert.Less(t, time.Since(start), 4*time.Second)
		})
	}
}

// A host name under .invalid (RFC 6761) never resolves: name resolution.
// Without a resolver that answers at once (a sandbox whose DNS times out,
// say) the case is skipped rather than slow.
func TestReasonNameResolution(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, lerr := net.DefaultResolver.LookupHost(ctx, "nonexistent.invalid")
	var dns *net.DNSError
	if !errors.As(lerr, &dns) || dns.IsTimeout || ctx.Err() != nil {
		t.Skipf("the resolver does not refuse nonexistent.invalid at once here: %v", lerr)
	}
	start := time.Now()
	err := fetch(t, "http://nonexistent.invalid/jwks.json?key=secret", nil, 1024)
	assert.Equal(t, NameResolution, Reason(err), "%v", err)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://issuer.example/.well-known/jwks.json":            "https://issuer.example/.well-known/jwks.json",
		"https://user:pw@issuer.example/jwks?api_key=secret#frag": "https://issuer.example/jwks",
		"http://127.0.0.1:8080/jwks?":                             "http://127.0.0.1:8080/jwks",
		"://not a url":                                            "",
	} {
		assert.Equal(t, want, Redact(in), in)
	}
}

func TestTracker(t *testing.T) {
	var tr Tracker
	counts, last, lastOK := tr.Snapshot()
	assert.Nil(t, counts)
	assert.Empty(t, last)
	assert.True(t, lastOK.IsZero())

	t0 := time.Unix(1_700_000_000, 0)
	tr.Record(OK, t0)
	tr.Record("HTTP 503", t0.Add(time.Minute))
	tr.Record("HTTP 503", t0.Add(2*time.Minute))
	counts, last, lastOK = tr.Snapshot()
	assert.Equal(t, map[string]uint64{OK: 1, "HTTP 503": 2}, counts)
	assert.Equal(t, "HTTP 503", last)
	assert.Equal(t, "HTTP 503", tr.Last())
	assert.Equal(t, t0, lastOK)
	counts[OK] = 100 // a copy
	again, _, _ := tr.Snapshot()
	assert.Equal(t, uint64(1), again[OK])
}
