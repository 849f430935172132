// Command lobapp is a linked line of business: it accepts a TokenNo from
// GenerateSSOToken (POST /sso, as a TokenNo form field or an Authorization
// header), verifies it, accepts each token once, starts its own session
// and shows who arrived and for what. It verifies HS256 tokens with the
// secret it shares with the issuer:
//
//	SSO_SECRET=... go run ./examples/ssoserver
//	SSO_SECRET=... go run ./examples/lobapp
//
// or RS256, ES256 and EdDSA tokens with the public keys the issuer
// publishes, holding no secret at all (a new key of the issuer is fetched
// when its first token arrives):
//
//	go run ./examples/ssoserver -sso-key sso.pem
//	go run ./examples/lobapp -sso-jwks-url http://127.0.0.1:8080/.well-known/jwks.json
//
// Then POST a TokenNo from the server to http://127.0.0.1:8081/sso, or
// open the portal page that ssoserver prints in a browser. A browser (an
// Accept header that asks for text/html) gets HTML pages: after a good
// token a redirect to the welcome page, and a refusal page for a used,
// expired or other LOB's token. Any other client gets the JSON envelope.
//
// A session is a signed cookie (an HS256 JWT under -session-key, 8 hours)
// and no record on the server, so that no flood of arrivals can end
// anyone's session, and instances that share the key share the sessions.
// Single use is kept in a replay store: in memory, with a share per CIINo
// so that one user who redeems tokens in volume is refused (429
// too_many_tokens) and the others are not, or with -redis-addr in a Redis
// that every instance shares.
package main

import (
	"context"
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
	"syscall"
	"time"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/internal/redisaddr"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

func main() {
	o, err := parseOptions(os.Args[1:], os.Getenv, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lobapp:", err)
		os.Exit(2)
	}
	o.app.logger = slog.Default()
	redisaddr.LogTo(o.app.logger) // go-redis's own lines (a failed dial) in the same format
	if o.metricsAddr != "" {
		o.app.metrics = newMetrics()
	}
	app, err := newApp(o.app)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lobapp:", err)
		os.Exit(2)
	}
	defer app.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lobapp: -addr %s: %v\n", o.addr, err)
		os.Exit(1)
	}
	if o.metricsAddr != "" {
		mln, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			ln.Close()
			fmt.Fprintf(os.Stderr, "lobapp: -metrics-addr %s: %v\n", o.metricsAddr, err)
			os.Exit(1)
		}
		defer serveMetrics(mln, o.app.metrics, slog.Default())()
	}
	if err := serve(ctx, ln, app, slog.Default(), o.app.verification()...); err != nil {
		fmt.Fprintln(os.Stderr, "lobapp:", err)
		os.Exit(1)
	}
}

// options are lobapp's command line.
type options struct {
	addr        string
	metricsAddr string // -metrics-addr: the opt-in Prometheus listener, off when empty
	app         appConfig
}

// parseOptions reads the command line, and from getenv what a flag does
// not give: SSO_SECRET unless a flag names the TokenNo key,
// SSO_SESSION_KEY, SSO_REDIS_ADDR, SSO_REPLAY_ENTRIES and
// SSO_REPLAY_ENTRIES_PER_CALLER. It refuses replay store sizes that make
// no sense. -h writes the usage to usage and returns flag.ErrHelp.
func parseOptions(args []string, getenv func(string) string, usage io.Writer) (*options, error) {
	o := &options{}
	c := &o.app
	fs := flag.NewFlagSet("lobapp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8081", "listen `address`")
	fs.StringVar(&c.secret, "sso-secret", "", "HS256 `secret` shared with the issuer, 32 bytes or more (env SSO_SECRET)")
	fs.StringVar(&c.jwksURL, "sso-jwks-url", "", "verify TokenNo signed with RS256, ES256 or EdDSA with the public keys of the issuer's JWKS at `URL` (ssoserver -sso-key serves http://ADDR/.well-known/jwks.json) instead of an HS256 secret; excludes -sso-secret, and SSO_SECRET is not read. Refreshed every -sso-jwks-refresh, and fetched again when a TokenNo names an unknown key (a rotation), at most once per -sso-jwks-refetch; while no key was ever fetched, TokenNo get 502 jwks_unavailable")
	fs.DurationVar(&c.refresh, "sso-jwks-refresh", ssotoken.DefaultRefreshInterval, "with -sso-jwks-url: how often the JWKS is fetched again in the background")
	fs.DurationVar(&c.refetch, "sso-jwks-refetch", ssotoken.DefaultRefetchInterval, "with -sso-jwks-url: the least time between two fetches caused by TokenNo with an unknown key id (at least 100ms); a newly published key is accepted at the latest that long after its first token")
	fs.StringVar(&c.lob, "lob", "XX", "this line of business's `LOBId` (XX is the one the GenerateSSOToken document's request sample asks for)")
	fs.DurationVar(&c.leeway, "leeway", 30*time.Second, "clock skew allowed between the issuer and this app")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "listen `address` of the Prometheus metrics (GET /metrics), a listener of its own: use loopback (127.0.0.1:9091) or a network only the scraper reaches; off when empty")
	fs.DurationVar(&c.maxLifetime, "max-lifetime", ssotoken.DefaultTTL, "the longest TokenNo lifetime (exp - iat) accepted: at least the issuer's -sso-ttl")
	fs.StringVar(&c.sessionKeyText, "session-key", "", "HS256 `key` of the session cookies, 32 bytes or more, not the TokenNo secret (env SSO_SESSION_KEY); give every instance of the LOB the same one. Without it, a random key of this process: its sessions end when it restarts, and no other instance accepts them")
	fs.StringVar(&c.redisAddr, "redis-addr", "", "redeem TokenNo in the Redis at `address`, which every instance of the LOB shares, so that a token is accepted once across all of them: host:port, host:port,... (the nodes of a Redis Cluster) or a redis:// or rediss:// URL (env SSO_REDIS_ADDR). Without it, in this process's memory")
	fs.IntVar(&c.replayEntries, "replay-entries", ssotoken.DefaultReplayEntries, "without -redis-addr: the most unexpired TokenNo the memory replay store holds; when it is full, TokenNo are refused 502 replay_store_full (env SSO_REPLAY_ENTRIES)")
	fs.IntVar(&c.replayPerCaller, "replay-entries-per-caller", ssotoken.DefaultReplayEntriesPerCaller, "without -redis-addr: the most unexpired TokenNo of one CIINo that the memory replay store holds; past it, that CIINo's TokenNo are refused 429 too_many_tokens until its oldest expires, and everyone else's are accepted (env SSO_REPLAY_ENTRIES_PER_CALLER)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(usage)
			fmt.Fprint(usage, `Usage: lobapp [flags]

A linked LOB: POST a TokenNo to /sso (TokenNo form field or Authorization header).
Browsers get HTML pages, other clients the JSON envelope. TokenNo are verified with
the HS256 secret shared with the issuer (-sso-secret or SSO_SECRET), or with the
issuer's public keys (-sso-jwks-url), and accepted once: in memory, or with
-redis-addr in a Redis every instance shares. A session is a signed cookie
(-session-key or SSO_SESSION_KEY, the same for every instance). GET /readyz answers
200 once TokenNo can be accepted (the JWKS fetched, the replay store answering),
else 503 and why.

Flags:
`)
			fs.PrintDefaults()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case !set["sso-jwks-url"] && (set["sso-jwks-refresh"] || set["sso-jwks-refetch"]):
		return nil, errors.New("-sso-jwks-refresh and -sso-jwks-refetch need -sso-jwks-url")
	case !set["sso-jwks-url"] && !set["sso-secret"]:
		c.secret = getenv("SSO_SECRET") // read after parsing, so that -h never shows it
	}
	if !set["session-key"] {
		c.sessionKeyText = getenv("SSO_SESSION_KEY")
	}
	if !set["redis-addr"] {
		c.redisAddr = getenv("SSO_REDIS_ADDR")
	}
	for _, n := range []struct {
		flag, env string
		v         *int
	}{{"replay-entries", "SSO_REPLAY_ENTRIES", &c.replayEntries}, {"replay-entries-per-caller", "SSO_REPLAY_ENTRIES_PER_CALLER", &c.replayPerCaller}} {
		e := strings.TrimSpace(getenv(n.env))
		if set[n.flag] || e == "" {
			continue
		}
		v, err := strconv.Atoi(e)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: want a whole number", n.env, e)
		}
		*n.v, set[n.flag] = v, true
	}
	switch {
	case c.redisAddr != "" && (set["replay-entries"] || set["replay-entries-per-caller"]):
		return nil, errors.New("-replay-entries and -replay-entries-per-caller (SSO_REPLAY_ENTRIES, SSO_REPLAY_ENTRIES_PER_CALLER) size the memory replay store; with -redis-addr (SSO_REDIS_ADDR) TokenNo are redeemed in Redis: give one or the other")
	case c.replayEntries < 1:
		return nil, fmt.Errorf("-replay-entries (SSO_REPLAY_ENTRIES) is %d: the store must hold at least one TokenNo", c.replayEntries)
	case c.replayPerCaller < 1:
		return nil, fmt.Errorf("-replay-entries-per-caller (SSO_REPLAY_ENTRIES_PER_CALLER) is %d: every CIINo must be able to redeem at least one TokenNo", c.replayPerCaller)
	case c.replayPerCaller > c.replayEntries && !set["replay-entries-per-caller"]:
		return nil, fmt.Errorf("-replay-entries (%d) is less than the default -replay-entries-per-caller (%d): give -replay-entries-per-caller too, a fraction of the store, so that no one CIINo can fill it", c.replayEntries, c.replayPerCaller)
	case c.replayPerCaller > c.replayEntries:
		return nil, fmt.Errorf("-replay-entries-per-caller (%d) is more than -replay-entries (%d): one CIINo's share cannot be more than the whole store", c.replayPerCaller, c.replayEntries)
	}
	c.now = time.Now
	return o, nil
}

// serve serves h on ln until ctx is done, then shuts down gracefully. Its
// first log line gives the URL it serves and attrs (what it verifies
// TokenNo with); it logs its shutdown, why, and its end.
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, attrs ...any) error {
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("lobapp listening", append([]any{"url", "http://" + ln.Addr().String()}, attrs...)...)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("lobapp shutting down", "cause", context.Cause(ctx).Error())
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("lobapp stopped before its requests ended", "error", err.Error())
		return err
	}
	<-errc // http.ErrServerClosed
	logger.Info("lobapp stopped")
	return nil
}

// verification describes, for the log, what c verifies TokenNo with: the
// shared HS256 secret (never its value) or the issuer's JWKS URL; the
// LOBId it accepts; and where each TokenNo is redeemed once (never the
// Redis address, which may hold a password).
func (c appConfig) verification() []any {
	if c.jwksURL != "" {
		return []any{"lob", c.lob, "verifies_with", "JWKS", "jwks_url", c.jwksURL, "replay_store", c.replayStoreName()}
	}
	return []any{"lob", c.lob, "verifies_with", "HS256 secret", "replay_store", c.replayStoreName()}
}

// app is the LOB: a verifier with single use, and the key of its
// sessions. It holds nothing per session or per user (its replay store
// holds each TokenNo until it expires, within its bounds).
type app struct {
	lob      string
	mux      *http.ServeMux
	sessions *sessions
	close    func() // stops the key set's background work and closes the Redis client
}

// appConfig configures the LOB: its id, one kind of TokenNo key, the
// session key, and the replay store.
type appConfig struct {
	lob                 string
	secret              string // the HS256 secret shared with the issuer, or
	jwksURL             string // the issuer's JWKS, for RS256, ES256 and EdDSA
	refresh, refetch    time.Duration
	leeway, maxLifetime time.Duration
	sessionKeyText      string // -session-key; empty for a random key of this process
	redisAddr           string // -redis-addr; empty for the memory store, sized by:
	replayEntries       int    // -replay-entries; 0 means ssotoken.DefaultReplayEntries
	replayPerCaller     int    // -replay-entries-per-caller; 0 means ssotoken.DefaultReplayEntriesPerCaller
	now                 func() time.Time
	logger              *slog.Logger // the audit records of redemptions, and start-up warnings; nil for none
	metrics             *metrics     // nil without -metrics-addr
}

// keys returns the key set of c and the func that stops it.
func (c appConfig) keys() (ssotoken.KeySet, func(), error) {
	switch {
	case c.jwksURL != "" && c.secret != "":
		return nil, nil, errors.New("-sso-jwks-url and -sso-secret are exclusive: TokenNo are verified with the issuer's public keys or with a shared secret, not both")
	case c.jwksURL != "":
		remote, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{
			URL: c.jwksURL, RefreshInterval: c.refresh, RefetchInterval: c.refetch, Now: c.now, OnFetch: c.metrics.onFetch(),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("-sso-jwks-url, -sso-jwks-refresh or -sso-jwks-refetch: %w", err)
		}
		return remote, func() { remote.Close() }, nil
	case c.secret == "":
		return nil, nil, errors.New("no TokenNo key: give the HS256 secret shared with the issuer (-sso-secret or SSO_SECRET), or the issuer's JWKS (-sso-jwks-url)")
	}
	key, err := ssotoken.NewHMACKey("", []byte(c.secret))
	if err != nil {
		return nil, nil, fmt.Errorf("-sso-secret: %w", err)
	}
	ring, err := ssotoken.NewKeyring(key)
	return ring, func() {}, err
}

// newApp returns the LOB of c, or an error that names the flag at fault.
// Without a session key it warns on c.logger that its sessions are this
// process's alone.
func newApp(c appConfig) (*app, error) {
	sessionKey, random, err := c.sessionKey()
	if err != nil {
		return nil, err
	}
	keys, stopKeys, err := c.keys()
	if err != nil {
		return nil, err
	}
	replay, closeReplay, err := c.replayStore()
	if err != nil {
		stopKeys()
		return nil, err
	}
	stop := func() { stopKeys(); closeReplay() }
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys:        keys,
		LOBId:       c.lob,
		Leeway:      c.leeway,
		MaxLifetime: c.maxLifetime,
		Replay:      replay,
		OnRedeem:    c.metrics.onRedeem(),
		Now:         c.now,
	})
	if err != nil {
		stop()
		return nil, err
	}
	if random && c.logger != nil {
		c.logger.Warn("lobapp sessions are signed with a random key of this process: they end when it restarts, and no other instance accepts them; give every instance the same -session-key (or SSO_SESSION_KEY)")
	}
	a := &app{lob: c.lob, mux: http.NewServeMux(), sessions: newSessions(sessionKey, c.lob, c.now), close: stop}
	a.mux.Handle("POST /sso", httpadapter.RequireSSOToken(v, httpadapter.SSOTokenOptions{
		ErrorHandler: a.refuse, Logger: c.logger, OnEvent: c.metrics.onEvent(),
	})(http.HandlerFunc(a.arrive)))
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /readyz", readyz(v))
	return a, nil
}

// Close stops the background work of the app's key set and closes its
// Redis client.
func (a *app) Close() { a.close() }

// ServeHTTP serves the LOB: POST /sso, GET / and GET /readyz.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// arrive starts a session for the verified TokenNo in r's context: a
// signed cookie, and nothing kept here. A browser is sent on to the
// welcome page (303, so that reloading it posts nothing again); an API
// client gets the claims in the JSON envelope.
func (a *app) arrive(w http.ResponseWriter, r *http.Request) {
	c, _ := httpadapter.ClaimsFromContext(r.Context())
	v, err := a.sessions.issue(c)
	if err != nil {
		a.refuse(w, r, err)
		return
	}
	http.SetCookie(w, sessionCookieFor(r, v))
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
// the JSON envelope for anyone else; either with WriteError's headers (a
// challenge on 401, Retry-After on 429).
func (a *app) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if !wantsHTML(r) {
		httpadapter.WriteError(w, err)
		return
	}
	status := httpadapter.StatusFor(err)
	if c := httpadapter.Challenge(err); c != "" {
		w.Header().Set("WWW-Authenticate", c)
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", retryAfter(ssotoken.RetryAfterOf(err)))
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
	ssotoken.CodeUnknownKey:       "This TokenNo was signed with a key the portal does not publish (any more).",
	ssotoken.CodeKeysUnavailable:  "The portal's keys could not be fetched: try again in a moment.",
	ssotoken.CodeTooManyTokens:    "Too many TokenNo were used for you lately: try again later.",
	ssotoken.CodeReplayStoreFull:  "The LOB cannot accept more sign-ins right now: try again in a moment.",
	redisreplay.CodeUnavailable:   "The LOB cannot check this TokenNo right now: try again in a moment.",
}

// retryAfter is the Retry-After value of a wait of d, as WriteError
// writes it: whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(int64(max((d+time.Second-1)/time.Second, 1)), 10)
}

// refusal is what the refusal page shows.
type refusal struct {
	LOB, Code, Message, Reason string
	Status                     int
}

// home shows the session's user. A cookie that is no session of this
// LOB (tampered with, expired, under another key, too long) is no session:
// 401, never an error.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s, ok := a.sessions.fromRequest(r)
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, "no session: POST a TokenNo to /sso\n")
		return
	}
	a.render(w, http.StatusOK, welcomePage, s)
}

// style is the pages' look.
const style = `<style>
body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #1d1d1f; }
#welcome { border-left: 4px solid #16a34a; padding-left: 1rem; }
#refusal { border-left: 4px solid #dc2626; padding-left: 1rem; }
small { color: #555; }
</style>`

// The pages: the welcome page shows a session's claims, the refusal page
// a refusal.
var (
	welcomePage = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>LOB {{.LOBId}}</title>
` + style + `
<h1>LOB {{.LOBId}}</h1>
<p id="welcome">Welcome, CIINo {{.CIINo}}: you arrived at LOB {{.LOBId}} for functionality {{.Functionality}}
({{with .TokenRefNo}}TokenRefNo {{.}}, {{end}}issued {{.Date}}).</p>
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

// render writes page with data, uncached.
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
