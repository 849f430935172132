package main

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// bashStubs stand in for curl and go: each prints the words it was given,
// one <word> each, and go the environment it would hand the program.
const bashStubs = `set -eu
curl() { printf 'curl'; printf ' <%s>' "$@"; printf '\n'; }
go() { printf 'go SSO_SECRET=<%s> SSL_CERT_FILE=<%s>' "${SSO_SECRET-}" "${SSL_CERT_FILE-}"; printf ' <%s>' "$@"; printf '\n'; }
`

func bashPath(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash: the banner's lines are pasted into bash")
	}
	return bash
}

// runBash runs script in bash, in an environment that holds PATH alone.
func runBash(bash, script string) ([]byte, error) {
	cmd := exec.Command(bash, "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	return cmd.CombinedOutput()
}

// TestBannerLinesWorkInBash pastes the whole dev banner into bash, with
// curl and go stubbed: every line runs, and each command gets exactly the
// words meant, credentials from their shell variables included, whatever
// the configured values hold (quotes, $, spaces).
func TestBannerLinesWorkInBash(t *testing.T) {
	bash := bashPath(t)
	for _, tt := range []struct {
		name  string
		args  []string
		setup func(*options)
		want  []string
	}{
		{
			name: "defaults",
			want: []string{
				`curl <-sS> <-X> <POST> <http://127.0.0.1:8080/v2/get_sso_token> <-H> <x-api-version: 1.0.0> <-H> <x-lob-client-id: 1RrLMyLrZGA=> <-H> <Content-Type: application/json> <-H> <Authorization: Bearer tok.en.sig> <-d> <{"CIINo":"10001XXX","LOBId":"XX","Functionality":"D"}>`,
				`go SSO_SECRET=<> SSL_CERT_FILE=<> <run> <./examples/client> <-token> <tok.en.sig>`,
				`curl <-sS> <-X> <POST> <http://127.0.0.1:8080/services/v2/auth/cookiesso/token.json> <-H> <Cookie: AnswerHubCookieSSO=coo.kie.sig> <-H> <Accept: application/json> <-H> <Content-Type: application/json>`,
				`curl <-sS> <http://127.0.0.1:8080/services/v2/user.json> <-H> <Accept: application/json> <-H> <Authorization: Bearer curl <-sS> <-X> <POST> <http://127.0.0.1:8080/services/v2/auth/cookiesso/token.json>`,
				`go SSO_SECRET=<dev's secret> SSL_CERT_FILE=<> <run> <./examples/lobapp>`,
			},
		},
		{
			name: "values to quote, another LOB and its address",
			args: []string{"-lob-client", `it's "$x":01`, "-api-version", "2.0.0", "-cookie-name", "Sso_Cookie", "-lob-url", "http://127.0.0.1:9081/sso"},
			setup: func(o *options) {
				o.ssoSecret = `it's a $ecret`
			},
			want: []string{
				`<-H> <x-api-version: 2.0.0> <-H> <x-lob-client-id: it's "$x"> <-H> <Content-Type: application/json> <-H> <Authorization: Bearer tok.en.sig> <-d> <{"CIINo":"10001XXX","LOBId":"01","Functionality":"D"}>`,
				`go SSO_SECRET=<> SSL_CERT_FILE=<> <run> <./examples/client> <-client-id> <it's "$x"> <-api-version> <2.0.0> <-lob> <01> <-token> <tok.en.sig>`,
				`<Cookie: Sso_Cookie=coo.kie.sig>`,
				`go SSO_SECRET=<it's a $ecret> SSL_CERT_FILE=<> <run> <./examples/lobapp> <-lob> <01> <-addr> <127.0.0.1:9081>`,
			},
		},
		{
			name: "TLS and an asymmetric key",
			args: []string{"-addr", "127.0.0.1:8443"},
			setup: func(o *options) {
				o.tlsPair, o.tlsCertFile = &loadedPair{}, "/etc/my certs/tls.crt"
				k, err := ssotoken.NewHMACKey("", []byte(strings.Repeat("k", 32)))
				require.NoError(t, err)
				o.ssoKey = k
			},
			want: []string{
				`curl <-sS> <--cacert> </etc/my certs/tls.crt> <-X> <POST> <https://127.0.0.1:8443/v2/get_sso_token>`,
				`go SSO_SECRET=<> SSL_CERT_FILE=</etc/my certs/tls.crt> <run> <./examples/client> <-url> <https://127.0.0.1:8443> <-token> <tok.en.sig>`,
				`curl <-sS> <--cacert> </etc/my certs/tls.crt> <-X> <POST> <https://127.0.0.1:8443/services/v2/auth/cookiesso/token.json>`,
				`curl <-sS> <--cacert> </etc/my certs/tls.crt> <https://127.0.0.1:8443/services/v2/user.json>`,
				`go SSO_SECRET=<> SSL_CERT_FILE=</etc/my certs/tls.crt> <run> <./examples/lobapp> <-sso-jwks-url> <https://127.0.0.1:8443/.well-known/jwks.json>`,
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, env(nil), io.Discard)
			require.NoError(t, err)
			o.ssoSecret = "dev's secret"
			if tt.setup != nil {
				tt.setup(o)
			}
			base := "http://" + o.addr
			if o.tlsPair != nil {
				base = "https://" + o.addr
			}
			var banner strings.Builder
			d := &devCreds{accessToken: "tok.en.sig", cookie: "coo.kie.sig", generatedSSOSecret: o.ssoKey == nil}
			d.print(&banner, base, o, "http://127.0.0.1:8082")
			out, err := runBash(bash, bashStubs+banner.String())
			require.NoError(t, err, "bash: %s\nthe banner:\n%s", out, banner.String())
			for _, w := range tt.want {
				assert.Contains(t, string(out), w)
			}
			assert.Equal(t, 5, strings.Count(string(out), "\n"), "five commands ran, and nothing else: %s", out)

			text := banner.String()
			assert.Equal(t, 1, strings.Count(text, "tok.en.sig"), "the token printed once")
			assert.Equal(t, 1, strings.Count(text, "coo.kie.sig"), "the cookie printed once")
			assert.Contains(t, text, "Stop it with Ctrl-C.")
			assert.Contains(t, text, "\n# http://127.0.0.1:8082/\n", "the portal's URL, on a line of its own")
			for _, l := range strings.Split(text, "\n") {
				assert.False(t, strings.HasPrefix(l, "http"), "a URL alone is not a command: %q", l)
			}
		})
	}
}

// TestDevBannerRunsInBash pastes a running dev server's banner into bash
// as it is, with only go stubbed: curl gets a TokenNo, the JWT of the
// cookie exchange and the user behind it.
func TestDevBannerRunsInBash(t *testing.T) {
	ssoserver, _ := binaries(t)
	bash := bashPath(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl: the banner's lines call it")
	}
	srv := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-demo=false")
	dev := readDevOutput(t, srv)
	script := strings.Replace(bashStubs, "curl()", "unused_curl()", 1) + strings.Join(dev.lines, "\n") + "\n"
	out, err := runBash(bash, script)
	require.NoError(t, err, "bash: %s", out)
	assert.Contains(t, string(out), `{"ReturnCode":1,"ReturnMessage":"Token Generated successfully","TokenRefNo":"`)
	assert.Contains(t, string(out), `{"jwt":"`)
	assert.Contains(t, string(out), `"username":"dev-user","roles":["Use API"]`)
	assert.Contains(t, string(out), "go SSO_SECRET=<> SSL_CERT_FILE=<> <run> <./examples/client> <-url> <"+dev.base+"> <-token> <"+dev.accessToken+">")
	assert.Regexp(t, `go SSO_SECRET=<[A-Z2-7]{52}> SSL_CERT_FILE=<> <run> <./examples/lobapp>`, string(out), "the dev server's random secret")
}
