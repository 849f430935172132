// Command ssoserver serves the two API documents ssokit implements:
// GenerateSSOToken (POST /v2/get_sso_token) and the Cookie SSO exchange
// (POST /services/v2/auth/cookiesso/token.json), plus GET
// /services/v2/user.json for the exchanged JWT and GET /healthz.
//
//	go run ./examples/ssoserver        # dev mode, no cloud account needed
//	go run ./examples/ssoserver -h     # every flag
//
// In dev mode an ephemeral RSA key stands in for Cognito; the server prints
// a dev access token, a dev SSO cookie and curl lines that work as pasted.
// With -cognito-user-pool-id (or -cognito-issuer / -cognito-jwks-url) it
// validates real Cognito access tokens instead.
package main

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

func main() {
	o, err := parseOptions(os.Args[1:], os.Getenv, os.Stdout)
	if err != nil {
		exitUsage(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ssoserver:", err)
		os.Exit(1)
	}
}

// run listens, serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	logger := newLogger(o.logFormat, stderr)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()

	srv, dev, cleanup, err := build(o, base, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer cleanup()

	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "dev_mode", o.devMode)
	if o.debugAddr != "" {
		stopDebug, err := serveDebug(o.debugAddr, logger)
		if err != nil {
			hs.Close()
			return fmt.Errorf("-debug-addr: %w", err)
		}
		defer stopDebug()
	}
	if dev != nil {
		dev.print(stdout, base, o)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
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

// serveDebug serves the opt-in debug endpoint (-debug-addr) on its own
// listener: GET /debug/runtime answers {"goroutines":N}, for load tests that
// watch for leaks. It carries no request data, token or configuration.
// The returned func closes it.
func serveDebug(addr string, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/runtime", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(struct {
			Goroutines int `json:"goroutines"`
		}{runtime.NumGoroutine()})
	})
	ds := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second}
	go func() { _ = ds.Serve(ln) }()
	logger.Info("debug endpoint", "url", "http://"+ln.Addr().String()+"/debug/runtime")
	return func() { ds.Close() }, nil
}

// auditLogger is the logger of the per-call audit records: logger, or nil
// (none) with -audit=false.
func auditLogger(on bool, logger *slog.Logger) *slog.Logger {
	if on {
		return logger
	}
	return nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// build wires the packages together: the Cognito authenticator (or its dev
// stand-in), the TokenNo signer, the cookie exchanger and its
// authenticator, the network guard and the routes.
func build(o *options, base string, logger *slog.Logger) (http.Handler, *devCreds, func(), error) {
	mux := http.NewServeMux()
	var (
		auth    *cognito.Authenticator
		dev     *devCreds
		err     error
		cogCfg  = cognito.Config{ClientIDs: o.cognitoClientIDs, TokenUse: cognito.TokenUseAccess, RequiredScopes: o.reqScopes, DisableCache: !o.cognitoCache, Logger: logger}
		closers []func()
	)
	cleanup := func() {
		for _, c := range closers {
			c()
		}
	}
	if o.devMode {
		if dev, err = newDevCreds(o, base); err != nil {
			return nil, nil, cleanup, err
		}
		cogCfg.Issuer = dev.issuer
		if auth, err = cognito.NewStatic(cogCfg, dev.jwks); err != nil {
			return nil, nil, cleanup, err
		}
		mux.Handle("GET /dev/cognito/.well-known/jwks.json", httpadapter.JWKSHandler(dev.cognitoKeys, time.Minute))
	} else {
		cogCfg.Region, cogCfg.UserPoolID, cogCfg.Issuer, cogCfg.JWKSURL = o.cognitoRegion, o.cognitoPool, o.cognitoIssuer, o.cognitoJWKS
		if auth, err = cognito.New(cogCfg); err != nil {
			return nil, nil, cleanup, err
		}
	}
	closers = append(closers, func() { auth.Close() })

	var ssoKeys *ssotoken.Keyring
	if o.ssoKey != nil {
		if ssoKeys, err = ssotoken.NewKeyring(o.ssoKey); err != nil {
			return nil, nil, cleanup, err
		}
		mux.Handle("/.well-known/jwks.json", httpadapter.JWKSHandler(ssoKeys, 0))
	} else if ssoKeys, err = hmacRing(o.ssoSecret); err != nil {
		return nil, nil, cleanup, fmt.Errorf("-sso-secret: %w", err)
	}
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ssoKeys, TTL: o.ssoTTL})
	if err != nil {
		return nil, nil, cleanup, err
	}
	guard := o.guard
	generate, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: auth,
		Issuer:        signer,
		Clients:       registry(o.clients, o.cognitoClientIDs),
		APIVersions:   o.apiVersions,
		CIINoClaim:    o.ciinoClaim,
		Guard:         guard,
		Timeout:       o.timeout,
		Logger:        auditLogger(o.audit, logger),
	})
	if err != nil {
		return nil, nil, cleanup, err
	}

	cookieValidator, err := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: []byte(o.cookieSecret)})
	if err != nil {
		return nil, nil, cleanup, fmt.Errorf("-cookie-secret: %w", err)
	}
	apiKeys, err := hmacRing(o.apiSecret)
	if err != nil {
		return nil, nil, cleanup, fmt.Errorf("-api-secret: %w", err)
	}
	exchanger, err := cookiesso.New(cookiesso.Config{CookieName: o.cookieName, Validator: cookieValidator, Keys: apiKeys, AllowedOrigins: o.cookieOrigins})
	if err != nil {
		return nil, nil, cleanup, err
	}
	apiAuth, err := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: apiKeys})
	if err != nil {
		return nil, nil, cleanup, err
	}

	mux.Handle("/v2/get_sso_token", generate) // the handler runs the guard after the method check
	exchange := guard.Middleware(httpadapter.CookieExchangeHandler(exchanger))
	mux.Handle(httpadapter.CookieSSOPath, exchange)
	mux.Handle(httpadapter.CookieSSOAliasPath, exchange)
	mux.Handle("/services/v2/user.json", guard.Middleware(httpadapter.RequireBearer(apiAuth)(http.HandlerFunc(userJSON))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux, dev, cleanup, nil
}

// registry binds every -lob-client to the accepted app clients
// (-cognito-client-id): a caller must hold an access token of one of them.
// With several app clients that need different x-lob-client-ids, use a
// registry of your own (httpadapter.StaticRegistry with AppClients per id).
func registry(clients map[string][]string, appClients []string) httpadapter.StaticRegistry {
	r := make(httpadapter.StaticRegistry, len(clients))
	for id, lobs := range clients {
		r[id] = httpadapter.Registration{LOBs: lobs, AppClients: appClients}
	}
	return r
}

func hmacRing(secret string) (*ssotoken.Keyring, error) {
	key, err := ssotoken.NewHMACKey("", []byte(secret))
	if err != nil {
		return nil, err
	}
	return ssotoken.NewKeyring(key)
}

// userJSON answers the user the exchanged JWT names (GET
// /services/v2/user.json).
func userJSON(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpadapter.WriteError(w, httpadapter.ErrMethodNotAllowed)
		return
	}
	p, _ := httpadapter.PrincipalFromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		Username  string    `json:"username"`
		Roles     []string  `json:"roles"`
		ExpiresAt time.Time `json:"expiresAt"`
	}{p.Subject, p.Groups, p.ExpiresAt.UTC()})
}
