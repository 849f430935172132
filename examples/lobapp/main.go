// Command lobapp is a linked line of business: it accepts a TokenNo from
// GenerateSSOToken (POST /sso, as a TokenNo form field or an Authorization
// header), verifies it with the shared secret, accepts each token once,
// starts its own session and shows who arrived and for what.
//
//	SSO_SECRET=... go run ./examples/ssoserver
//	SSO_SECRET=... go run ./examples/lobapp
//
// Then POST a TokenNo from the server to http://127.0.0.1:8081/sso.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

const sessionCookie = "lob_session"

func main() {
	fs := flag.NewFlagSet("lobapp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8081", "listen `address`")
	secret := fs.String("sso-secret", "", "HS256 `secret` shared with the issuer, 32 bytes or more (env SSO_SECRET)")
	lob := fs.String("lob", "01", "this line of business's `LOBId`")
	leeway := fs.Duration("leeway", 30*time.Second, "clock skew allowed between the issuer and this app")
	maxLifetime := fs.Duration("max-lifetime", ssotoken.DefaultTTL, "the longest TokenNo lifetime (exp - iat) accepted: at least the issuer's -sso-ttl")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("Usage: lobapp [flags]\n\nA linked LOB: POST a TokenNo to /sso (TokenNo form field or Authorization header).\n\nFlags:")
			fs.PrintDefaults()
			return
		}
		fmt.Fprintln(os.Stderr, "lobapp:", err)
		os.Exit(2)
	}
	if *secret == "" {
		*secret = os.Getenv("SSO_SECRET") // read after parsing, so that -h never shows it
	}
	app, err := newApp(*secret, *lob, *leeway, *maxLifetime, time.Now)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lobapp:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, app); err != nil {
		fmt.Fprintln(os.Stderr, "lobapp:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	slog.Info("lobapp listening", "url", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// app is the LOB: a verifier with single use, and its sessions.
type app struct {
	mux *http.ServeMux
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]session
}

type session struct {
	claims  ssotoken.Claims
	expires time.Time
}

const maxSessions = 10_000

func newApp(secret, lob string, leeway, maxLifetime time.Duration, now func() time.Time) (*app, error) {
	key, err := ssotoken.NewHMACKey("", []byte(secret))
	if err != nil {
		return nil, fmt.Errorf("-sso-secret: %w", err)
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys:        ring,
		LOBId:       lob,
		Leeway:      leeway,
		MaxLifetime: maxLifetime,
		Replay:      ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{Now: now}),
		Now:         now,
	})
	if err != nil {
		return nil, err
	}
	a := &app{mux: http.NewServeMux(), now: now, sessions: map[string]session{}}
	a.mux.Handle("POST /sso", httpadapter.RequireSSOToken(v, httpadapter.SSOTokenOptions{})(http.HandlerFunc(a.arrive)))
	a.mux.HandleFunc("GET /{$}", a.home)
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// arrive starts a session for the verified TokenNo in r's context.
func (a *app) arrive(w http.ResponseWriter, r *http.Request) {
	c, _ := httpadapter.ClaimsFromContext(r.Context())
	id := rand.Text()
	s := session{claims: *c, expires: a.now().Add(8 * time.Hour)}
	a.mu.Lock()
	if len(a.sessions) >= maxSessions { // bounded: drop expired sessions, then arbitrary ones
		now := a.now()
		for k, old := range a.sessions {
			if !old.expires.After(now) {
				delete(a.sessions, k)
			}
		}
		for k := range a.sessions {
			if len(a.sessions) < maxSessions {
				break
			}
			delete(a.sessions, k)
		}
	}
	a.sessions[id] = s
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", MaxAge: int((8 * time.Hour).Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	a.render(w, http.StatusOK, s.claims)
}

// home shows the session's user.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	var s session
	ok := false
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.mu.Lock()
		s, ok = a.sessions[c.Value]
		a.mu.Unlock()
	}
	if !ok || !s.expires.After(a.now()) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "no session: POST a TokenNo to /sso\n")
		return
	}
	a.render(w, http.StatusOK, s.claims)
}

var page = template.Must(template.New("").Parse(`<!doctype html>
<title>LOB {{.LOBId}}</title>
<p>Welcome, CIINo {{.CIINo}}: you arrived at LOB {{.LOBId}} for functionality {{.Functionality}}
(TokenRefNo {{.ID}}, issued {{.Date}}).</p>
`))

func (a *app) render(w http.ResponseWriter, status int, c ssotoken.Claims) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = page.Execute(w, c)
}
