package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/cognito/cognitotest"
	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// The end-to-end tests build the example programs, start them on free
// loopback ports, and drive them over HTTP as a newcomer would, with the
// curl lines the server prints.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds ssoserver and lobapp once per test binary.
func binaries(t *testing.T) (ssoserver, lobapp string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds and starts the example programs (run without -short)")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "ssokit-e2e")
		if buildErr != nil {
			return
		}
		for _, p := range []string{"ssoserver", "lobapp"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, p), "../"+p).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", p, err, out)
				return
			}
		}
	})
	require.NoError(t, buildErr)
	return filepath.Join(binDir, "ssoserver"), filepath.Join(binDir, "lobapp")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// proc is a started example program.
type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr *strings.Builder
	mu     sync.Mutex
}

func start(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &proc{cmd: cmd, stdout: bufio.NewReader(out), stderr: &strings.Builder{}}
	cmd.Stderr = writerFunc(func(b []byte) (int, error) { p.mu.Lock(); defer p.mu.Unlock(); return p.stderr.Write(b) })
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		assertNoCredentials(t, p.logs())
	})
	return p
}

// credentials are the secrets, tokens, cookies and key material the tests
// hand to or get from the programs; none may ever appear in their logs.
var credentials sync.Map

// credential records s as a credential and returns it.
func credential(s string) string {
	if len(s) >= 16 {
		credentials.Store(s, true)
	}
	return s
}

func assertNoCredentials(t *testing.T, logs string) {
	credentials.Range(func(k, _ any) bool {
		assert.NotContains(t, logs, k.(string), "a credential in the logs")
		return true
	})
}

func init() {
	for _, s := range []string{e2eSecret, "a cookie secret that is 32+ bytes long", "an API secret that is 32+ bytes long!"} {
		credential(s)
	}
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// devOutput is what ssoserver prints in dev mode.
type devOutput struct {
	base, accessToken, cookie string
	curls                     []string // the curl lines, in order, with $TOKEN and $COOKIE expanded as the shell does
	client, lobapp            string   // the lines that start examples/client and lobapp
	lines                     []string // the banner as printed, up to lobapp's line
}

var baseRE = regexp.MustCompile(`dev mode on (https?://127\.0\.0\.1:\d+):`)

// readDevOutput reads the dev-mode banner up to lobapp's line, its last
// but for the browser demo's.
func readDevOutput(t *testing.T, p *proc) devOutput {
	t.Helper()
	var d devOutput
	lines := make(chan string)
	go func() {
		defer close(lines)
		for {
			l, err := p.stdout.ReadString('\n')
			if err != nil {
				return
			}
			lines <- strings.TrimRight(l, "\n")
		}
	}()
	timeout := time.After(30 * time.Second)
	for d.lobapp == "" {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "ssoserver exited early: %s", p.logs())
			d.lines = append(d.lines, l)
			switch {
			case baseRE.MatchString(l):
				d.base = baseRE.FindStringSubmatch(l)[1]
			case strings.HasPrefix(l, "TOKEN='"):
				d.accessToken = credential(strings.Trim(strings.TrimPrefix(l, "TOKEN="), "'"))
			case strings.HasPrefix(l, "COOKIE='"):
				d.cookie = credential(strings.Trim(strings.TrimPrefix(l, "COOKIE="), "'"))
				credential(strings.TrimPrefix(d.cookie, cookiesso.DefaultCookieName+"="))
			case strings.HasPrefix(l, "curl "), strings.HasPrefix(l, "JWT=$("):
				d.curls = append(d.curls, strings.NewReplacer("$TOKEN", d.accessToken, "$COOKIE", d.cookie).Replace(l))
			case strings.Contains(l, "go run ./examples/client "):
				d.client = l
			case strings.Contains(l, "go run ./examples/lobapp"):
				d.lobapp = l
			}
		case <-timeout:
			t.Fatalf("no dev banner within 30 s; logs: %s", p.logs())
		}
	}
	go func() {
		for range lines { // drain
		}
	}()
	require.NotEmpty(t, d.base)
	require.NotEmpty(t, d.accessToken)
	require.NotEmpty(t, d.cookie)
	require.Len(t, d.curls, 3)
	require.NotEmpty(t, d.client)
	return d
}

// curlRequest turns one printed curl command into an *http.Request. It
// understands what the server prints: -sS, --cacert, -X, -H, -d and the
// URL, with double- or single-quoted words.
func curlRequest(t *testing.T, line string) *http.Request {
	t.Helper()
	words := shellWords(t, line)
	require.Equal(t, "curl", words[0])
	method, target, body := http.MethodGet, "", ""
	var headers [][2]string
	for i := 1; i < len(words); i++ {
		switch w := words[i]; w {
		case "-sS":
		case "--cacert":
			i++
		case "-X":
			i++
			method = words[i]
		case "-H":
			i++
			k, v, ok := strings.Cut(words[i], ":")
			require.True(t, ok, words[i])
			headers = append(headers, [2]string{k, strings.TrimSpace(v)})
		case "-d":
			i++
			body = words[i]
			if method == http.MethodGet {
				method = http.MethodPost
			}
		default:
			require.Regexp(t, `^https?://`, w, "unexpected curl word %q", w)
			target = w
		}
	}
	r, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(t, err)
	for _, h := range headers {
		r.Header.Add(h[0], h[1])
	}
	return r
}

func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			require.GreaterOrEqual(t, j, 0, "unbalanced quote in %q", s)
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func do(t *testing.T, r *http.Request) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(r.WithContext(ctx))
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	require.NoError(t, err)
	return res, b
}

const e2eSecret = "an end-to-end SSO secret of 32+ bytes"

func TestDevModeEndToEnd(t *testing.T) {
	ssoserver, lobapp := binaries(t)
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0", "-log-format", "json")
	dev := readDevOutput(t, srv)

	// 1. GenerateSSOToken, as printed.
	res, body := do(t, curlRequest(t, dev.curls[0]))
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	var resp ssotoken.Response
	require.NoError(t, json.Unmarshal(body, &resp))
	credential(resp.TokenNo)
	assert.Equal(t, 1, resp.ReturnCode)
	assert.Equal(t, "Token Generated successfully", resp.ReturnMessage)
	assert.True(t, ssotoken.ValidRefNo(resp.TokenRefNo))
	assertSeedShaped(t, resp)

	// 2. The cookie exchange, as printed.
	res, body = do(t, curlRequest(t, dev.curls[1]))
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	var ex struct{ JWT string }
	require.NoError(t, json.Unmarshal(body, &ex))
	require.NotEmpty(t, ex.JWT)
	credential(ex.JWT)

	// 3. user.json with that JWT: the third line's second command.
	third := dev.curls[2]
	userCurl := third[strings.LastIndex(third, "; curl ")+2:]
	userReq := curlRequest(t, strings.ReplaceAll(userCurl, "$JWT", ex.JWT))
	res, body = do(t, userReq)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	assert.Contains(t, string(body), `"username":"dev-user"`)

	// The sample's alias path answers too.
	alias := curlRequest(t, dev.curls[1])
	alias.URL.Path = "/services/v2/auth/token.json"
	res, _ = do(t, alias)
	assert.Equal(t, http.StatusOK, res.StatusCode)

	// 4. The linked LOB: first redemption accepted, second refused.
	lob := start(t, lobapp, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0")
	lobURL := waitListening(t, lob)
	res, body = do(t, formPost(t, lobURL+"/sso", resp.TokenNo))
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	assert.Contains(t, string(body), `"CIINo":"10001XXX","LOBId":"XX","Functionality":"D"`, "the document's request sample, answered in JSON to a client that asks for no HTML")
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "lob_session" {
			session = c
		}
	}
	require.NotNil(t, session, "a session cookie")
	assert.True(t, session.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, session.SameSite)
	home, _ := http.NewRequest(http.MethodGet, lobURL+"/", nil)
	home.AddCookie(session)
	res, body = do(t, home)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(body), "functionality D")

	res, body = do(t, formPost(t, lobURL+"/sso", resp.TokenNo))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, string(body), "token_replayed")

	// 5. A failure per documented status.
	gen := func(mod func(*http.Request)) (int, string) {
		r := curlRequest(t, dev.curls[0])
		mod(r)
		res, body := do(t, r)
		var env struct{ ErrorCode string }
		_ = json.Unmarshal(body, &env)
		return res.StatusCode, env.ErrorCode
	}
	for _, tt := range []struct {
		name   string
		mod    func(*http.Request)
		status int
		code   string
	}{
		{"400 missing x-api-version", func(r *http.Request) { r.Header.Del("x-api-version") }, 400, "missing_api_version"},
		{"401 no Authorization", func(r *http.Request) { r.Header.Del("Authorization") }, 401, "missing_authorization"},
		{"401 forged token", func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+dev.accessToken[:len(dev.accessToken)-4]+"AAAA")
		}, 401, "bad_signature"},
		{"403 unknown x-lob-client-id", func(r *http.Request) { r.Header.Set("x-lob-client-id", "stranger") }, 403, "unknown_client"},
		{"403 another customer's CIINo", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"CIINo":"10001YYY","LOBId":"XX","Functionality":"D"}`))
			r.ContentLength = -1
		}, 403, "ciino_mismatch"},
		{"400 member names in another case", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"ciino":"10001XXX","lobid":"XX","functionality":"D"}`))
			r.ContentLength = -1
		}, 400, "malformed_body"},
		{"405 GET", func(r *http.Request) { r.Method = http.MethodGet }, 405, "method_not_allowed"},
		{"413 huge body", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"CIINo":"` + strings.Repeat("1", 20000) + `"}`))
			r.ContentLength = -1
		}, 413, "body_too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, code := gen(tt.mod)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.code, code)
		})
	}

	// Health, and no credential in the logs.
	res, _ = do(t, mustRequest(t, http.MethodGet, dev.base+"/healthz"))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	logs := srv.logs()
	assert.Contains(t, logs, `"token_ref_no":"`+resp.TokenRefNo+`"`)
	for _, secret := range []string{dev.accessToken, dev.cookie, resp.TokenNo, ex.JWT, e2eSecret} {
		assert.NotContains(t, logs, secret)
	}
}

func TestGuardAndUnavailableKeysEndToEnd(t *testing.T) {
	ssoserver, _ := binaries(t)

	// 406: only 10.0.0.0/8 may call, and the test calls from 127.0.0.1.
	guarded := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-allow-cidr", "10.0.0.0/8")
	dev := readDevOutput(t, guarded)
	res, body := do(t, curlRequest(t, dev.curls[0]))
	assert.Equal(t, http.StatusNotAcceptable, res.StatusCode, string(body))
	res, _ = do(t, mustRequest(t, http.MethodGet, dev.base+"/healthz"))
	assert.Equal(t, http.StatusOK, res.StatusCode, "health is not behind the guard")

	// 502: a real-mode server whose JWKS cannot be reached starts anyway
	// and answers 502 while it has no key.
	real := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0",
		"-cognito-issuer", "http://127.0.0.1:1/pool", "-cognito-jwks-url", "http://127.0.0.1:1/jwks",
		"-cognito-client-id", "app", "-lob-client", "cid:01", "-ciino-claim", "custom:ciino",
		"-cookie-secret", "a cookie secret that is 32+ bytes long", "-api-secret", "an API secret that is 32+ bytes long!")
	base := waitListening(t, real)
	// A token of the configured pool (signed by a key nobody could
	// fetch) waits for the pool's keys: 502. The dev token names another
	// pool: it cannot verify whatever keys come, so it is refused at once.
	pool, err := cognitotest.New(cognitotest.Issuer("http://127.0.0.1:1/pool"), cognitotest.ClientID("app"))
	require.NoError(t, err)
	for _, tt := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"the pool's token", pool.AccessToken(t), http.StatusBadGateway, "jwks_unavailable"},
		{"another pool's token", dev.accessToken, http.StatusUnauthorized, "unknown_key"},
	} {
		r := curlRequest(t, dev.curls[0])
		r.URL, _ = url.Parse(base + "/v2/get_sso_token")
		r.Header.Set("x-lob-client-id", "cid")
		r.Header.Set("Authorization", tt.token)
		res, body = do(t, r)
		assert.Equal(t, tt.status, res.StatusCode, "%s: %s", tt.name, body)
		assert.Contains(t, string(body), `"ErrorCode":"`+tt.code+`"`, tt.name)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	ssoserver, _ := binaries(t)
	for _, args := range [][]string{
		{"-allow-cidr", "10.0.0.0/33"},
		{"-sso-secret", "short"},
		{"-lob-client", "no-colon"},
		{"-no-such-flag"},
	} {
		out, err := exec.Command(ssoserver, append([]string{"-addr", "127.0.0.1:0"}, args...)...).CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%v", args)
		assert.Equal(t, 2, exit.ExitCode(), "%v", args)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(string(out)), "\n")+1, "one line: %q", out)
	}
	out, err := exec.Command(ssoserver, "-h").CombinedOutput()
	require.NoError(t, err)
	for _, flag := range []string{"-addr", "-cognito-user-pool-id", "-cognito-jwks-url", "-sso-secret", "-lob-client", "-allow-cidr", "-cookie-secret", "-api-secret", "SSO_ADDR", "COOKIE_SECRET", "API_SECRET"} {
		assert.Contains(t, string(out), flag)
	}
}

// listenRE matches the "listening" log line of ssoserver and lobapp, in
// text or JSON format.
var listenRE = regexp.MustCompile(`listening"?(?:,"| )(?:addr|url)"?[=:]"?(?:http://)?(127\.0\.0\.1:\d+)`)

// waitListening waits for a program's "listening" log line and returns its
// base URL.
func waitListening(t *testing.T, p *proc) string {
	t.Helper()
	return "http://" + waitLog(t, p, listenRE)[1]
}

// waitLog waits for re to match p's log and returns the match.
func waitLog(t *testing.T, p *proc, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.logs()); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond) // polling a child process's output, not waiting out a timer
	}
	t.Fatalf("no log line matching %s within 30 s: %s", re, p.logs())
	return nil
}

func formPost(t *testing.T, target, token string) *http.Request {
	r, err := http.NewRequest(http.MethodPost, target, strings.NewReader(url.Values{"TokenNo": {token}}.Encode()))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func mustRequest(t *testing.T, method, target string) *http.Request {
	r, err := http.NewRequest(method, target, nil)
	require.NoError(t, err)
	return r
}

// demoRE matches the "demo pages" log line in JSON.
var demoRE = regexp.MustCompile(`"msg":"demo pages","portal":"(http://127\.0\.0\.1:\d+)/","forum":"(http://127\.0\.0\.1:\d+)/"`)

// TestDevModeCORSAndDemoPages checks over HTTP what the browser test in
// the e2e module checks in Chromium: the demo pages, the SSO cookie the
// portal sets, and CORS for the pages' origins only.
func TestDevModeCORSAndDemoPages(t *testing.T) {
	ssoserver, _ := binaries(t)
	srv := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-log-format", "json", "-cors-origin", "https://www.abc.example")
	dev := readDevOutput(t, srv)
	m := waitLog(t, srv, demoRE)
	portal, forum := m[1], m[2]
	// audited waits for a refused GenerateSSOToken call's audit record,
	// then returns how many records the log holds: the log arrives
	// through a pipe, so an absence is only seen after a later line.
	audited := func(p *proc) int {
		t.Helper()
		before := strings.Count(p.logs(), `"msg":"GenerateSSOToken"`)
		r := curlRequest(t, dev.curls[0])
		r.URL, _ = url.Parse(strings.Replace(r.URL.String(), dev.base, waitListening(t, p), 1))
		r.Header.Del("Authorization")
		res, _ := do(t, r)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		waitLog(t, p, regexp.MustCompile(fmt.Sprintf(`(?s)(?:"msg":"GenerateSSOToken".*){%d}`, before+1)))
		return strings.Count(p.logs(), `"msg":"GenerateSSOToken"`)
	}

	t.Run("the portal signs the user in: the SSO cookie", func(t *testing.T) {
		res, body := do(t, mustRequest(t, http.MethodGet, portal+"/"))
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), "the page holds the access token")
		require.Len(t, res.Cookies(), 1)
		c := res.Cookies()[0]
		assert.Equal(t, cookiesso.DefaultCookieName, c.Name)
		assert.Equal(t, strings.TrimPrefix(dev.cookie, cookiesso.DefaultCookieName+"="), c.Value)
		assert.True(t, c.HttpOnly)
		assert.False(t, c.Secure, "plain http on loopback")
		assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.Contains(t, string(body), `fetch(&#34;`+dev.base+`/v2/get_sso_token&#34;`)
		assert.Contains(t, string(body), `action="http://127.0.0.1:8081/sso"`)
		assert.Contains(t, string(body), forum+"/")

		res, body = do(t, mustRequest(t, http.MethodGet, forum+"/"))
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Empty(t, res.Cookies())
		assert.Contains(t, string(body), dev.base)
	})

	preflight := func(path, origin, headers string) *http.Response {
		r := mustRequest(t, http.MethodOptions, dev.base+path)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", http.MethodPost)
		r.Header.Set("Access-Control-Request-Headers", headers)
		res, _ := do(t, r)
		return res
	}
	for _, tt := range []struct {
		name, path, origin, headers, allowOrigin, credentials string
	}{
		{"GenerateSSOToken from the portal", "/v2/get_sso_token", portal, "authorization,content-type,x-api-version,x-lob-client-id", portal, ""},
		{"GenerateSSOToken from -cors-origin", "/v2/get_sso_token", "https://www.abc.example", "authorization,content-type,x-api-version,x-lob-client-id", "https://www.abc.example", ""},
		{"GenerateSSOToken from elsewhere", "/v2/get_sso_token", "http://localhost:1", "authorization,content-type,x-api-version,x-lob-client-id", "", ""},
		{"the cookie exchange from the forum", httpadapter.CookieSSOPath, forum, "content-type", forum, "true"},
		{"the sample's path from the forum", httpadapter.CookieSSOAliasPath, forum, "content-type", forum, "true"},
		{"the cookie exchange from the portal, which needs no cookie", httpadapter.CookieSSOPath, portal, "content-type", "", ""},
		{"the cookie exchange from -cors-origin, a token's level of trust", httpadapter.CookieSSOPath, "https://www.abc.example", "content-type", "", ""},
		{"the cookie exchange from elsewhere", httpadapter.CookieSSOPath, "http://localhost:1", "content-type", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := preflight(tt.path, tt.origin, tt.headers)
			assert.Equal(t, http.StatusNoContent, res.StatusCode)
			assert.Equal(t, tt.allowOrigin, res.Header.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, tt.credentials, res.Header.Get("Access-Control-Allow-Credentials"))
			assert.Contains(t, res.Header.Get("Vary"), "Origin")
		})
	}
	assert.Equal(t, 1, audited(srv), "no preflight is an audited call: the one record is the refused call's")

	t.Run("the cookie exchange refuses an Origin not on the list", func(t *testing.T) {
		for origin, status := range map[string]int{forum: http.StatusOK, "": http.StatusOK, portal: http.StatusForbidden, "http://localhost:1": http.StatusForbidden} {
			r := curlRequest(t, dev.curls[1])
			if origin != "" {
				r.Header.Set("Origin", origin)
			}
			res, body := do(t, r)
			assert.Equal(t, status, res.StatusCode, "Origin %q: %s", origin, body)
		}
	})

	t.Run("-demo=false serves no page", func(t *testing.T) {
		plain := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-log-format", "json", "-demo=false")
		readDevOutput(t, plain)
		audited(plain)
		assert.NotContains(t, plain.logs(), "demo pages")
	})
}

// The GenerateSSOToken document's sample response: its TokenRefNo and the
// header and payload of its TokenNo.
const (
	seedRefNo   = "173736XX8685878"
	seedHeader  = `{"alg":"HS256","typ":"JWT"}`
	seedPayload = `{"CIINo":"10001004","LOBId":"01","Functionality":"D","Date":"2025-01-20T08:49:46.756Z","iat":1737362986,"exp":1737366586}`
)

// assertSeedShaped compares a dev-mode answer with the document's sample:
// the same header, the same claim names in the same order with values of
// the same JSON types and formats, and a TokenRefNo of the same length
// whose first ten digits are the token's "iat".
func assertSeedShaped(t *testing.T, resp ssotoken.Response) {
	t.Helper()
	parts := strings.Split(resp.TokenNo, ".")
	require.Len(t, parts, 3)
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.JSONEq(t, seedHeader, string(header))
	assert.Equal(t, seedHeader, string(header), "the header's members in the sample's order")

	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	got, want := members(t, payload), members(t, []byte(seedPayload))
	require.Equal(t, names(want), names(got), "the sample's claims, in its order, and no other")
	for i, m := range want {
		assert.IsType(t, m.value, got[i].value, m.name)
	}
	date := got[3].value.(string)
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`, date, "Date as in the sample")
	iat, exp := got[4].value.(json.Number), got[5].value.(json.Number)
	assert.Regexp(t, `^\d{10}$`, string(iat))
	assert.Regexp(t, `^\d{10}$`, string(exp))
	i, _ := iat.Int64()
	e, _ := exp.Int64()
	assert.Equal(t, int64(3600), e-i, "an hour, as in the sample")
	assert.Equal(t, time.Unix(i, 0).UTC().Format("2006-01-02T15:04:05"), date[:19], "Date is the time of iat")

	assert.Len(t, resp.TokenRefNo, len(seedRefNo))
	assert.Regexp(t, `^\d{15}$`, resp.TokenRefNo)
	assert.Equal(t, string(iat), resp.TokenRefNo[:10], "TokenRefNo starts with the second of iat")
}

type member struct {
	name  string
	value any
}

// members returns the members of the JSON object b in their order, with
// numbers as json.Number.
func members(t *testing.T, b []byte) []member {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var out []member
	for dec.More() {
		name, err := dec.Token()
		require.NoError(t, err)
		var v any
		require.NoError(t, dec.Decode(&v))
		out = append(out, member{name: name.(string), value: v})
	}
	return out
}

func names(ms []member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.name
	}
	return out
}
