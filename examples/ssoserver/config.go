package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/internal/redisaddr"
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
	readTimeout                 time.Duration // -read-timeout: a request, body included, must arrive within it
	issueRate, issueBurst       int           // -issue-rate (a minute), -issue-burst: each caller's issuing limit
	insecureNoIssueLimit        bool          // -insecure-no-issue-limit
	issueLimitRedis             string        // -issue-limit-redis: the Redis that shares the limit, "" for in-process
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
	metricsAddr                 string              // -metrics-addr: the opt-in Prometheus listener, off when empty
	cognitoLeeway               time.Duration       // -cognito-leeway: clock skew allowed on Cognito tokens
	tlsCertFile, tlsKeyFile     string              // -tls-cert, -tls-key: serve HTTPS with this pair (absolute paths once checked)
	tlsReload                   time.Duration       // -tls-reload-interval: how often the pair's files are checked; 0: on SIGHUP only
	tlsPair                     *loadedPair         // the pair as loaded at start, nil without TLS
	cookieExchange              bool                // the cookie exchange and user.json are served: dev mode, or both of their secrets given
	clients                     map[string][]string // parsed -lob-client: id to its LOBs
	clientApps                  map[string][]string // parsed -lob-client: id to the app clients that may present it
	guard                       *httpadapter.Guard  // from -allow-cidr, -allow-host, -trusted-proxy
	devMode                     bool
}

// flagEnv names the environment variable of every flag. A repeatable
// flag's variable holds a list: values separated by commas or spaces, or
// by spaces only where a value may hold a comma (spaceList).
var flagEnv = map[string]string{
	"addr":                    "SSO_ADDR",
	"cognito-region":          "SSO_COGNITO_REGION",
	"cognito-user-pool-id":    "SSO_COGNITO_USER_POOL_ID",
	"cognito-issuer":          "SSO_COGNITO_ISSUER",
	"cognito-jwks-url":        "SSO_COGNITO_JWKS_URL",
	"cognito-client-id":       "SSO_COGNITO_CLIENT_IDS",
	"cognito-leeway":          "SSO_COGNITO_LEEWAY",
	"cognito-cache":           "SSO_COGNITO_CACHE",
	"required-scope":          "SSO_REQUIRED_SCOPES",
	"ciino-claim":             "SSO_CIINO_CLAIM",
	"insecure-unbound-ciino":  "SSO_INSECURE_UNBOUND_CIINO",
	"sso-secret":              "SSO_SECRET",
	"sso-key":                 "SSO_KEY_FILES",
	"instance":                "SSO_INSTANCE",
	"instances":               "SSO_INSTANCES",
	"include-jti":             "SSO_INCLUDE_JTI",
	"sso-ttl":                 "SSO_TTL",
	"timeout":                 "SSO_TIMEOUT",
	"read-timeout":            "SSO_READ_TIMEOUT",
	"issue-rate":              "SSO_ISSUE_RATE",
	"issue-burst":             "SSO_ISSUE_BURST",
	"insecure-no-issue-limit": "SSO_INSECURE_NO_ISSUE_LIMIT",
	"issue-limit-redis":       "SSO_ISSUE_LIMIT_REDIS",
	"api-version":             "SSO_API_VERSIONS",
	"lob-client":              "SSO_LOB_CLIENTS",
	"allow-cidr":              "SSO_ALLOW_CIDRS",
	"allow-host":              "SSO_ALLOW_HOSTS",
	"trusted-proxy":           "SSO_TRUSTED_PROXIES",
	"cookie-name":             "SSO_COOKIE_NAME",
	"cookie-secret":           "COOKIE_SECRET",
	"cookie-allowed-origin":   "SSO_COOKIE_ALLOWED_ORIGINS",
	"cors-origin":             "SSO_CORS_ORIGINS",
	"api-secret":              "API_SECRET",
	"demo":                    "SSO_DEMO",
	"portal-addr":             "SSO_PORTAL_ADDR",
	"forum-addr":              "SSO_FORUM_ADDR",
	"lob-url":                 "SSO_LOB_URL",
	"tls-cert":                "SSO_TLS_CERT",
	"tls-key":                 "SSO_TLS_KEY",
	"tls-reload-interval":     "SSO_TLS_RELOAD_INTERVAL",
	"log-format":              "SSO_LOG_FORMAT",
	"audit":                   "SSO_AUDIT",
	"debug-addr":              "SSO_DEBUG_ADDR",
	"metrics-addr":            "SSO_METRICS_ADDR",
}

// spaceList are the repeatable flags whose values may hold commas: their
// variables separate values by spaces only.
var spaceList = map[string]bool{"lob-client": true, "sso-key": true}

// flagName is how messages name a flag's setting: the flag and its
// variable, "-addr (SSO_ADDR)".
func flagName(name string) string {
	return "-" + name + " (" + flagEnv[name] + ")"
}

// parseOptions parses args (without the program name), with an
// environment variable (flagEnv, listed by -h) for every flag not given:
// a flag beats its variable, and -sso-key or -sso-secret on the command
// line leaves both SSO_KEY_FILES and SSO_SECRET unread. Variables are read
// after parsing, so that -h never prints a secret. Every problem is
// reported at once: the error holds one line per problem (errors.Join).
func parseOptions(args []string, getenv func(string) string, usage io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("ssoserver", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by the caller, a line each
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen `address`; without -tls-cert, TLS must end in front of the server unless the address is on loopback")
	fs.StringVar(&o.cognitoRegion, "cognito-region", "", "AWS `region` of the user pool (read from the pool id when empty)")
	fs.StringVar(&o.cognitoPool, "cognito-user-pool-id", "", "Cognito user pool `id`, e.g. eu-west-1_AbCdEf123; turns dev mode off")
	fs.StringVar(&o.cognitoIssuer, "cognito-issuer", "", "explicit token issuer `URL`; turns dev mode off")
	fs.StringVar(&o.cognitoJWKS, "cognito-jwks-url", "", "explicit JWKS `URL` (http allowed, for local stand-ins); turns dev mode off")
	fs.Var(&o.cognitoClientIDs, "cognito-client-id", "accepted app client `id` (client_id of access tokens); repeatable")
	fs.DurationVar(&o.cognitoLeeway, "cognito-leeway", 0, "clock skew allowed on the exp, nbf and iat of Cognito tokens, at most 5m")
	fs.Var(&o.reqScopes, "required-scope", "`scope` the caller's access token must carry, else 403; repeatable")
	fs.StringVar(&o.ciinoClaim, "ciino-claim", "", "the body's CIINo must equal this `claim` of the caller's token (for example custom:ciino), else 403; required with a real user pool unless -insecure-unbound-ciino (dev mode: custom:ciino)")
	fs.BoolVar(&o.insecureUnboundCIINo, "insecure-unbound-ciino", false, "issue a TokenNo for any CIINo the body names, whoever the caller is: only for a trusted back end that asks on behalf of its users")
	fs.StringVar(&o.ssoSecret, "sso-secret", "", "HS256 `secret` of TokenNo, 32 bytes or more; random in dev mode")
	fs.Var(&o.ssoKeyFiles, "sso-key", "PEM private key `file` (RSA 2048+, P-256 or Ed25519) to sign TokenNo with RS256, ES256 or EdDSA instead of -sso-secret; its public key is served at /.well-known/jwks.json, for LOBs that verify with it (lobapp -sso-jwks-url). Repeatable, to rotate keys: the first signs, and each further file (a private key or a PUBLIC KEY PEM) is only published, so that LOBs go on accepting the tokens it signed. From old.pem to new.pem: -sso-key old.pem -sso-key new.pem (the new key published ahead), then -sso-key new.pem -sso-key old.pem (it signs), then, once the old key's last tokens have expired (-sso-ttl plus the LOBs' leeway), -sso-key new.pem")
	fs.IntVar(&o.instance, "instance", 0, "this instance's `number` among the -instances that issue TokenNo, 0 to -instances - 1: each must have its own, so that no two make the same TokenRefNo")
	fs.IntVar(&o.instances, "instances", 1, "how many instances issue TokenNo (at most 100000); each issues at most 100000 / `n` tokens a second")
	fs.BoolVar(&o.includeJTI, "include-jti", false, "put the TokenRefNo in every TokenNo as \"jti\" (the document's sample has no jti)")
	fs.DurationVar(&o.ssoTTL, "sso-ttl", time.Hour, "lifetime of TokenNo; a LOB refuses tokens that live longer than its own maximum (1h by default, lobapp -max-lifetime)")
	fs.DurationVar(&o.timeout, "timeout", httpadapter.DefaultTimeout, "deadline of one GenerateSSOToken call, authentication and issuing included; past it the answer is 504")
	fs.DurationVar(&o.readTimeout, "read-timeout", defaultReadTimeout, "a request must arrive within this time, its body included (its headers within 5s at most), else the connection is cut: a body that trickles in holds a connection no longer, however long -timeout is; 100ms to 5m")
	fs.IntVar(&o.issueRate, "issue-rate", httpadapter.DefaultIssueLimit.Rate, "TokenNo a minute each caller (its user pool, app client and subject) may be issued once its -issue-burst is used; past it the answer is 429 rate_limited with Retry-After")
	fs.IntVar(&o.issueBurst, "issue-burst", httpadapter.DefaultIssueLimit.Burst, "TokenNo a caller may be issued at once, before -issue-rate applies")
	fs.BoolVar(&o.insecureNoIssueLimit, "insecure-no-issue-limit", false, "issue without a per-caller limit: one signed-in caller can then mint TokenNo as fast as the server answers and fill a LOB's replay store; for load tests, or behind a gateway that limits per caller")
	fs.StringVar(&o.issueLimitRedis, "issue-limit-redis", "", "share the issuing limit among all instances through Redis at `address`: host:port, the nodes of a Redis Cluster as host:port,host:port,..., or a redis:// or rediss:// URL (with credentials); when Redis does not answer, GenerateSSOToken fails closed (502). Default: each instance counts on its own")
	fs.Var(&o.apiVersions, "api-version", "accepted x-api-version `value`; repeatable (default 1.0.0)")
	fs.Var(&o.lobClients, "lob-client", "registered x-lob-client-id, the LOBIds it may ask for, and the app clients (-cognito-client-id) whose tokens may present it, `ID:LOB,LOB@APPCLIENT,APPCLIENT`; @... may be left out only with one -cognito-client-id; repeatable")
	fs.Var(&o.allowCIDRs, "allow-cidr", "allowed client `network`; repeatable (default: all)")
	fs.Var(&o.allowHosts, "allow-host", "allowed Host `name`, optionally with :port (an IPv6 literal in brackets: [::1]:8443); repeatable (default: all)")
	fs.Var(&o.trustedProxies, "trusted-proxy", "`network` of a reverse proxy whose X-Forwarded-For is believed; repeatable")
	fs.StringVar(&o.cookieName, "cookie-name", cookiesso.DefaultCookieName, "`name` of the SSO cookie, the Cookie SSO document's ssoCookieName")
	fs.StringVar(&o.cookieSecret, "cookie-secret", "", "HS256 `secret` of the SSO cookie; random in dev mode. With a real user pool the cookie exchange (and user.json) is served only with both -cookie-secret and -api-secret")
	fs.Var(&o.cookieOrigins, "cookie-allowed-origin", "`origin` (scheme://host[:port]) whose pages may call the cookie exchange from a browser, with the user's cookies (CORS with credentials), and the only Origin it accepts; repeatable (default: no page gets CORS, and any Origin is accepted); dev mode adds its forum page's")
	fs.Var(&o.corsOrigins, "cors-origin", "`origin` (scheme://host[:port]) whose pages may call GenerateSSOToken and user.json from a browser with a token of their own (CORS, no cookies); repeatable; dev mode adds its demo pages'")
	fs.BoolVar(&o.demo, "demo", true, "dev mode with a loopback -addr: serve the browser demo, the portal page (GenerateSSOToken, then the LOB) and the forum page (Cookie SSO), each on an origin of its own")
	fs.StringVar(&o.portalAddr, "portal-addr", "", "dev mode's portal page loopback listen `address` (default: -addr's host, its port + 2)")
	fs.StringVar(&o.forumAddr, "forum-addr", "", "dev mode's forum page loopback listen `address` (default: -addr's host, its port + 3)")
	fs.StringVar(&o.lobURL, "lob-url", "http://127.0.0.1:8081/sso", "dev mode: the linked LOB's landing `URL`, where the portal page posts the TokenNo")
	fs.StringVar(&o.apiSecret, "api-secret", "", "HS256 `secret` of the JWT the cookie exchange returns; random in dev mode")
	fs.StringVar(&o.tlsCertFile, "tls-cert", "", "serve HTTPS (TLS 1.2 or newer, HTTP/2) with the PEM certificate chain in `file`, the leaf first; needs -tls-key. The pair is loaded again when either file changes (see -tls-reload-interval) and on SIGHUP: new handshakes get the new pair, open connections keep theirs, and a pair that does not load is logged and the one in use kept")
	fs.StringVar(&o.tlsKeyFile, "tls-key", "", "the PEM private key `file` of -tls-cert")
	fs.DurationVar(&o.tlsReload, "tls-reload-interval", 5*time.Second, "how often the modification time and size of -tls-cert and -tls-key are checked, 100ms to 1h; 0 reloads them on SIGHUP only")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: json or text")
	fs.BoolVar(&o.audit, "audit", true, "log one audit record per call of every endpoint (GenerateSSOToken, the cookie exchange, user.json); -audit=false only for load tests that compare with a server that logs nothing")
	fs.BoolVar(&o.cognitoCache, "cognito-cache", true, "cache verified Cognito tokens so a repeated token costs no RSA verify; -cognito-cache=false verifies every call")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "listen `address` of the Prometheus metrics (GET /metrics), a listener of its own outside -allow-cidr and -allow-host: use loopback (127.0.0.1:9090) or a network only the scraper reaches; off when empty")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "loopback listen `address` of a debug endpoint, GET /debug/runtime (goroutine count as JSON); off when empty")
	fs.VisitAll(func(f *flag.Flag) {
		switch _, list := f.Value.(*listFlag); {
		case list && spaceList[f.Name]:
			f.Usage += " (env " + flagEnv[f.Name] + ", space-separated)"
		case list:
			f.Usage += " (env " + flagEnv[f.Name] + ", comma-separated)"
		default:
			f.Usage += " (env " + flagEnv[f.Name] + ")"
		}
	})
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

Every flag can be set in the environment instead, with the variable named
after it; a flag on the command line beats its variable. Every problem in
them is reported at once, a line each, before anything is bound.

Flags:
`)
		fs.PrintDefaults()
	}
	errs, err := parseArgs(fs, args)
	if err != nil { // -h
		fs.SetOutput(usage)
		fs.Usage()
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	errs = append(errs, readEnv(fs, set, getenv)...)
	errs = append(errs, o.check()...)
	return o, errors.Join(errs...)
}

// parseArgs parses args with fs, and goes on after a flag that does not
// parse, so that every problem is found: it returns one error per problem,
// or flag.ErrHelp alone for -h. The word that follows an unknown flag is
// taken as its value, not as a stray argument.
func parseArgs(fs *flag.FlagSet, args []string) ([]error, error) {
	var errs []error
	unknown := false // the previous problem was a flag not defined
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return nil, err
		case err != nil:
			errs = append(errs, err)
			unknown = strings.HasPrefix(err.Error(), "flag provided but not defined")
			if m := badValue.FindStringSubmatch(err.Error()); m != nil {
				resetFlag(fs, m[1])
			}
			if len(fs.Args()) == len(args) { // bad flag syntax stops where it is
				args = args[1:]
			} else {
				args = fs.Args()
			}
			continue
		case fs.NArg() == 0:
			return errs, nil
		case !unknown:
			errs = append(errs, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
		}
		unknown = false
		args = fs.Args()[1:]
	}
}

// badValue matches the flag package's errors for a value that does not
// parse, and names the flag.
var badValue = regexp.MustCompile(`^invalid (?:boolean )?value ".*" for (?:flag )?-([a-z0-9-]+): `)

// resetFlag sets the flag name back to its default, after a value that
// did not parse left it zero: its problem is reported once, as such, and
// not again by check as a value out of range.
func resetFlag(fs *flag.FlagSet, name string) {
	if f := fs.Lookup(name); f != nil {
		_ = f.Value.Set(f.DefValue)
	}
}

// readEnv sets every flag that is not set on the command line from its
// environment variable, when that is not empty, and returns a problem for
// each value that does not parse.
func readEnv(fs *flag.FlagSet, set map[string]bool, getenv func(string) string) []error {
	var errs []error
	tokenKey := set["sso-secret"] || set["sso-key"] // one setting: the TokenNo key
	fs.VisitAll(func(f *flag.Flag) {
		name := flagEnv[f.Name]
		v := getenv(name)
		if v == "" || set[f.Name] || tokenKey && (f.Name == "sso-secret" || f.Name == "sso-key") {
			return
		}
		values := []string{v}
		if _, list := f.Value.(*listFlag); list && spaceList[f.Name] {
			values = strings.Fields(v)
		} else if list {
			values = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
		}
		for _, value := range values {
			if err := fs.Set(f.Name, value); err != nil {
				errs = append(errs, fmt.Errorf("invalid value %q for %s (-%s): %v", value, name, f.Name, err))
				resetFlag(fs, f.Name)
			}
		}
	})
	return errs
}

// maxIssueRate bounds -issue-rate and -issue-burst.
const maxIssueRate = 1_000_000

// checkIssueLimit validates -issue-rate, -issue-burst,
// -insecure-no-issue-limit and -issue-limit-redis.
func (o *options) checkIssueLimit() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if o.issueRate < 1 || o.issueRate > maxIssueRate {
		bad("-issue-rate %d: want between 1 and %d a minute (-insecure-no-issue-limit turns the limit off)", o.issueRate, maxIssueRate)
	}
	if o.issueBurst < 1 || o.issueBurst > maxIssueRate {
		bad("-issue-burst %d: want between 1 and %d", o.issueBurst, maxIssueRate)
	}
	if o.insecureNoIssueLimit && o.issueLimitRedis != "" {
		bad("-insecure-no-issue-limit and -issue-limit-redis exclude each other")
	}
	if o.issueLimitRedis != "" {
		if _, err := redisaddr.Options(o.issueLimitRedis); err != nil {
			bad("-issue-limit-redis: %w", err)
		}
	}
	return errs
}

// issueLimit is the limit of -issue-rate and -issue-burst.
func (o *options) issueLimit() httpadapter.RateLimit {
	return httpadapter.RateLimit{Rate: o.issueRate, Period: time.Minute, Burst: o.issueBurst}
}

// check validates the options, loads the key files they name and fills in
// dev mode's defaults. It returns every problem it finds, one error each.
func (o *options) check() []error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	o.devMode = o.cognitoIssuer == "" && o.cognitoJWKS == "" && o.cognitoPool == ""
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		bad("-addr %q: want host:port", o.addr)
	}
	if o.ssoTTL < time.Second || o.ssoTTL > 24*time.Hour {
		bad("-sso-ttl %s: want between 1s and 24h", o.ssoTTL)
	}
	if o.timeout < 10*time.Millisecond || o.timeout > 5*time.Minute {
		bad("-timeout %s: want between 10ms and 5m", o.timeout)
	}
	errs = append(errs, o.checkIssueLimit()...)
	if o.readTimeout < 100*time.Millisecond || o.readTimeout > 5*time.Minute {
		bad("-read-timeout %s: want between 100ms and 5m", o.readTimeout)
	}
	if o.cognitoLeeway < 0 || o.cognitoLeeway > cognito.MaxLeeway {
		bad("-cognito-leeway %s: want between 0s and %s", o.cognitoLeeway, cognito.MaxLeeway)
	}
	if err := o.loadSSOKeys(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.checkTLS()...)
	// Origins as browsers send them, so that the CORS lists and the cookie
	// exchange's own Origin check compare the same strings.
	for _, l := range []struct {
		flag string
		list listFlag
	}{{"-cors-origin", o.corsOrigins}, {"-cookie-allowed-origin", o.cookieOrigins}} {
		for i, origin := range l.list {
			var err error
			if l.list[i], err = httpadapter.NormalizeOrigin(origin); err != nil {
				bad("%s: %w", l.flag, err)
			}
		}
	}
	errs = append(errs, o.checkDemo()...)
	if _, _, err := net.SplitHostPort(o.metricsAddr); o.metricsAddr != "" && err != nil {
		bad("-metrics-addr %q: want host:port", o.metricsAddr)
	}
	if o.debugAddr != "" && !isLoopback(o.debugAddr) {
		bad("-debug-addr %q: want a loopback host:port", o.debugAddr)
	}
	switch o.logFormat {
	case "json", "text":
	default:
		bad("-log-format %q: want json or text", o.logFormat)
	}
	for _, s := range []struct{ flag, value string }{{"-sso-secret", o.ssoSecret}, {"-cookie-secret", o.cookieSecret}, {"-api-secret", o.apiSecret}} {
		if s.value != "" && len(s.value) < ssotoken.MinHMACSecretLen {
			bad("%s is %d bytes: want at least %d", s.flag, len(s.value), ssotoken.MinHMACSecretLen)
		}
	}
	if o.ssoSecret != "" && (o.ssoSecret == o.cookieSecret || o.ssoSecret == o.apiSecret) || o.cookieSecret != "" && o.cookieSecret == o.apiSecret {
		bad("-sso-secret, -cookie-secret and -api-secret must all differ: each token class has its own key")
	}
	if (&http.Cookie{Name: o.cookieName, Value: "v"}).Valid() != nil {
		bad("-cookie-name %q: not a cookie name", o.cookieName)
	}
	if o.instances < 1 || o.instances > ssotoken.MaxInstances || o.instance < 0 || o.instance >= o.instances {
		bad("-instance %d of -instances %d: want 0 <= -instance < -instances <= %d", o.instance, o.instances, ssotoken.MaxInstances)
	}
	var err error
	o.guard, err = httpadapter.NewGuard(httpadapter.GuardConfig{AllowedCIDRs: o.allowCIDRs, AllowedHosts: o.allowHosts, TrustedProxies: o.trustedProxies})
	if err != nil {
		bad("-allow-cidr, -allow-host or -trusted-proxy: %w", err)
	}
	o.clients, o.clientApps = map[string][]string{}, map[string][]string{}
	for _, lc := range o.lobClients {
		if err := o.addLOBClient(lc); err != nil {
			errs = append(errs, err)
		}
	}
	if len(o.apiVersions) == 0 {
		o.apiVersions = listFlag{"1.0.0"}
	}
	if o.devMode {
		o.cookieExchange = true
		if len(o.clients) == 0 && len(o.lobClients) == 0 {
			o.clients[devLOBClient] = []string{"01", "XX"}
		}
		if len(o.cognitoClientIDs) == 0 {
			o.cognitoClientIDs = listFlag{devAppClient}
		}
		if o.ciinoClaim == "" && !o.insecureUnboundCIINo {
			o.ciinoClaim = devCIINoClaim
		}
		return append(errs, o.bindLOBClients()...)
	}

	// Real mode.
	switch {
	case o.cognitoPool == "" && o.cognitoIssuer == "":
		bad("-cognito-jwks-url needs -cognito-user-pool-id or -cognito-issuer: the issuer of the tokens it verifies")
	case len(o.cognitoClientIDs) > 0:
		if err := o.checkCognito(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(o.cognitoClientIDs) == 0 {
		bad("-cognito-client-id is required with a real user pool")
	}
	if o.ssoSecret == "" && o.ssoKey == nil && len(o.ssoKeyFiles) == 0 {
		bad("-sso-secret (or SSO_SECRET) or -sso-key is required with a real user pool: the linked LOBs verify TokenNo with it")
	}
	if len(o.lobClients) == 0 {
		bad("-lob-client is required with a real user pool")
	}
	switch {
	case o.ciinoClaim == "" && !o.insecureUnboundCIINo:
		bad("-ciino-claim is required with a real user pool: name the claim of the caller's token that holds their CIINo (for example custom:ciino), so that no one gets a TokenNo for another customer's CIINo; -insecure-unbound-ciino turns the check off for a trusted back end")
	case o.ciinoClaim != "" && o.insecureUnboundCIINo:
		bad("-ciino-claim and -insecure-unbound-ciino exclude each other")
	}
	switch o.cookieExchange = o.cookieSecret != "" && o.apiSecret != ""; {
	case o.cookieSecret != "" && o.apiSecret == "":
		bad("-cookie-secret (COOKIE_SECRET) without -api-secret (API_SECRET): the cookie exchange needs both; give neither to serve no cookie exchange")
	case o.cookieSecret == "" && o.apiSecret != "":
		bad("-api-secret (API_SECRET) without -cookie-secret (COOKIE_SECRET): the cookie exchange needs both; give neither to serve no cookie exchange")
	case !o.cookieExchange && len(o.cookieOrigins) > 0:
		bad("-cookie-allowed-origin needs the cookie exchange: give -cookie-secret (COOKIE_SECRET) and -api-secret (API_SECRET)")
	}
	if len(o.cognitoClientIDs) == 0 {
		return errs // the binding waits for the app clients
	}
	return append(errs, o.bindLOBClients()...)
}

// addLOBClient registers one -lob-client value, or returns its problem.
func (o *options) addLOBClient(lc string) error {
	id, rest, ok := strings.Cut(lc, ":")
	lobs, apps, bound := strings.Cut(rest, "@")
	if !ok || id == "" || lobs == "" || bound && apps == "" {
		return fmt.Errorf("-lob-client %q: want ID:LOB,LOB@APPCLIENT,APPCLIENT", lc)
	}
	for _, lob := range strings.Split(lobs, ",") {
		if err := (&ssotoken.Request{CIINo: "x", LOBId: lob, Functionality: "x"}).Validate(); err != nil {
			return fmt.Errorf("-lob-client %q: LOBId %q is not valid", lc, lob)
		}
	}
	var appList []string
	if bound {
		appList = strings.Split(apps, ",")
		if slices.Contains(appList, "") {
			return fmt.Errorf("-lob-client %q: an empty app client", lc)
		}
	}
	if _, dup := o.clients[id]; dup {
		// Merged, two registrations of one id would let each one's app
		// clients ask for the other's LOBs, and an unbound one would
		// borrow the other's binding.
		return fmt.Errorf("-lob-client %q: x-lob-client-id %q is registered twice: give its LOBs and app clients in one -lob-client", lc, id)
	}
	o.clients[id] = strings.Split(lobs, ",")
	o.clientApps[id] = appList
	return nil
}

// checkCognito checks the user pool's settings as cognito.New would, with
// nothing fetched.
func (o *options) checkCognito() error {
	if err := o.cognitoConfig(nil).Validate(); err != nil {
		return fmt.Errorf("-cognito-user-pool-id, -cognito-region, -cognito-issuer, -cognito-jwks-url, -cognito-client-id or -required-scope: %w", err)
	}
	return nil
}

// cognitoConfig is the configuration of the Cognito authenticator, in
// real mode; build sets the dev stand-in's issuer in dev mode.
func (o *options) cognitoConfig(logger *slog.Logger) cognito.Config {
	c := cognito.Config{
		ClientIDs: o.cognitoClientIDs, TokenUse: cognito.TokenUseAccess, RequiredScopes: o.reqScopes,
		Leeway: o.cognitoLeeway, DisableCache: !o.cognitoCache, Logger: logger,
	}
	if !o.devMode {
		c.Region, c.UserPoolID, c.Issuer, c.JWKSURL = o.cognitoRegion, o.cognitoPool, o.cognitoIssuer, o.cognitoJWKS
	}
	return c
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
func (o *options) bindLOBClients() []error {
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(o.clients)) {
		apps := o.clientApps[id]
		switch {
		case len(apps) == 0 && len(o.cognitoClientIDs) == 1:
			o.clientApps[id] = []string{o.cognitoClientIDs[0]}
		case len(apps) == 0:
			errs = append(errs, fmt.Errorf("-lob-client %q: with %d -cognito-client-id values, name the app clients that may present it: -lob-client %q",
				id, len(o.cognitoClientIDs), id+":"+strings.Join(o.clients[id], ",")+"@APPCLIENT[,APPCLIENT]"))
		}
		var strangers []string
		for _, app := range apps {
			if !slices.Contains(o.cognitoClientIDs, app) && !slices.Contains(strangers, app) {
				strangers = append(strangers, app)
			}
		}
		switch len(strangers) {
		case 0:
		case 1:
			errs = append(errs, fmt.Errorf("-lob-client %q: app client %q is not an accepted -cognito-client-id", id, strangers[0]))
		default:
			q := make([]string, len(strangers))
			for i, app := range strangers {
				q[i] = strconv.Quote(app)
			}
			errs = append(errs, fmt.Errorf("-lob-client %q: app clients %s are not accepted -cognito-client-id values", id, strings.Join(q, ", ")))
		}
	}
	return errs
}

// checkDemo checks the demo pages' options and fills in their addresses.
// The pages hold the dev access token, so they are served on loopback
// only: with an -addr on another interface the demo is off (demoOff says
// why) unless both addresses are given.
func (o *options) checkDemo() []error {
	explicit := o.portalAddr != "" || o.forumAddr != ""
	switch {
	case !o.devMode && explicit:
		return []error{errors.New("-portal-addr and -forum-addr serve dev mode's demo pages: they need dev mode")}
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
	var errs []error
	for _, a := range []struct{ flag, addr string }{{"-portal-addr", o.portalAddr}, {"-forum-addr", o.forumAddr}} {
		if !isLoopback(a.addr) {
			errs = append(errs, fmt.Errorf("%s %q: want a loopback host:port (the page holds the dev access token)", a.flag, a.addr))
		}
	}
	if u, err := url.Parse(o.lobURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("-lob-url %q: want an http or https URL", o.lobURL))
	}
	return errs
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

// exitUsage is what main does with an options error: a line per
// problem, status 2.
func exitUsage(err error) {
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	printError(os.Stderr, err)
	os.Exit(2)
}

// printError writes err a line each, every line prefixed with the
// program's name.
func printError(w io.Writer, err error) {
	for line := range strings.Lines(err.Error()) {
		fmt.Fprint(w, "ssoserver: ", line)
	}
	fmt.Fprintln(w)
}
