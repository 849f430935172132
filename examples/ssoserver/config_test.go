package main

import (
	"flag"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/internal/redisaddr"
	"github.com/ssokit/ssokit/ssotoken"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseOptions(t *testing.T) {
	secret := strings.Repeat("s", 32)
	certFile, keyFile := certFiles(t, validCert(t, "api"))
	_, otherKey := certFiles(t, validCert(t, "other"))
	expiredCert, expiredKey := certFiles(t, newTestCert(t, "expired", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)))
	// real is a complete real-mode command line but for the cookie
	// exchange's secrets.
	real := []string{"-cognito-user-pool-id", "eu-west-1_abc", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-ciino-claim", "custom:ciino"}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(*testing.T, *options)
		err   string   // a problem, on a line of its own
		errs  []string // or several, each on a line of its own
		lines int      // the number of problems, when err is not the only one
	}{
		{name: "no flags: dev mode", check: func(t *testing.T, o *options) {
			assert.True(t, o.devMode)
			assert.Equal(t, "127.0.0.1:8080", o.addr)
			assert.Equal(t, map[string][]string{devLOBClient: {"01", "XX"}}, o.clients)
			assert.Equal(t, listFlag{devAppClient}, o.cognitoClientIDs)
			assert.Equal(t, listFlag{"1.0.0"}, o.apiVersions)
		}},
		{name: "environment", env: map[string]string{"SSO_ADDR": "127.0.0.1:9999", "SSO_SECRET": secret, "COOKIE_SECRET": secret + "c", "API_SECRET": secret + "a"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, "127.0.0.1:9999", o.addr)
			assert.Equal(t, secret, o.ssoSecret)
			assert.Equal(t, secret+"c", o.cookieSecret)
			assert.Equal(t, secret+"a", o.apiSecret)
		}},
		{name: "issuing limit by default", check: func(t *testing.T, o *options) {
			assert.Equal(t, httpadapter.DefaultIssueLimit, o.issueLimit())
			assert.False(t, o.insecureNoIssueLimit)
			assert.Empty(t, o.issueLimitRedis)
		}},
		{name: "issuing limit set", args: []string{"-issue-rate", "6", "-issue-burst", "2"}, env: map[string]string{"SSO_ISSUE_LIMIT_REDIS": "127.0.0.1:7000,127.0.0.1:7001"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, httpadapter.RateLimit{Rate: 6, Period: time.Minute, Burst: 2}, o.issueLimit())
			ro, err := redisaddr.Options(o.issueLimitRedis)
			require.NoError(t, err)
			assert.True(t, ro.IsClusterMode)
			assert.Equal(t, []string{"127.0.0.1:7000", "127.0.0.1:7001"}, ro.Addrs)
			assert.True(t, ro.ContextTimeoutEnabled)
		}},
		{name: "issuing limit through a Redis URL", args: []string{"-issue-limit-redis", "rediss://u:hunter2hunter2@redis.internal:6380/2"}, check: func(t *testing.T, o *options) {
			ro, err := redisaddr.Options(o.issueLimitRedis)
			require.NoError(t, err)
			assert.False(t, ro.IsClusterMode)
			assert.Equal(t, []string{"redis.internal:6380"}, ro.Addrs)
			assert.Equal(t, "hunter2hunter2", ro.Password)
			assert.Equal(t, 2, ro.DB)
			assert.NotNil(t, ro.TLSConfig)
		}},
		{name: "issuing limit off", env: map[string]string{"SSO_INSECURE_NO_ISSUE_LIMIT": "true"}, check: func(t *testing.T, o *options) {
			assert.True(t, o.insecureNoIssueLimit)
		}},
		{name: "read timeout", args: []string{"-read-timeout", "2s"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, 2*time.Second, o.readTimeout)
		}},
		{name: "read timeout too short", args: []string{"-read-timeout", "10ms"}, err: "-read-timeout 10ms: want between 100ms and 5m"},
		{name: "issue rate zero", args: []string{"-issue-rate", "0"}, err: "-issue-rate 0: want between 1 and 1000000 a minute (-insecure-no-issue-limit turns the limit off)"},
		{name: "issue burst negative", args: []string{"-issue-burst", "-1"}, err: "-issue-burst -1: want between 1 and 1000000"},
		{name: "no limit and a shared one", args: []string{"-insecure-no-issue-limit", "-issue-limit-redis", "127.0.0.1:6379"}, err: "-insecure-no-issue-limit and -issue-limit-redis exclude each other"},
		{name: "issue limit redis not an address", args: []string{"-issue-limit-redis", "redis-host"}, err: "-issue-limit-redis: address 1 of 1 is not host:port: want host:port, host:port,... (a Redis Cluster's nodes) or a redis:// or rediss:// URL"},
		{name: "issue limit redis URL that does not parse keeps its secret", args: []string{"-issue-limit-redis", "redis://u:hunter2hunter2@h:x/"}, err: "-issue-limit-redis: not a redis:// or rediss:// URL"},
		{name: "flags beat the environment", args: []string{"-addr", "127.0.0.1:7000"}, env: map[string]string{"SSO_ADDR": "127.0.0.1:9999"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, "127.0.0.1:7000", o.addr)
		}},
		{name: "repeatable flags", args: []string{"-lob-client", "a:01,02", "-lob-client", "b=:03", "-api-version", "1.0.0", "-api-version", "1.1.0"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, map[string][]string{"a": {"01", "02"}, "b=": {"03"}}, o.clients)
			assert.Equal(t, listFlag{"1.0.0", "1.1.0"}, o.apiVersions)
		}},
		{name: "a user pool turns dev mode off", args: []string{"-cognito-user-pool-id", "eu-west-1_abc", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-ciino-claim", "custom:ciino"}, check: func(t *testing.T, o *options) {
			assert.False(t, o.devMode)
		}},
		{name: "real mode needs a client id", args: []string{"-cognito-issuer", "http://127.0.0.1:1/p"}, errs: []string{
			"-cognito-client-id is required with a real user pool",
			"-sso-secret (or SSO_SECRET) or -sso-key is required with a real user pool",
			"-lob-client is required with a real user pool",
			"-ciino-claim is required with a real user pool",
		}},
		{name: "real mode needs a secret", args: []string{"-cognito-jwks-url", "http://127.0.0.1:1/j", "-cognito-client-id", "app"}, err: "-sso-secret", lines: 4},
		{name: "real mode needs a pool or an issuer, not only a JWKS URL", args: []string{"-cognito-jwks-url", "http://127.0.0.1:1/j", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-ciino-claim", "c"},
			err: "-cognito-jwks-url needs -cognito-user-pool-id or -cognito-issuer: the issuer of the tokens it verifies"},
		{name: "a pool id that is not one", args: []string{"-cognito-user-pool-id", "bogus", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-ciino-claim", "c"}, err: `cognito: user pool id "bogus" is not of the form region_id`},
		{name: "real mode needs the CIINo bound", args: []string{"-cognito-issuer", "http://127.0.0.1:1/p", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01"}, err: "-ciino-claim is required with a real user pool"},
		{name: "bound and unbound at once", args: []string{"-cognito-issuer", "http://127.0.0.1:1/p", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-ciino-claim", "c", "-insecure-unbound-ciino"}, err: "exclude each other"},
		{name: "dev mode binds the CIINo to its token's claim", check: func(t *testing.T, o *options) {
			assert.Equal(t, devCIINoClaim, o.ciinoClaim)
		}},
		{name: "dev mode unbound on request", args: []string{"-insecure-unbound-ciino"}, check: func(t *testing.T, o *options) {
			assert.Empty(t, o.ciinoClaim)
			assert.True(t, o.insecureUnboundCIINo)
		}},
		{name: "real mode needs a LOB client", args: []string{"-cognito-issuer", "http://127.0.0.1:1/p", "-cognito-client-id", "app", "-sso-secret", secret, "-ciino-claim", "c"}, err: "-lob-client is required"},
		{name: "short secret", args: []string{"-sso-secret", "short"}, err: "-sso-secret is 5 bytes"},
		{name: "short cookie secret from the environment", env: map[string]string{"COOKIE_SECRET": "x"}, err: "-cookie-secret is 1 bytes"},
		{name: "one secret for two purposes", args: []string{"-sso-secret", secret, "-api-secret", secret}, err: "must all differ"},
		{name: "-lob-client without a colon", args: []string{"-lob-client", "abc"}, err: "want ID:LOB,LOB"},
		{name: "-lob-client with an empty LOB", args: []string{"-lob-client", "abc:01,"}, err: "is not valid"},
		{name: "-lob-client with an empty app client list", args: []string{"-lob-client", "abc:01@"}, err: "want ID:LOB,LOB@APPCLIENT"},
		{name: "-lob-client with an empty app client", args: []string{"-lob-client", "abc:01@" + devAppClient + ","}, err: "an empty app client"},
		{name: "one app client: -lob-client is bound to it", args: []string{"-lob-client", "a:01"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, map[string][]string{"a": {devAppClient}}, o.clientApps)
		}},
		{name: "two app clients, each -lob-client bound to its own", args: []string{
			"-cognito-user-pool-id", "eu-west-1_abc", "-sso-secret", secret, "-insecure-unbound-ciino",
			"-cognito-client-id", "appA", "-cognito-client-id", "appB",
			"-lob-client", "a:01@appA", "-lob-client", "b:02,03@appB", "-lob-client", "both:04@appA,appB",
		}, check: func(t *testing.T, o *options) {
			assert.Equal(t, map[string][]string{"a": {"appA"}, "b": {"appB"}, "both": {"appA", "appB"}}, o.clientApps)
			assert.Equal(t, map[string][]string{"a": {"01"}, "b": {"02", "03"}, "both": {"04"}}, o.clients)
		}},
		{name: "two app clients and an unbound -lob-client", args: []string{
			"-cognito-user-pool-id", "eu-west-1_abc", "-sso-secret", secret,
			"-cognito-client-id", "appA", "-cognito-client-id", "appB", "-lob-client", "a:01,02", "-ciino-claim", "custom:ciino",
		}, err: `name the app clients that may present it: -lob-client "a:01,02@APPCLIENT[,APPCLIENT]"`},
		{name: "-lob-client bound to app clients not accepted, each named once", args: []string{"-lob-client", "a:01@x,y,x," + devAppClient}, err: `-lob-client "a": app clients "x", "y" are not accepted -cognito-client-id values`},
		{name: "one id in two -lob-client, bound to two app clients", args: []string{
			"-cognito-user-pool-id", "eu-west-1_abc", "-sso-secret", secret, "-ciino-claim", "custom:ciino",
			"-cognito-client-id", "appA", "-cognito-client-id", "appB", "-lob-client", "X:01@appA", "-lob-client", "X:02@appB",
		}, err: `x-lob-client-id "X" is registered twice`},
		{name: "one id in two -lob-client, the second unbound", args: []string{
			"-cognito-user-pool-id", "eu-west-1_abc", "-sso-secret", secret, "-ciino-claim", "custom:ciino",
			"-cognito-client-id", "appA", "-cognito-client-id", "appB", "-lob-client", "X:01@appA", "-lob-client", "X:02",
		}, err: `x-lob-client-id "X" is registered twice`},
		{name: "-lob-client bound to an app client not accepted", args: []string{
			"-cognito-user-pool-id", "eu-west-1_abc", "-sso-secret", secret, "-cognito-client-id", "appA", "-lob-client", "a:01@appZ", "-ciino-claim", "custom:ciino",
		}, err: `app client "appZ" is not an accepted -cognito-client-id`},
		{name: "instance numbers", args: []string{"-instance", "2", "-instances", "3", "-include-jti"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, 2, o.instance)
			assert.Equal(t, 3, o.instances)
			assert.True(t, o.includeJTI)
		}},
		{name: "instance out of its fleet", args: []string{"-instance", "3", "-instances", "3"}, err: "want 0 <= -instance < -instances <= 100000"},
		{name: "no fleet", args: []string{"-instances", "0"}, err: "-instances 0"},
		{name: "bad CIDR", args: []string{"-allow-cidr", "10.0.0.0/33"}, err: "-allow-cidr"},
		{name: "bad trusted proxy", args: []string{"-trusted-proxy", "proxy"}, err: "-trusted-proxy"},
		{name: "bad address", args: []string{"-addr", "8080"}, err: "-addr"},
		{name: "bad TTL", args: []string{"-sso-ttl", "0s"}, err: "-sso-ttl"},
		{name: "bad log format", args: []string{"-log-format", "xml"}, err: "-log-format"},
		{name: "bad timeout", args: []string{"-timeout", "1ns"}, err: "-timeout"},
		{name: "missing key file", args: []string{"-sso-key", "/nonexistent/key.pem"}, err: "-sso-key"},
		{name: "key file that is not a key", args: []string{"-sso-key", "config_test.go"}, err: "no PEM block"},
		{name: "key and secret", args: []string{"-sso-key", "x.pem", "-sso-secret", secret}, err: "exclusive"},
		{name: "dev mode's demo pages beside -addr", args: []string{"-addr", "127.0.0.1:9000"}, check: func(t *testing.T, o *options) {
			assert.True(t, o.demo)
			assert.Equal(t, "127.0.0.1:9002", o.portalAddr)
			assert.Equal(t, "127.0.0.1:9003", o.forumAddr)
			assert.Equal(t, "http://127.0.0.1:8081/sso", o.lobURL)
		}},
		{name: "any free port for the demo when -addr takes one", args: []string{"-addr", "127.0.0.1:0"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, "127.0.0.1:0", o.portalAddr)
			assert.Equal(t, "127.0.0.1:0", o.forumAddr)
		}},
		{name: "demo addresses of one's own", args: []string{"-portal-addr", "127.0.0.1:7002", "-forum-addr", "localhost:7003", "-lob-url", "https://lob.example/sso"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, "127.0.0.1:7002", o.portalAddr)
			assert.Equal(t, "localhost:7003", o.forumAddr)
			assert.Equal(t, "https://lob.example/sso", o.lobURL)
		}},
		{name: "-demo=false", args: []string{"-demo=false"}, check: func(t *testing.T, o *options) {
			assert.False(t, o.demo)
			assert.Empty(t, o.portalAddr)
		}},
		{name: "-cors-origin, repeatable, as browsers send origins", args: []string{"-cors-origin", "https://www.abc.example", "-cors-origin", "HTTPS://Answers.abc.example:443"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, listFlag{"https://www.abc.example", "https://answers.abc.example"}, o.corsOrigins)
		}},
		{name: "-cookie-allowed-origin, as browsers send origins", args: []string{"-cookie-allowed-origin", "https://App.example:443"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, listFlag{"https://app.example"}, o.cookieOrigins)
		}},
		{name: "-cookie-allowed-origin with a path", args: []string{"-cookie-allowed-origin", "https://app.example/forum"}, err: "-cookie-allowed-origin: httpadapter: origin"},
		{name: "no demo beside an -addr on every interface", args: []string{"-addr", "0.0.0.0:8080"}, check: func(t *testing.T, o *options) {
			assert.False(t, o.demo, "the pages hold the dev access token")
			assert.Contains(t, o.demoOff, "-addr is not a loopback address")
		}},
		{name: "a demo on loopback beside an -addr on every interface", args: []string{"-addr", "0.0.0.0:8080", "-portal-addr", "127.0.0.1:7002", "-forum-addr", "[::1]:7003"}, check: func(t *testing.T, o *options) {
			assert.True(t, o.demo)
			assert.Empty(t, o.demoOff)
		}},
		{name: "a demo page on every interface", args: []string{"-portal-addr", "0.0.0.0:7002"}, err: "-portal-addr \"0.0.0.0:7002\": want a loopback host:port"},
		{name: "no demo in real mode", args: []string{"-cognito-issuer", "http://127.0.0.1:1/p", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-ciino-claim", "custom:ciino"}, check: func(t *testing.T, o *options) {
			assert.False(t, o.demo)
			assert.Empty(t, o.demoOff)
		}},
		{name: "SSO_CORS_ORIGINS", env: map[string]string{"SSO_CORS_ORIGINS": "https://www.abc.example, https://answers.abc.example"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, listFlag{"https://www.abc.example", "https://answers.abc.example"}, o.corsOrigins)
		}},
		{name: "-cors-origin beats SSO_CORS_ORIGINS", args: []string{"-cors-origin", "https://a.example"}, env: map[string]string{"SSO_CORS_ORIGINS": "https://b.example"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, listFlag{"https://a.example"}, o.corsOrigins)
		}},
		{name: "-cors-origin wildcard", args: []string{"-cors-origin", "*"}, err: "-cors-origin: httpadapter: origin \"*\": a wildcard is not allowed"},
		{name: "-cors-origin with a path", args: []string{"-cors-origin", "https://www.abc.example/"}, err: "no path"},
		{name: "SSO_CORS_ORIGINS null", env: map[string]string{"SSO_CORS_ORIGINS": "null"}, err: "-cors-origin"},
		{name: "demo address in real mode", args: []string{"-cognito-issuer", "http://127.0.0.1:1/p", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-ciino-claim", "c", "-portal-addr", "127.0.0.1:7002"}, err: "need dev mode"},
		{name: "bad demo address", args: []string{"-forum-addr", "7003"}, err: "-forum-addr"},
		{name: "bad LOB URL", args: []string{"-lob-url", "127.0.0.1:8081/sso"}, err: "-lob-url"},
		{name: "unknown flag", args: []string{"-nope"}, err: "flag provided but not defined"},
		{name: "stray argument", args: []string{"serve"}, err: "unexpected argument"},

		// Every problem at once, a line each.
		{name: "every problem at once", args: []string{"-sso-secret", "short", "-lob-client", "abc", "-timeout", "1ns", "-log-format", "xml", "-allow-cidr", "10.0.0.0/33"}, errs: []string{
			"-timeout 1ns: want between 10ms and 5m",
			`-log-format "xml": want json or text`,
			"-sso-secret is 5 bytes: want at least 32",
			"-allow-cidr, -allow-host or -trusted-proxy:",
			`-lob-client "abc": want ID:LOB,LOB@APPCLIENT,APPCLIENT`,
		}},
		{name: "flags that do not parse, and the rest", args: []string{"-nope", "value", "-timeout", "soon", "-sso-ttl", "0s", "stray"}, errs: []string{
			"flag provided but not defined: -nope",
			`invalid value "soon" for flag -timeout: parse error`,
			"unexpected argument \"stray\"",
			"-sso-ttl 0s: want between 1s and 24h",
		}},
		{name: "flags and the environment at once", args: []string{"-timeout", "1ns"}, env: map[string]string{"SSO_TTL": "0s", "SSO_INSTANCES": "many"}, errs: []string{
			`invalid value "many" for SSO_INSTANCES (-instances): parse error`,
			"-sso-ttl 0s: want between 1s and 24h",
			"-timeout 1ns: want between 10ms and 5m",
		}},
		{name: "a bad -lob-client, and one bound to an app client not accepted", args: []string{"-lob-client", "a:01,", "-lob-client", "b:02@other"}, errs: []string{
			`-lob-client "a:01,": LOBId "" is not valid`,
			`-lob-client "b": app client "other" is not an accepted -cognito-client-id`,
		}},

		// Every flag has its variable.
		{name: "SSO_TIMEOUT", env: map[string]string{"SSO_TIMEOUT": "2s"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, 2*time.Second, o.timeout)
		}},
		{name: "-timeout beats SSO_TIMEOUT", args: []string{"-timeout", "3s"}, env: map[string]string{"SSO_TIMEOUT": "2s"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, 3*time.Second, o.timeout)
		}},
		{name: "SSO_TIMEOUT that does not parse", env: map[string]string{"SSO_TIMEOUT": "soon"}, err: `invalid value "soon" for SSO_TIMEOUT (-timeout): parse error`},
		{name: "SSO_DEMO and SSO_INCLUDE_JTI", env: map[string]string{"SSO_DEMO": "false", "SSO_INCLUDE_JTI": "true"}, check: func(t *testing.T, o *options) {
			assert.False(t, o.demo)
			assert.True(t, o.includeJTI)
		}},
		{name: "SSO_LOB_CLIENTS, space-separated", env: map[string]string{"SSO_LOB_CLIENTS": "a:01,02  b:03@" + devAppClient}, check: func(t *testing.T, o *options) {
			assert.Equal(t, map[string][]string{"a": {"01", "02"}, "b": {"03"}}, o.clients)
		}},
		{name: "SSO_ALLOW_CIDRS and SSO_API_VERSIONS, comma-separated", env: map[string]string{"SSO_ALLOW_CIDRS": "10.0.0.0/8, 192.168.0.0/16", "SSO_API_VERSIONS": "1.0.0,1.1.0"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, listFlag{"10.0.0.0/8", "192.168.0.0/16"}, o.allowCIDRs)
			assert.Equal(t, listFlag{"1.0.0", "1.1.0"}, o.apiVersions)
		}},
		{name: "a real user pool from the environment", env: map[string]string{
			"SSO_COGNITO_USER_POOL_ID": "eu-west-1_abc", "SSO_COGNITO_CLIENT_IDS": "app", "SSO_SECRET": secret,
			"SSO_LOB_CLIENTS": "c:01", "SSO_CIINO_CLAIM": "custom:ciino", "SSO_COGNITO_LEEWAY": "1m",
		}, check: func(t *testing.T, o *options) {
			assert.False(t, o.devMode)
			assert.Equal(t, "eu-west-1_abc", o.cognitoPool)
			assert.Equal(t, time.Minute, o.cognitoConfig(nil).Leeway)
		}},
		{name: "-sso-secret leaves SSO_KEY_FILES unread", args: []string{"-sso-secret", secret}, env: map[string]string{"SSO_KEY_FILES": "/nonexistent/key.pem"}, check: func(t *testing.T, o *options) {
			assert.Empty(t, o.ssoKeyFiles)
		}},
		{name: "-sso-key leaves SSO_SECRET unread", args: []string{"-sso-key", "/nonexistent/key.pem"}, env: map[string]string{"SSO_SECRET": secret}, err: "-sso-key /nonexistent/key.pem: open"},

		// -cognito-leeway.
		{name: "-cognito-leeway is 0 by default", check: func(t *testing.T, o *options) {
			assert.Zero(t, o.cognitoConfig(nil).Leeway)
		}},
		{name: "-cognito-leeway", args: []string{"-cognito-leeway", "30s"}, check: func(t *testing.T, o *options) {
			assert.Equal(t, 30*time.Second, o.cognitoConfig(nil).Leeway)
		}},
		{name: "-cognito-leeway over 5 minutes", args: []string{"-cognito-leeway", "6m"}, err: "-cognito-leeway 6m0s: want between 0s and 5m0s"},
		{name: "-cognito-leeway negative", args: []string{"-cognito-leeway", "-1s"}, err: "-cognito-leeway -1s: want between 0s and 5m0s"},

		// The cookie exchange in real mode.
		{name: "dev mode serves the cookie exchange", check: func(t *testing.T, o *options) {
			assert.True(t, o.cookieExchange)
		}},
		{name: "real mode without the cookie exchange's secrets serves none", args: real, check: func(t *testing.T, o *options) {
			assert.False(t, o.cookieExchange)
		}},
		{name: "real mode with both serves it", args: real, env: map[string]string{"COOKIE_SECRET": secret + "c", "API_SECRET": secret + "a"}, check: func(t *testing.T, o *options) {
			assert.True(t, o.cookieExchange)
		}},
		{name: "real mode with COOKIE_SECRET alone", args: real, env: map[string]string{"COOKIE_SECRET": secret + "c"}, err: "-cookie-secret (COOKIE_SECRET) without -api-secret (API_SECRET): the cookie exchange needs both; give neither to serve no cookie exchange"},
		{name: "real mode with -api-secret alone", args: append(slices.Clone(real), "-api-secret", secret+"a"), err: "-api-secret (API_SECRET) without -cookie-secret (COOKIE_SECRET)"},
		{name: "-cookie-allowed-origin without the cookie exchange", args: append(slices.Clone(real), "-cookie-allowed-origin", "https://app.example"), err: "-cookie-allowed-origin needs the cookie exchange"},
		{name: "a cookie name that is not one", args: []string{"-cookie-name", "a b"}, err: `-cookie-name "a b": not a cookie name`},

		// TLS.
		{name: "TLS", args: []string{"-tls-cert", certFile, "-tls-key", keyFile}, check: func(t *testing.T, o *options) {
			require.NotNil(t, o.tlsPair)
			assert.Equal(t, "api", o.tlsPair.cert.Leaf.Subject.CommonName)
			assert.Equal(t, 5*time.Second, o.tlsReload)
		}},
		{name: "TLS from the environment, paths made absolute", env: map[string]string{"SSO_TLS_CERT": certFile, "SSO_TLS_KEY": keyFile, "SSO_TLS_RELOAD_INTERVAL": "0"}, check: func(t *testing.T, o *options) {
			require.NotNil(t, o.tlsPair)
			assert.True(t, filepath.IsAbs(o.tlsCertFile))
			assert.Zero(t, o.tlsReload)
		}},
		{name: "-tls-cert without -tls-key", args: []string{"-tls-cert", certFile}, err: "-tls-cert needs -tls-key"},
		{name: "-tls-key without -tls-cert", args: []string{"-tls-key", keyFile}, err: "-tls-key needs -tls-cert"},
		{name: "a key that is not the certificate's", args: []string{"-tls-cert", certFile, "-tls-key", otherKey}, err: "-tls-cert " + certFile + " with -tls-key " + otherKey + ": tls: private key does not match public key"},
		{name: "a missing certificate", args: []string{"-tls-cert", "/nonexistent/tls.crt", "-tls-key", keyFile}, err: "-tls-cert /nonexistent/tls.crt with -tls-key " + keyFile + ": open /nonexistent/tls.crt: no such file or directory"},
		{name: "a key file that is not a key", args: []string{"-tls-cert", certFile, "-tls-key", certFile}, err: "-tls-cert " + certFile + " with -tls-key " + certFile + ": tls: found a certificate rather than a key"},
		{name: "an expired certificate", args: []string{"-tls-cert", expiredCert, "-tls-key", expiredKey}, err: "the certificate expired at "},
		{name: "a reload interval too short", args: []string{"-tls-cert", certFile, "-tls-key", keyFile, "-tls-reload-interval", "1ms"}, err: "-tls-reload-interval 1ms: want between 100ms and 1h, or 0 for SIGHUP only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, env(tt.env), io.Discard)
			if tt.err != "" || tt.errs != nil {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), secret, "no secret in the error")
				lines := strings.Split(err.Error(), "\n")
				want := tt.errs
				if tt.err != "" {
					want = []string{tt.err}
				}
				for _, w := range want {
					assert.True(t, slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }), "a line says %q: %q", w, err)
				}
				assert.Len(t, lines, max(tt.lines, len(want)), "a line per problem: %q", err)
				for _, l := range lines {
					assert.NotEmpty(t, strings.TrimSpace(l), "no empty line: %q", err)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, o)
		})
	}
}

func TestNextPort(t *testing.T) {
	for _, tt := range []struct {
		addr string
		n    int
		want string
	}{
		{"127.0.0.1:8080", 2, "127.0.0.1:8082"},
		{"127.0.0.1:0", 2, "127.0.0.1:0"},
		{"[::1]:8080", 3, "[::1]:8083"},
		{":8080", 2, ":8082"},
		{"localhost:65534", 2, "localhost:0"},
	} {
		assert.Equal(t, tt.want, nextPort(tt.addr, tt.n), tt.addr)
	}
}

// FuzzLOBClientFlag feeds arbitrary -lob-client values to the option
// parser: it never panics, and a value it accepts registers exactly the
// id before the first colon with the valid LOBIds after it. The corpus is
// in testdata/fuzz/FuzzLOBClientFlag.
func FuzzLOBClientFlag(f *testing.F) {
	for _, s := range []string{"1RrLMyLrZGA=:01,XX", "a:b", ":", "a:", ":01", "a:01,,02", "a:b:c", "é:ü", "a:\x00", "a:" + strings.Repeat("x", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		o, err := parseOptions([]string{"-lob-client", v}, env(nil), io.Discard)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("one value, several problems: %q", err)
			}
			return
		}
		id, rest, ok := strings.Cut(v, ":")
		rest, _, _ = strings.Cut(rest, "@")
		if !ok || id == "" {
			t.Fatalf("accepted %q", v)
		}
		lobs := o.clients[id]
		if len(o.clients) != 1 || strings.Join(lobs, ",") != rest {
			t.Fatalf("%q registered %v", v, o.clients)
		}
		for _, lob := range lobs {
			if (&ssotoken.Request{CIINo: "x", LOBId: lob, Functionality: "x"}).Validate() != nil {
				t.Fatalf("accepted LOBId %q", lob)
			}
		}
	})
}

// TestEveryFlagHasItsVariable: -h names the environment variable of every
// flag, each variable is named once, and each sets its flag.
func TestEveryFlagHasItsVariable(t *testing.T) {
	var usage strings.Builder
	_, err := parseOptions([]string{"-h"}, env(nil), &usage)
	require.ErrorIs(t, err, flag.ErrHelp)
	flags := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(usage.String(), -1)
	require.Len(t, flags, len(flagEnv), "a variable for each flag, no more")
	vars := map[string]bool{}
	for _, sections := range strings.Split(usage.String(), "\n  -")[1:] {
		name := strings.Fields(sections)[0]
		v, ok := flagEnv[name]
		require.True(t, ok, "-%s has no variable", name)
		assert.Contains(t, strings.Join(strings.Fields(sections), " "), "(env "+v, "-h names -%s's variable", name)
		assert.False(t, vars[v], "%s names two flags", v)
		vars[v] = true
	}
}
