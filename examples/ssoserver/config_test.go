package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseOptions(t *testing.T) {
	secret := strings.Repeat("s", 32)
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(*testing.T, *options)
		err   string
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
		{name: "real mode needs a client id", args: []string{"-cognito-issuer", "http://127.0.0.1:1/p"}, err: "-cognito-client-id is required"},
		{name: "real mode needs a secret", args: []string{"-cognito-jwks-url", "http://127.0.0.1:1/j", "-cognito-client-id", "app"}, err: "-sso-secret"},
		{name: "real mode needs the CIINo bound", args: []string{"-cognito-jwks-url", "http://127.0.0.1:1/j", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01"}, err: "-ciino-claim is required with a real user pool"},
		{name: "bound and unbound at once", args: []string{"-cognito-jwks-url", "http://127.0.0.1:1/j", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-ciino-claim", "c", "-insecure-unbound-ciino"}, err: "exclude each other"},
		{name: "dev mode binds the CIINo to its token's claim", check: func(t *testing.T, o *options) {
			assert.Equal(t, devCIINoClaim, o.ciinoClaim)
		}},
		{name: "dev mode unbound on request", args: []string{"-insecure-unbound-ciino"}, check: func(t *testing.T, o *options) {
			assert.Empty(t, o.ciinoClaim)
			assert.True(t, o.insecureUnboundCIINo)
		}},
		{name: "real mode needs a LOB client", args: []string{"-cognito-jwks-url", "http://127.0.0.1:1/j", "-cognito-client-id", "app", "-sso-secret", secret}, err: "-lob-client is required"},
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
		{name: "demo address in real mode", args: []string{"-cognito-issuer", "http://127.0.0.1:1/p", "-cognito-client-id", "app", "-sso-secret", secret, "-lob-client", "c:01", "-portal-addr", "127.0.0.1:7002"}, err: "need dev mode"},
		{name: "bad demo address", args: []string{"-forum-addr", "7003"}, err: "-forum-addr"},
		{name: "bad LOB URL", args: []string{"-lob-url", "127.0.0.1:8081/sso"}, err: "-lob-url"},
		{name: "unknown flag", args: []string{"-nope"}, err: "flag provided but not defined"},
		{name: "stray argument", args: []string{"serve"}, err: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, env(tt.env), io.Discard)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.NotContains(t, err.Error(), "\n", "one line")
				assert.NotContains(t, err.Error(), secret, "no secret in the error")
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
				t.Fatalf("multi-line error %q", err)
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
