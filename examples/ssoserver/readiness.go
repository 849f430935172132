package main

import (
	"io"
	"net/http"

	"github.com/ssokit/ssokit/cognito"
)

// readyz answers the readiness probe (GET /readyz): 200 "ready" once
// every configured user pool's keys have been fetched, else 503 with
// auth.Ready's reason (the issuers without keys and their last fetch's
// result; never a body or a URL's query). /healthz is the liveness probe.
func readyz(auth *cognito.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := auth.Ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "not ready: "+err.Error()+"\n")
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
}
