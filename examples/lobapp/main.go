// Command lobapp is a linked line of business: it accepts a TokenNo from
// GenerateSSOToken (POST /sso, as a TokenNo form field or an Authorization
// header), verifies it with the shared secret, accepts each token once,
// starts its own session and shows who arrived and for what.
//
//	SSO_SECRET=... go run ./examples/ssoserver
//	SSO_SECRET=... go run ./examples/lobapp
//
// Then POST a TokenNo from the server to http://127.0.0.1:8081/sso, or
// open the portal page that ssoserver prints in a browser. A browser (an
// Accept header that asks for text/html) gets HTML pages: after a good
// token a redirect to the welcome page, and a refusal page for a used,
// expired or other LOB's token. Any other client gets the JSON envelope.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
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
	lob := fs.String("lob", "XX", "this line of business's `LOBId` (XX is the one the GenerateSSOToken document's request sample asks for)")
	leeway := fs.Duration("leeway", 30*time.Second, "clock skew allowed between the issuer and this app")
	maxLifetime := fs.Duration("max-lifetime", ssotoken.DefaultTTL, "the longest TokenNo lifetime (exp - iat) accepted: at least the issuer's -sso-ttl")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("Usage: lobapp [flags]\n\nA linked LOB: POST a TokenNo to /sso (TokenNo form field or Authorization header).\nBrowsers get HTML pages, other clients the JSON envelope.\n\nFlags:")
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
	lob string
	mux *http.ServeMux
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]session
}

type session struct {
	claims  ssotoken.Claims
	expires time.Time
}

const (
	maxSessions = 10_000
	sessionTTL  = 8 * time.Hour
)

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
	a := &app{lob: lob, mux: http.NewServeMux(), now: now, sessions: map[string]session{}}
	a.mux.Handle("POST /sso", httpadapter.RequireSSOToken(v, httpadapter.SSOTokenOptions{ErrorHandler: a.refuse})(http.HandlerFunc(a.arrive)))
	a.mux.HandleFunc("GET /{$}", a.home)
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// arrive starts a session for the verified TokenNo in r's context. A
// browser is sent on to the welcome page (303, so that reloading it posts
// nothing again); an API client gets the claims in the JSON envelope.
func (a *app) arrive(w http.ResponseWriter, r *http.Request) {
	c, _ := httpadapter.ClaimsFromContext(r.Context())
	id := rand.Text()
	s := session{claims: *c, expires: a.now().Add(sessionTTL)}
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
		Name: sessionCookie, Value: id, Path: "/", MaxAge: int(sessionTTL.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	if wantsHTML(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(welcome{
		ReturnCode: ssotoken.ReturnCodeSuccess, ReturnMessage: "Welcome",
		CIINo: c.CIINo, LOBId: c.LOBId, Functionality: c.Functionality, TokenRefNo: c.ID, Date: c.Date,
	})
}

// welcome is the JSON answer to an API client's good TokenNo.
type welcome struct {
	ReturnCode    int    `json:"ReturnCode"`
	ReturnMessage string `json:"ReturnMessage"`
	CIINo         string `json:"CIINo"`
	LOBId         string `json:"LOBId"`
	Functionality string `json:"Functionality"`
	TokenRefNo    string `json:"TokenRefNo,omitempty"`
	Date          string `json:"Date"`
}

// refuse answers a TokenNo that was not accepted: a page for a browser,
// the JSON envelope for anyone else.
func (a *app) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if !wantsHTML(r) {
		httpadapter.WriteError(w, err)
		return
	}
	status := httpadapter.StatusFor(err)
	if c := httpadapter.Challenge(err); c != "" {
		w.Header().Set("WWW-Authenticate", c)
	}
	code := ssotoken.CodeOf(err)
	a.render(w, status, refusalPage, refusal{
		LOB: a.lob, Status: status, Code: code, Message: ssotoken.MessageOf(err), Reason: reasons[code],
	})
}

// reasons say in a user's words why a TokenNo was refused.
var reasons = map[string]string{
	ssotoken.CodeTokenReplayed:    "This TokenNo was already used: the LOB accepts each one once.",
	ssotoken.CodeTokenExpired:     "This TokenNo has expired.",
	ssotoken.CodeTokenNotYetValid: "This TokenNo is not valid yet: the clocks of the portal and the LOB disagree.",
	ssotoken.CodeWrongLOB:         "This TokenNo was issued for another line of business.",
	ssotoken.CodeBadSignature:     "This TokenNo was not signed by the portal.",
}

type refusal struct {
	LOB, Code, Message, Reason string
	Status                     int
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
	a.render(w, http.StatusOK, welcomePage, s.claims)
}

// style is the pages' look.
const style = `<style>
body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #1d1d1f; }
#welcome { border-left: 4px solid #16a34a; padding-left: 1rem; }
#refusal { border-left: 4px solid #dc2626; padding-left: 1rem; }
small { color: #555; }
</style>`

var (
	welcomePage = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>LOB {{.LOBId}}</title>
` + style + `
<h1>LOB {{.LOBId}}</h1>
<p id="welcome">Welcome, CIINo {{.CIINo}}: you arrived at LOB {{.LOBId}} for functionality {{.Functionality}}
({{with .ID}}TokenRefNo {{.}}, {{end}}issued {{.Date}}).</p>
</html>
`))
	refusalPage = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>LOB {{.LOB}}: not signed in</title>
` + style + `
<h1>You could not be signed in to LOB {{.LOB}}</h1>
<p id="refusal">{{with .Reason}}{{.}}{{else}}{{.Message}}.{{end}}</p>
<p>Go back to the portal and continue to this LOB again: it asks for a new TokenNo.</p>
<p><small>{{.Status}} <code id="code">{{.Code}}</code>: {{.Message}}</small></p>
</html>
`))
)

func (a *app) render(w http.ResponseWriter, status int, page *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = page.Execute(w, data)
}

// wantsHTML reports whether r's Accept header asks for text/html (or
// XHTML) at least as much as for JSON, as a browser's navigation does;
// "*/*" (curl's) and a missing header mean JSON.
func wantsHTML(r *http.Request) bool {
	html, jsonQ := -1.0, -1.0
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
					continue
				}
			}
			switch mt {
			case "text/html", "application/xhtml+xml":
				html = max(html, q)
			case "application/json":
				jsonQ = max(jsonQ, q)
			}
		}
	}
	return html > 0 && html >= jsonQ
}
