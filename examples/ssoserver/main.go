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
//
// Every flag has an environment variable (-h lists them); every problem in
// them is reported at once, before anything is bound. With -tls-cert and
// -tls-key it serves HTTPS and reloads the pair when its files change or on
// SIGHUP; without them its first log line says where TLS must end.
package main

import (
	"context"
	"crypto/tls"
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
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/internal/redisaddr"
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
		printError(os.Stderr, err)
		os.Exit(1)
	}
}

// run listens, serves until ctx is done, then shuts down gracefully. Its
// first log lines say where TLS ends and, in real mode, whether the
// cookie exchange is served.
func run(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	logger := newLogger(o.logFormat, stderr)
	redisaddr.LogTo(logger) // go-redis's own lines (a failed dial) in the same format
	transportLog(o, logger)
	if !o.cookieExchange {
		logger.Info("cookie exchange off: no -cookie-secret (COOKIE_SECRET) and -api-secret (API_SECRET); " +
			"POST " + httpadapter.CookieSSOPath + ", POST " + httpadapter.CookieSSOAliasPath + " and GET " + userJSONPath + " answer 404")
	}
	// SIGHUP reloads the TLS certificate; without TLS it is logged and
	// ignored, never the end of the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	lns, err := listen(o)
	if err != nil {
		return err
	}
	urls := lns.urls(o.tlsPair != nil)

	var m *metrics
	if lns.metrics != nil {
		m = newMetrics()
	}
	a, err := build(o, urls, logger, m)
	if err != nil {
		lns.close()
		return err
	}
	defer a.cleanup()

	// Background work (the certificate's reloads) ends with the run.
	bg, stopBG := context.WithCancel(context.Background())
	var bgDone sync.WaitGroup
	defer func() {
		stopBG()
		bgDone.Wait()
	}()
	var tlsConfig *tls.Config
	if o.tlsPair != nil {
		certs := newCertReloader(o.tlsCertFile, o.tlsKeyFile, o.tlsPair, logger)
		tlsConfig = certs.tlsConfig()
		bgDone.Go(func() { certs.watch(bg, o.tlsReload, hup) })
	} else {
		bgDone.Go(func() {
			for {
				select {
				case <-bg.Done():
					return
				case <-hup:
					logger.Info("SIGHUP: nothing to reload without -tls-cert")
				}
			}
		})
	}

	// The API's server shuts down gracefully; every server is closed on
	// the way out, whatever ended the run (Close after Shutdown is a no-op).
	apiErr, demoErr := make(chan error, 1), make(chan error, 2)
	var servers []*http.Server
	defer func() {
		for _, hs := range servers {
			hs.Close()
		}
	}()
	serve := func(ln net.Listener, h http.Handler, tc *tls.Config, errc chan<- error) {
		hs := newServer(h, logger, o.readTimeout, o.timeout)
		servers = append(servers, hs)
		if tc == nil {
			go func() { errc <- hs.Serve(ln) }()
			return
		}
		hs.TLSConfig = tc
		go func() { errc <- hs.ServeTLS(ln, "", "") }() // the certificate comes from tc.GetCertificate
	}
	serve(lns.api, a.api, tlsConfig, apiErr)
	logger.Info("listening", "addr", lns.api.Addr().String(), "dev_mode", o.devMode, "url", urls.api)
	switch {
	case a.demo != nil:
		serve(lns.portal, a.demo.portalHandler(), nil, demoErr)
		serve(lns.forum, a.demo.forumHandler(), nil, demoErr)
		logger.Info("demo pages", "portal", urls.portal+"/", "forum", urls.forum+"/")
	case o.demoOff != "":
		logger.Info("demo pages off", "reason", o.demoOff)
	}
	if lns.metrics != nil {
		defer serveMetrics(lns.metrics, m, logger)()
	}
	if lns.debug != nil {
		defer serveDebug(lns.debug, logger)()
	}
	if a.dev != nil {
		a.dev.print(stdout, urls.api, o, urls.portal)
	}

	select {
	case err := <-apiErr:
		return err
	case err := <-demoErr:
		return fmt.Errorf("demo pages: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "cause", context.Cause(ctx).Error())
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := servers[0].Shutdown(sctx); err != nil {
		return err
	}
	if err := <-apiErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// defaultReadTimeout is -read-timeout's default.
const defaultReadTimeout = 10 * time.Second

// newServer returns an http.Server for h with every timeout set: a
// request, its body included, must arrive within readTimeout (a body that
// trickles in is cut then, whatever -timeout says), and its answer may
// take the call's deadline and 5 s more, at least 15 s.
func newServer(h http.Handler, logger *slog.Logger, readTimeout, callTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(5*time.Second, readTimeout),
		ReadTimeout:       readTimeout,
		WriteTimeout:      max(15*time.Second, callTimeout+5*time.Second),
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// listeners are the server's sockets: the API's, in dev mode those of
// the demo pages, and the metrics' and the debug endpoint's when they are
// on.
type listeners struct {
	api, portal, forum, metrics, debug net.Listener
}

// listen opens the listeners of o. An address that cannot be bound (a
// port in use) is named by its flag and environment variable.
func listen(o *options) (*listeners, error) {
	l := &listeners{}
	demo := o.devMode && o.demo
	for _, s := range []struct {
		ln   *net.Listener
		flag string
		addr string
		on   bool
		hint string
	}{
		{&l.api, "addr", o.addr, true, ""},
		{&l.portal, "portal-addr", o.portalAddr, demo, " (or -demo=false)"},
		{&l.forum, "forum-addr", o.forumAddr, demo, " (or -demo=false)"},
		{&l.metrics, "metrics-addr", o.metricsAddr, o.metricsAddr != "", ""},
		{&l.debug, "debug-addr", o.debugAddr, o.debugAddr != "", ""},
	} {
		if !s.on {
			continue
		}
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("%s %s: %w%s", flagName(s.flag), s.addr, err, s.hint)
		}
		*s.ln = ln
	}
	return l, nil
}

func (l *listeners) close() {
	for _, ln := range []net.Listener{l.api, l.portal, l.forum, l.metrics, l.debug} {
		if ln != nil {
			ln.Close()
		}
	}
}

// baseURLs are the bases of the listeners, https:// for the API with TLS;
// portal and forum are empty without the demo.
type baseURLs struct {
	api, portal, forum string
}

func (l *listeners) urls(https bool) baseURLs {
	var u baseURLs
	u.api = "http://" + l.api.Addr().String()
	if https {
		u.api = "https://" + l.api.Addr().String()
	}
	if l.portal != nil {
		u.portal, u.forum = "http://"+l.portal.Addr().String(), "http://"+l.forum.Addr().String()
	}
	return u
}

// serveDebug serves the opt-in debug endpoint (-debug-addr) on its own
// listener: GET /debug/runtime answers {"goroutines":N}, for load tests that
// watch for leaks. It carries no request data, token or configuration.
// The returned func closes it.
func serveDebug(ln net.Listener, logger *slog.Logger) func() {
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
	return func() { ds.Close() }
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

// assembled is what build wires together.
type assembled struct {
	api     http.Handler
	auth    *cognito.Authenticator
	dev     *devCreds // dev mode's credentials, nil in real mode
	demo    *demoSite // dev mode's demo pages, nil without them
	cleanup func()    // stops the background work
}

// build wires the packages together: the Cognito authenticator (or its dev
// stand-in), the TokenNo signer, the cookie exchanger and its
// authenticator, the network guard, CORS and the routes; with m, the
// metrics' hooks.
func build(o *options, urls baseURLs, logger *slog.Logger, m *metrics) (*assembled, error) {
	mux := http.NewServeMux()
	a := &assembled{api: mux}
	var (
		auth    *cognito.Authenticator
		err     error
		cogCfg  = o.cognitoConfig(logger)
		closers []func()
	)
	a.cleanup = func() {
		for _, c := range closers {
			c()
		}
	}
	cogCfg.OnFetch = m.onFetch()
	fail := func(err error) (*assembled, error) {
		a.cleanup()
		return nil, err
	}
	if o.devMode {
		if a.dev, err = newDevCreds(o, urls.api); err != nil {
			return fail(err)
		}
		cogCfg.Issuer = a.dev.issuer
		if auth, err = cognito.NewStatic(cogCfg, a.dev.jwks); err != nil {
			return fail(err)
		}
		mux.Handle("GET /dev/cognito/.well-known/jwks.json", httpadapter.JWKSHandler(a.dev.cognitoKeys, time.Minute))
	} else {
		if auth, err = cognito.New(cogCfg); err != nil {
			return fail(err)
		}
	}
	closers = append(closers, func() { auth.Close() })
	a.auth = auth
	m.watch(auth)

	var ssoKeys *ssotoken.Keyring
	if o.ssoKey != nil {
		if ssoKeys, err = ssotoken.NewKeyring(o.ssoKey, o.ssoVerifyKeys...); err != nil { // the first signs; the others are published
			return fail(err)
		}
		mux.Handle("/.well-known/jwks.json", httpadapter.JWKSHandler(ssoKeys, 0))
	} else if ssoKeys, err = hmacRing(o.ssoSecret); err != nil {
		return fail(fmt.Errorf("-sso-secret: %w", err))
	}
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{
		Keys: ssoKeys, TTL: o.ssoTTL,
		Instance: o.instance, Instances: o.instances, IncludeJTI: o.includeJTI,
	})
	if err != nil {
		return fail(err)
	}
	limiter, closeLimiter, err := issueLimiter(o)
	if err != nil {
		return fail(fmt.Errorf("-issue-limit-redis: %w", err))
	}
	closers = append(closers, closeLimiter)
	guard := o.guard
	generate, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator:        auth,
		Issuer:               signer,
		Clients:              registry(o.clients, o.clientApps),
		APIVersions:          o.apiVersions,
		CIINoClaim:           o.ciinoClaim,
		InsecureUnboundCIINo: o.insecureUnboundCIINo,
		Guard:                guard,
		Limiter:              limiter,
		InsecureNoIssueLimit: o.insecureNoIssueLimit,
		Timeout:              o.timeout,
		Logger:               auditLogger(o.audit, logger),
		OnEvent:              m.onEvent(),
	})
	if err != nil {
		return fail(err)
	}

	// The origins whose pages may call from a browser, at two levels of
	// trust: with a token of their own (-cors-origin, and both demo
	// pages), and with the user's SSO cookie (-cookie-allowed-origin, and
	// the demo's forum), which the cookie exchange also checks itself.
	corsOrigins, cookieOrigins := slices.Clone(o.corsOrigins), slices.Clone(o.cookieOrigins)
	if urls.portal != "" {
		corsOrigins = append(corsOrigins, urls.portal, urls.forum)
		cookieOrigins = append(cookieOrigins, urls.forum)
	}

	var generateH, exchangeH, userH http.Handler = generate, nil, nil // the handler runs the guard after the method check
	if o.cookieExchange {
		if exchangeH, userH, err = cookieExchange(o, cookieOrigins, auditLogger(o.audit, logger), m.onEvent()); err != nil {
			return fail(err)
		}
	}
	if len(corsOrigins) > 0 || len(cookieOrigins) > 0 {
		cors, err := httpadapter.NewCORS(httpadapter.CORSConfig{AllowedOrigins: corsOrigins, CookieExchangeOrigins: cookieOrigins})
		if err != nil {
			return fail(err)
		}
		generateH = cors.GenerateSSOToken(generateH)
		if o.cookieExchange {
			exchangeH, userH = cors.CookieExchange(exchangeH), cors.Bearer(userH)
		}
	}
	mux.Handle("/v2/get_sso_token", m.track(httpadapter.EndpointGenerateSSOToken, generateH))
	if o.cookieExchange { // else its routes are absent: 404
		exchangeH = m.track(httpadapter.EndpointCookieExchange, exchangeH)
		mux.Handle(httpadapter.CookieSSOPath, exchangeH)
		mux.Handle(httpadapter.CookieSSOAliasPath, exchangeH)
		mux.Handle(userJSONPath, m.track(httpadapter.EndpointBearer, userH))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /readyz", readyz(auth))

	if a.dev != nil && urls.portal != "" {
		a.demo = newDemoSite(urls.api, urls.portal, urls.forum, o.lobURL, newDevSample(o), o.apiVersions[0], a.dev, o.cookieName)
	}
	return a, nil
}

// cookieExchange returns the handlers of the cookie exchange and of
// user.json, behind the network guard, with their audit records (logger,
// nil for none) and metrics (onEvent, nil for none): one per call of
// each, user.json's successes included.
func cookieExchange(o *options, cookieOrigins []string, logger *slog.Logger, onEvent func(context.Context, httpadapter.Event)) (exchangeH, userH http.Handler, err error) {
	cookieValidator, err := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: []byte(o.cookieSecret)})
	if err != nil {
		return nil, nil, fmt.Errorf("-cookie-secret: %w", err)
	}
	apiKeys, err := hmacRing(o.apiSecret)
	if err != nil {
		return nil, nil, fmt.Errorf("-api-secret: %w", err)
	}
	exchanger, err := cookiesso.New(cookiesso.Config{CookieName: o.cookieName, Validator: cookieValidator, Keys: apiKeys})
	if err != nil {
		return nil, nil, err
	}
	apiAuth, err := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: apiKeys})
	if err != nil {
		return nil, nil, err
	}
	exchange, err := httpadapter.CookieExchangeHandler(exchanger, httpadapter.CookieExchangeOptions{
		AllowedOrigins: cookieOrigins, Logger: logger, OnEvent: onEvent,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("-cookie-allowed-origin: %w", err)
	}
	return o.guard.Middleware(exchange),
		o.guard.Middleware(httpadapter.RequireBearer(apiAuth, httpadapter.BearerOptions{
			Logger: logger, OnEvent: onEvent, AuditSuccess: true,
		})(http.HandlerFunc(userJSON))), nil
}

// userJSONPath is the route of userJSON.
const userJSONPath = "/services/v2/user.json"

// registry holds every -lob-client with the app clients it is bound to
// (see bindLOBClients).
func registry(clients, apps map[string][]string) httpadapter.StaticRegistry {
	r := make(httpadapter.StaticRegistry, len(clients))
	for id, lobs := range clients {
		r[id] = httpadapter.Registration{LOBs: lobs, AppClients: apps[id]}
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
