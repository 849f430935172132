package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// options are the command line of the project's design ("The example server's command
// line".
type options struct {
	addr string

	cognitoRegion, cognitoPool  string
	cognitoIssuer, cognitoJWKS  string
	cognitoClientIDs, reqScopes listFlag
	ciinoClaim                  string
	insecureUnboundCIINo        bool // -insecure-unbound-ciino
	ssoSecret                   string
	ssoKeyFiles                 listFlag        // -sso-key: PEM key files for asymmetric TokenNo, the signing one first
	ssoKey                      *ssotoken.Key   // loaded from ssoKeyFiles[0]: signs
	ssoVerifyKeys               []*ssotoken.Key // loaded from ssoKeyFiles[1:]: published only
	ssoTTL                      time.Duration
	instance, instances         int           // -instance, -instances: this instance's number in its fleet
	includeJTI                  bool          // -include-jti
	timeout                     time.Duration // -timeout: deadline of one GenerateSSOToken call
	apiVersions                 listFlag
	lobClients                  listFlag
	allowCIDRs, allowHosts      listFlag
	trustedProxies              listFlag
	cookieOrigins               listFlag
	corsOrigins                 listFlag // -cors-origin (env SSO_CORS_ORIGINS)
	demo                        bool     // -demo: dev mode's portal and forum pages
	demoOff                     string   // why the demo is off although -demo is set
	portalAddr, forumAddr       string   // their listen addresses
	lobURL                      string   // -lob-url: where the portal hands the TokenNo
	cookieName, cookieSecret    string
	apiSecret                   string
	logFormat                   string
	cognitoCache                bool                // -cognito-cache: the verified-token cache (default on)
	audit                       bool                // -audit: one log record per GenerateSSOToken call (default on)
	debugAddr                   string              // -debug-addr: the opt-in debug listener, off when empty
	clients                     map[string][]string // parsed -lob-client: id to its LOBs
	clientApps                  map[string][]string // parsed -lob-client: id to the app clients that may present it
	guard                       *httpadapter.Guard  // from -allow-cidr, -allow-host, -trusted-proxy
	devMode                     bool
}

// parseOptions parses args (without the program name), with environment
// variables (SSO_ADDR, SSO_SECRET, COOKIE_SECRET, API_SECRET) for the flags
// not given. Secrets from the environment are read after parsing, so that
// -h never prints them. An error is one line.
func parseOptions(args []string, getenv func(string) string, usage io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("ssoserver", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported in one line by the caller
	envOr := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&o.addr, "addr", envOr("SSO_ADDR", "127.0.0.1:8080"), "listen `address` (env SSO_ADDR)")
	fs.StringVar(&o.cognitoRegion, "cognito-region", "", "AWS `region` of the user pool (read from the pool id when empty)")
	fs.StringVar(&o.cognitoPool, "cognito-user-pool-id", "", "Cognito user pool `id`, e.g. eu-west-1_AbCdEf123; turns dev mode off")
	fs.StringVar(&o.cognitoIssuer, "cognito-issuer", "", "explicit token issuer `URL`; turns dev mode off")
	fs.StringVar(&o.cognitoJWKS, "cognito-jwks-url", "", "explicit JWKS `URL` (http allowed, for local stand-ins); turns dev mode off")
	fs.Var(&o.cognitoClientIDs, "cognito-client-id", "accepted app client `id` (client_id of access tokens); repeatable")
	fs.Var(&o.reqScopes, "required-scope", "`scope` the caller's access token must carry, else 403; repeatable")
	fs.StringVar(&o.ciinoClaim, "ciino-claim", "", "the body's CIINo must equal this `claim` of the caller's token (for example custom:ciino), else 403; required with a real user pool unless -insecure-unbound-ciino (dev mode: custom:ciino)")
	fs.BoolVar(&o.insecureUnboundCIINo, "insecure-unbound-ciino", false, "issue a TokenNo for any CIINo the body names, whoever the caller is: only for a trusted back end that asks on behalf of its users")
	fs.StringVar(&o.ssoSecret, "sso-secret", "", "HS256 `secret` of TokenNo, 32 bytes or more (env SSO_SECRET); random in dev mode")
	fs.Var(&o.ssoKeyFiles, "sso-key", "PEM private key `file` (RSA 2048+, P-256 or Ed25519) to sign TokenNo with RS256, ES256 or EdDSA instead of -sso-secret; its public key is served at /.well-known/jwks.json, for LOBs that verify with it (lobapp -sso-jwks-url). Repeatable, to rotate keys: the first signs, and each further file (a private key or a PUBLIC KEY PEM) is only published, so that LOBs go on accepting the tokens it signed. From old.pem to new.pem: -sso-key old.pem -sso-key new.pem (the new key published ahead), then -sso-key new.pem -sso-key old.pem (it signs), then, once the old key's last tokens have expired (-sso-ttl plus the LOBs' leeway), -sso-key new.pem")
	fs.IntVar(&o.instance, "instance", 0, "this instance's `number` among the -instances that issue TokenNo, 0 to -instances - 1: each must have its own, so that no two make the same TokenRefNo")
	fs.IntVar(&o.instances, "instances", 1, "how many instances issue TokenNo (at most 100000); each issues at most 100000 / `n` tokens a second")
	fs.BoolVar(&o.includeJTI, "include-jti", false, "put the TokenRefNo in every TokenNo as \"jti\" (the document's sample has no jti)")
	fs.DurationVar(&o.ssoTTL, "sso-ttl", time.Hour, "lifetime of TokenNo; a LOB refuses tokens that live longer than its own maximum (1h by default, lobapp -max-lifetime)")
	fs.DurationVar(&o.timeout, "timeout", httpadapter.DefaultTimeout, "deadline of one GenerateSSOToken call, authentication and issuing included; past it the answer is 504")
	fs.Var(&o.apiVersions, "api-version", "accepted x-api-version `value`; repeatable (default 1.0.0)")
	fs.Var(&o.lobClients, "lob-client", "registered x-lob-client-id, the LOBIds it may ask for, and the app clients (-cognito-client-id) whose tokens may present it, `ID:LOB,LOB@APPCLIENT,APPCLIENT`; @... may be left out only with one -cognito-client-id; repeatable")
	fs.Var(&o.allowCIDRs, "allow-cidr", "allowed client `network`; repeatable (default: all)")
	fs.Var(&o.allowHosts, "allow-host", "allowed Host `name`, optionally with :port (an IPv6 literal in brackets: [::1]:8443); repeatable (default: all)")
	fs.Var(&o.trustedProxies, "trusted-proxy", "`network` of a reverse proxy whose X-Forwarded-For is believed; repeatable")
	fs.StringVar(&o.cookieName, "cookie-name", cookiesso.DefaultCookieName, "`name` of the SSO cookie, the Cookie SSO document's ssoCookieName")
	fs.StringVar(&o.cookieSecret, "cookie-secret", "", "HS256 `secret` of the SSO cookie (env COOKIE_SECRET); random in dev mode")
	fs.Var(&o.cookieOrigins, "cookie-allowed-origin", "`origin` (scheme://host[:port]) whose pages may call the cookie exchange from a browser, with the user's cookies (CORS with credentials), and the only Origin it accepts; repeatable (default: no page gets CORS, and any Origin is accepted); dev mode adds its forum page's")
	fs.Var(&o.corsOrigins, "cors-origin", "`origin` (scheme://host[:port]) whose pages may call GenerateSSOToken and user.json from a browser with a token of their own (CORS, no cookies); repeatable (env SSO_CORS_ORIGINS, comma-separated); dev mode adds its demo pages'")
	fs.BoolVar(&o.demo, "demo", true, "dev mode with a loopback -addr: serve the browser demo, the portal page (GenerateSSOToken, then the LOB) and the forum page (Cookie SSO), each on an origin of its own")
	fs.StringVar(&o.portalAddr, "portal-addr", "", "dev mode's portal page loopback listen `address` (default: -addr's host, its port + 2)")
	fs.StringVar(&o.forumAddr, "forum-addr", "", "dev mode's forum page loopback listen `address` (default: -addr's host, its port + 3)")
	fs.StringVar(&o.lobURL, "lob-url", "http://127.0.0.1:8081/sso", "dev mode: the linked LOB's landing `URL`, where the portal page posts the TokenNo")
	fs.StringVar(&o.apiSecret, "api-secret", "", "HS256 `secret` of the JWT the cookie exchange returns (env API_SECRET); random in dev mode")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: json or text")
	fs.BoolVar(&o.audit, "audit", true, "log one audit record per GenerateSSOToken call; -audit=false only for load tests that compare with a server that logs nothing")
	fs.BoolVar(&o.cognitoCache, "cognito-cache", true, "cache verified Cognito tokens so a repeated token costs no RSA verify; -cognito-cache=false verifies every call")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "loopback listen `address` of a debug endpoint, GET /debug/runtime (goroutine count as JSON); off when empty")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: ssoserver [flags]

Serves GenerateSSOToken (POST /v2/get_sso_token), the Cookie SSO exchange
(POST /services/v2/auth/cookiesso/token.json and /services/v2/auth/token.json),
GET /services/v2/user.json and GET /healthz.

Without -cognito-user-pool-id, -cognito-issuer and -cognito-jwks-url it runs
in dev mode: an ephemeral RSA key stands in for Cognito, the x-lob-client-id
1RrLMyLrZGA= may ask for LOBs 01 and XX, and it prints a dev access token, a
dev SSO cookie and curl lines that work as pasted. It also serves a portal
page and a forum page (-demo) and prints the URL to open in a browser.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(usage)
			fs.Usage()
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["cors-origin"] {
		o.corsOrigins = strings.FieldsFunc(getenv("SSO_CORS_ORIGINS"), func(r rune) bool { return r == ',' || r == ' ' })
	}
	for _, e := range []struct {
		flag, env string
		dst       *string
	}{{"sso-secret", "SSO_SECRET", &o.ssoSecret}, {"cookie-secret", "COOKIE_SECRET", &o.cookieSecret}, {"api-secret", "API_SECRET", &o.apiSecret}} {
		if !set[e.flag] && !(e.flag == "sso-secret" && set["sso-key"]) {
			*e.dst = getenv(e.env)
		}
	}
	return o, o.check()
}

// check validates the options and fills in dev mode's defaults.
func (o *options) check() error {
	o.devMode = o.cognitoIssuer == "" && o.cognitoJWKS == "" && o.cognitoPool == ""
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return fmt.Errorf("-addr %q: want host:port", o.addr)
	}
	if o.ssoTTL < time.Second || o.ssoTTL > 24*time.Hour {
		return fmt.Errorf("-sso-ttl %s: want between 1s and 24h", o.ssoTTL)
	}
	if o.timeout < 10*time.Millisecond || o.timeout > 5*time.Minute {
		return fmt.Errorf("-timeout %s: want between 10ms and 5m", o.timeout)
	}
	if err := o.loadSSOKeys(); err != nil {
		return err
	}
	// Origins as browsers send them, so that the CORS lists and the cookie
	// exchange's own Origin check compare the same strings.
	for _, l := range []struct {
		flag string
		list listFlag
	}{{"-cors-origin", o.corsOrigins}, {"-cookie-allowed-origin", o.cookieOrigins}} {
		for i, origin := range l.list {
			var err error
			if l.list[i], err = httpadapter.NormalizeOrigin(origin); err != nil {
				return fmt.Errorf("%s: %w", l.flag, err)
			}
		}
	}
	if err := o.checkDemo(); err != nil {
		return err
	}
	if o.debugAddr != "" && !isLoopback(o.debugAddr) {
		return fmt.Errorf("-debug-addr %q: want a loopback host:port", o.debugAddr)
	}
	switch o.logFormat {
	case "json", "text":
	default:
		return fmt.Errorf("-log-format %q: want json or text", o.logFormat)
	}
	for _, s := range []struct{ flag, value string }{{"-sso-secret", o.ssoSecret}, {"-cookie-secret", o.cookieSecret}, {"-api-secret", o.apiSecret}} {
		if s.value != "" && len(s.value) < ssotoken.MinHMACSecretLen {
			return fmt.Errorf("%s is %d bytes: want at least %d", s.flag, len(s.value), ssotoken.MinHMACSecretLen)
		}
	}
	if o.ssoSecret != "" && (o.ssoSecret == o.cookieSecret || o.ssoSecret == o.apiSecret) || o.cookieSecret != "" && o.cookieSecret == o.apiSecret {
		return errors.New("-sso-secret, -cookie-secret and -api-secret must all differ: each token class has its own key")
	}
	if o.instances < 1 || o.instances > ssotoken.MaxInstances || o.instance < 0 || o.instance >= o.instances {
		return fmt.Errorf("-instance %d of -instances %d: want 0 <= -instance < -instances <= %d", o.instance, o.instances, ssotoken.MaxInstances)
	}
	var err error
	o.guard, err = httpadapter.NewGuard(httpadapter.GuardConfig{AllowedCIDRs: o.allowCIDRs, AllowedHosts: o.allowHosts, TrustedProxies: o.trustedProxies})
	if err != nil {
		return fmt.Errorf("-allow-cidr, -allow-host or -trusted-proxy: %w", err)
	}
	o.clients, o.clientApps = map[string][]string{}, map[string][]string{}
	for _, lc := range o.lobClients {
		id, rest, ok := strings.Cut(lc, ":")
		lobs, apps, bound := strings.Cut(rest, "@")
		if !ok || id == "" || lobs == "" || bound && apps == "" {
			return fmt.Errorf("-lob-client %q: want ID:LOB,LOB@APPCLIENT,APPCLIENT", lc)
		}
		for _, lob := range strings.Split(lobs, ",") {
			if err := (&ssotoken.Request{CIINo: "x", LOBId: lob, Functionality: "x"}).Validate(); err != nil {
				return fmt.Errorf("-lob-client %q: LOBId %q is not valid", lc, lob)
			}
			o.clients[id] = append(o.clients[id], lob)
		}
		if bound {
			for _, app := range strings.Split(apps, ",") {
				if app == "" {
					return fmt.Errorf("-lob-client %q: an empty app client", lc)
				}
				o.clientApps[id] = append(o.clientApps[id], app)
			}
		}
	}
	if len(o.apiVersions) == 0 {
		o.apiVersions = listFlag{"1.0.0"}
	}
	if o.devMode {
		if len(o.clients) == 0 {
			o.clients[devLOBClient] = []string{"01", "XX"}
		}
		if len(o.cognitoClientIDs) == 0 {
			o.cognitoClientIDs = listFlag{devAppClient}
		}
		if o.ciinoClaim == "" && !o.insecureUnboundCIINo {
			o.ciinoClaim = devCIINoClaim
		}
		return o.bindLOBClients()
	}
	switch {
	case len(o.cognitoClientIDs) == 0:
		return errors.New("-cognito-client-id is required with a real user pool")
	case o.ssoSecret == "" && o.ssoKey == nil:
		return errors.New("-sso-secret (or SSO_SECRET) or -sso-key is required with a real user pool: the linked LOBs verify TokenNo with it")
	case len(o.clients) == 0:
		return errors.New("-lob-client is required with a real user pool")
	case o.ciinoClaim == "" && !o.insecureUnboundCIINo:
		return errors.New("-ciino-claim is required with a real user pool: name the claim of the caller's token that holds their CIINo (for example custom:ciino), so that no one gets a TokenNo for another customer's CIINo; -insecure-unbound-ciino turns the check off for a trusted back end")
	case o.ciinoClaim != "" && o.insecureUnboundCIINo:
		return errors.New("-ciino-claim and -insecure-unbound-ciino exclude each other")
	}
	return o.bindLOBClients()
}

// loadSSOKeys loads the -sso-key files: the first signs, the others are
// published for verification only. Each key appears once.
func (o *options) loadSSOKeys() error {
	if len(o.ssoKeyFiles) == 0 {
		return nil
	}
	if o.ssoSecret != "" {
		return errors.New("-sso-key and -sso-secret are exclusive: TokenNo has one signing key")
	}
	var err error
	if o.ssoKey, err = loadSigningKey(o.ssoKeyFiles[0]); err != nil {
		return fmt.Errorf("-sso-key %s: %w", o.ssoKeyFiles[0], err)
	}
	seen := map[string]string{o.ssoKey.ID(): o.ssoKeyFiles[0]}
	for _, f := range o.ssoKeyFiles[1:] {
		k, err := loadVerifyingKey(f)
		if err != nil {
			return fmt.Errorf("-sso-key %s: %w", f, err)
		}
		if prev, dup := seen[k.ID()]; dup {
			return fmt.Errorf("-sso-key %s: the same key as -sso-key %s", f, prev)
		}
		seen[k.ID()] = f
		o.ssoVerifyKeys = append(o.ssoVerifyKeys, k)
	}
	return nil
}

// bindLOBClients binds each -lob-client to the app clients whose tokens
// may present it: those named after its @, each of which must be an
// accepted -cognito-client-id; or, when it names none, the one accepted
// app client. With several app clients an unbound registration is refused:
// binding it to all of them would let a token of one app client present
// another's x-lob-client-id and get its LOBs.
func (o *options) bindLOBClients() error {
	for _, id := range slices.Sorted(maps.Keys(o.clients)) {
		apps := o.clientApps[id]
		switch {
		case len(apps) == 0 && len(o.cognitoClientIDs) == 1:
			o.clientApps[id] = []string{o.cognitoClientIDs[0]}
		case len(apps) == 0:
			return fmt.Errorf("-lob-client %q: with %d -cognito-client-id values, name the app clients that may present it: -lob-client %q",
				id, len(o.cognitoClientIDs), id+":"+strings.Join(o.clients[id], ",")+"@APPCLIENT[,APPCLIENT]")
		}
		for _, app := range apps {
			if !slices.Contains(o.cognitoClientIDs, app) {
				return fmt.Errorf("-lob-client %q: app client %q is not an accepted -cognito-client-id", id, app)
			}
		}
	}
	return nil
}

// checkDemo checks the demo pages' options and fills in their addresses.
// The pages hold the dev access token, so they are served on loopback
// only: with an -addr on another interface the demo is off (demoOff says
// why) unless both addresses are given.
func (o *options) checkDemo() error {
	explicit := o.portalAddr != "" || o.forumAddr != ""
	switch {
	case !o.devMode && explicit:
		return errors.New("-portal-addr and -forum-addr serve dev mode's demo pages: they need dev mode")
	case !o.devMode || !o.demo:
		o.demo = false
		return nil
	case !isLoopback(o.addr) && (o.portalAddr == "" || o.forumAddr == ""):
		o.demo, o.demoOff = false, "-addr is not a loopback address; give -portal-addr and -forum-addr on loopback to serve them"
		return nil
	}
	if o.portalAddr == "" {
		o.portalAddr = nextPort(o.addr, 2)
	}
	if o.forumAddr == "" {
		o.forumAddr = nextPort(o.addr, 3)
	}
	for _, a := range []struct{ flag, addr string }{{"-portal-addr", o.portalAddr}, {"-forum-addr", o.forumAddr}} {
		if !isLoopback(a.addr) {
			return fmt.Errorf("%s %q: want a loopback host:port (the page holds the dev access token)", a.flag, a.addr)
		}
	}
	if u, err := url.Parse(o.lobURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-lob-url %q: want an http or https URL", o.lobURL)
	}
	return nil
}

// isLoopback reports whether addr is a host:port on loopback: localhost
// or a loopback IP.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return err == nil && (host == "localhost" || ip != nil && ip.IsLoopback())
}

// nextPort returns addr with its port increased by n, or with port 0 (any
// free port) when addr's port is 0 or the sum is out of range.
func nextPort(addr string, n int) string {
	host, port, _ := net.SplitHostPort(addr)
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 || p+n > 65535 {
		return net.JoinHostPort(host, "0")
	}
	return net.JoinHostPort(host, strconv.Itoa(p+n))
}

// exitUsage is what main does with an options error: one line, status 2.
func exitUsage(err error) {
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, "ssoserver:", err)
	os.Exit(2)
}
