package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a log that the test reads while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeLogsStartAndShutdown: the first line gives the URL and what
// TokenNo are verified with, never the secret; the end of the run logs
// the shutdown, its cause, and the stop.
func TestServeLogsStartAndShutdown(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    appConfig
		want string
	}{
		{"secret", appConfig{lob: "XX", secret: testSecret}, `"lob":"XX","verifies_with":"HS256 secret","replay_store":"memory"}`},
		{"JWKS", appConfig{lob: "01", jwksURL: "https://sso.example/.well-known/jwks.json"}, `"lob":"01","verifies_with":"JWKS","jwks_url":"https://sso.example/.well-known/jwks.json","replay_store":"memory"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			var logs syncBuffer
			ctx, cancel := context.WithCancelCause(context.Background())
			done := make(chan error, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
			go func() { done <- serve(ctx, ln, h, slog.New(slog.NewJSONHandler(&logs, nil)), tt.c.verification()...) }()

			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			res, err := client.Get("http://" + ln.Addr().String() + "/")
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusNoContent, res.StatusCode)

			cancel(errors.New("interrupt signal received"))
			require.NoError(t, <-done)
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			require.Len(t, lines, 3, logs.String())
			assert.Contains(t, lines[0], `"msg":"lobapp listening","url":"http://`+ln.Addr().String()+`",`+tt.want)
			assert.Contains(t, lines[1], `"msg":"lobapp shutting down","cause":"interrupt signal received"`)
			assert.Contains(t, lines[2], `"msg":"lobapp stopped"`)
			assert.NotContains(t, logs.String(), testSecret)
		})
	}
}
