package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The raw client sends exactly the request net/http's server parses as the
// document's call, and reads back what the server answers, whatever
// framing net/http picks, over one connection while the server keeps it.
func TestRawConn(t *testing.T) {
	big := strings.Repeat("x", 10000)
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBody   string
		wantDials  int64 // connections for three requests
	}{
		{"small body, Content-Length", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"TokenRefNo":"1"}`) }, 200, `{"TokenRefNo":"1"}`, 1},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, big)
			w.(http.Flusher).Flush()
			io.WriteString(w, "!")
		}, 200, big + "!", 1},
		{"error status", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusUnauthorized) }, 401, "no\n", 1},
		{"empty body", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, 204, "", 1},
		{"Connection: close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		}, 200, "bye", 3},
		{"Connection: keep-alive, close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "keep-alive, close")
			io.WriteString(w, "bye")
		}, 200, "bye", 3},
		{"two equal lengths", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Length"] = []string{"2", "2"}
			io.WriteString(w, "ok")
		}, 200, "ok", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dials atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, endpointPath, r.URL.Path)
				assert.Equal(t, "1.0.0", r.Header.Get("x-api-version"))
				assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
				assert.Equal(t, requestBody, string(body))
				tt.handler(w, r)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					dials.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c := rawClientOf(t, srv.URL)
			defer c.close()
			for range 3 {
				status, body, err := c.do(t.Context())
				require.NoError(t, err)
				assert.Equal(t, tt.wantStatus, status)
				assert.Equal(t, tt.wantBody, string(body))
			}
			assert.Equal(t, tt.wantDials, dials.Load())
		})
	}
}

func rawClientOf(t *testing.T, base string) *rawConn {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	header := http.Header{"X-Api-Version": {"1.0.0"}, "Authorization": {"Bearer tok"}, "Content-Type": {"application/json"}}
	return newRawConn(u.Host, rawRequest(u.Host, endpointPath, header, []byte(requestBody)), 2*time.Second)
}

// Answers the client refuses, from a server that writes raw bytes; after
// each the connection is dropped and the next request dials again.
func TestRawConnRefuses(t *testing.T) {
	tests := []struct {
		name   string
		answer string // "" writes nothing and waits for the client's timeout
		want   string
	}{
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "malformed status line"},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", "malformed status line"},
		{"no CRLF", "HTTP/1.1 200 OK\n\n", "not ended by CRLF"},
		{"bad header", "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", "malformed header line"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", "bad Content-Length"},
		{"signed length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", "bad Content-Length"},
		{"signed status", "HTTP/1.1 +20 OK\r\n\r\n", "malformed status line"},
		{"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", "over 65536"},
		{"gzip framing", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "reading the answer"},
		{"long header line", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxAnswerLine) + "\r\n\r\n", "longer than"},
		{"interim answer", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "unexpected interim answer 100"},
		{"silence", "", "i/o timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			var accepted atomic.Int64
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					accepted.Add(1)
					go func() {
						defer conn.Close()
						br := bufio.NewReader(conn)
						req, err := http.ReadRequest(br)
						if err != nil {
							return
						}
						_, _ = io.Copy(io.Discard, req.Body)
						if tt.answer == "" {
							_, _ = io.Copy(io.Discard, br) // until the client gives up
							return
						}
						_, _ = io.WriteString(conn, tt.answer)
						_, _ = io.Copy(io.Discard, br)
					}()
				}
			}()
			c := rawClientOf(t, "http://"+ln.Addr().String())
			c.timeout = 300 * time.Millisecond
			defer c.close()
			for range 2 {
				_, _, err := c.do(t.Context())
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
				assert.Nil(t, c.conn, "the connection is dropped after an error")
			}
			assert.Equal(t, int64(2), accepted.Load())
		})
	}
}

// The request is what net/http's client would write: one request line,
// Host, Content-Length, the headers, the body.
func TestRawRequest(t *testing.T) {
	b := rawRequest("127.0.0.1:8080", endpointPath, http.Header{"X-Lob-Client-Id": {"abc"}}, []byte(`{}`))
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(b))))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", req.Host)
	assert.Equal(t, int64(2), req.ContentLength)
	assert.Equal(t, "abc", req.Header.Get("x-lob-client-id"))
	body, _ := io.ReadAll(req.Body)
	assert.Equal(t, "{}", string(body))
	assert.True(t, strings.HasPrefix(string(b), "POST /v2/get_sso_token HTTP/1.1\r\n"))
}

// A request in flight fails as soon as its context ends, long before the
// client's own timeout.
func TestRawConnContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			defer conn.Close()
			_, _ = io.Copy(io.Discard, conn) // never answers
		}
	}()
	c := rawClientOf(t, "http://"+ln.Addr().String())
	c.timeout = time.Minute
	defer c.close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = c.do(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Nil(t, c.conn)

	_, _, err = c.do(ctx) // and an ended context sends nothing
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
