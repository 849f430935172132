// Command baseline serves POST /v2/get_sso_token with the handler a user
// would write instead of ssokit (internal/baseline, the same one as
// httpadapter's BenchmarkBaselineHandwritten), behind the same http.Server
// settings as examples/ssoserver. It is the baseline of tools/loadtest,
// which starts it; it is not an example to copy.
//
//	baseline -addr 127.0.0.1:0 -issuer http://127.0.0.1:8080/dev/cognito \
//	    -jwks-url http://127.0.0.1:8080/dev/cognito/.well-known/jwks.json
//
// The JWKS is fetched once at start. Like the benchmark, every TokenNo
// carries the same TokenRefNo: the baseline measures the checks and the
// crypto, not a reference number generator.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/internal/baseline"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen `address`")
	issuer := flag.String("issuer", "", "the Cognito `issuer` tokens must carry (required)")
	jwksURL := flag.String("jwks-url", "", "`URL` of the Cognito JWKS, fetched once at start (required)")
	clientID := flag.String("client-id", "dev-app-client", "accepted app client `id`")
	lobClient := flag.String("lob-client", "1RrLMyLrZGA=", "registered x-lob-client-id, allowed LOBId 01")
	debugAddr := flag.String("debug-addr", "", "loopback listen `address` of GET /debug/runtime (goroutine count as JSON); off when empty")
	flag.Parse()
	if *issuer == "" || *jwksURL == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "baseline: -issuer and -jwks-url are required, and no argument")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(ctx, logger, *addr, *debugAddr, *issuer, *jwksURL, *clientID, *lobClient); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger, addr, debugAddr, issuer, jwksURL, clientID, lobClient string) error {
	jwks, err := fetch(ctx, jwksURL)
	if err != nil {
		return fmt.Errorf("JWKS: %w", err)
	}
	secret := []byte(rand.Text() + rand.Text())
	h, err := baseline.New(jwks, issuer, clientID, map[string][]string{lobClient: {"01"}}, secret)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/v2/get_sso_token", h)
	hs := &http.Server{ // as examples/ssoserver
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String())
	if debugAddr != "" {
		dln, err := net.Listen("tcp", debugAddr)
		if err != nil {
			hs.Close()
			return fmt.Errorf("-debug-addr: %w", err)
		}
		dmux := http.NewServeMux()
		dmux.HandleFunc("GET /debug/runtime", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(struct {
				Goroutines int `json:"goroutines"`
			}{runtime.NumGoroutine()})
		})
		ds := &http.Server{Handler: dmux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second}
		go func() { _ = ds.Serve(dln) }()
		defer ds.Close()
		logger.Info("debug endpoint", "url", "http://"+dln.Addr().String()+"/debug/runtime")
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// fetch GETs a JWKS with a timeout and a size limit.
func fetch(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	return io.ReadAll(io.LimitReader(res.Body, 1<<20))
}
