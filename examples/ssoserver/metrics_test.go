package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/httpadapter"
)

// metricsRE matches ssoserver's "metrics endpoint" log line, in text or
// JSON format.
var metricsRE = regexp.MustCompile(`metrics endpoint"?(?:,"| )addr"?[=:]"?(127\.0\.0\.1:\d+)`)

// scrape fetches GET /metrics of the metrics listener at addr.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	res, body := do(t, mustRequest(t, http.MethodGet, "http://"+addr+"/metrics"))
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	assert.Contains(t, res.Header.Get("Content-Type"), "text/plain")
	return string(body)
}

var sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// sample returns the value of the series name of the text exposition whose
// labels are exactly labels, and whether there is one.
func sample(text, name string, labels map[string]string) (float64, bool) {
	for line := range strings.Lines(text) {
		m := sampleRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || m[1] != name {
			continue
		}
		got := map[string]string{}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			got[l[1]] = l[2]
		}
		if fmt.Sprint(got) != fmt.Sprint(labels) {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		return v, err == nil
	}
	return 0, false
}

// TestMetricsEndToEnd drives every endpoint of a dev-mode server through
// issued, refused and exchanged calls and finds each in /metrics.
func TestMetricsEndToEnd(t *testing.T) {
	ssoserver, _ := binaries(t)
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0", "-log-format", "json",
		"-demo=false", "-metrics-addr", "127.0.0.1:0")
	dev := readDevOutput(t, srv)
	maddr := waitLog(t, srv, metricsRE)[1]
	assert.NotEqual(t, strings.TrimPrefix(dev.base, "http://"), maddr, "a listener of its own")

	gen := func(mod func(*http.Request)) int {
		r := curlRequest(t, dev.curls[0])
		mod(r)
		res, _ := do(t, r)
		return res.StatusCode
	}
	same := func(*http.Request) {}
	assert.Equal(t, 200, gen(same))
	assert.Equal(t, 200, gen(same), "the same access token again: a cache hit")
	assert.Equal(t, 401, gen(func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+dev.accessToken[:len(dev.accessToken)-4]+"AAAA")
	}))
	assert.Equal(t, 403, gen(func(r *http.Request) { r.Header.Set("x-lob-client-id", "stranger") }))
	assert.Equal(t, 400, gen(func(r *http.Request) { r.Header.Del("x-api-version") }))

	// The cookie exchange: 200 with the cookie, 400 without.
	res, body := do(t, curlRequest(t, dev.curls[1]))
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	noCookie := curlRequest(t, dev.curls[1])
	noCookie.Header.Del("Cookie")
	res, _ = do(t, noCookie)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	// user.json without a JWT: 401.
	res, _ = do(t, mustRequest(t, http.MethodGet, dev.base+userJSONPath))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	text := scrape(t, maddr)
	for _, tt := range []struct {
		endpoint, outcome, code string
		want                    float64
	}{
		{httpadapter.EndpointGenerateSSOToken, "issued", "none", 2},
		{httpadapter.EndpointGenerateSSOToken, "refused", "bad_signature", 1},
		{httpadapter.EndpointGenerateSSOToken, "refused", "unknown_client", 1},
		{httpadapter.EndpointGenerateSSOToken, "refused", "missing_api_version", 1},
		{httpadapter.EndpointCookieExchange, "exchanged", "none", 1},
		{httpadapter.EndpointCookieExchange, "refused", "cookie_missing", 1},
		{httpadapter.EndpointBearer, "refused", "missing_authorization", 1},
	} {
		got, ok := sample(text, "ssokit_requests_total", map[string]string{"endpoint": tt.endpoint, "outcome": tt.outcome, "code": tt.code})
		if assert.True(t, ok, "ssokit_requests_total %+v in\n%s", tt, text) {
			assert.Equal(t, tt.want, got, "ssokit_requests_total %+v", tt)
		}
	}
	for endpoint, want := range map[string]float64{httpadapter.EndpointGenerateSSOToken: 5, httpadapter.EndpointCookieExchange: 2, httpadapter.EndpointBearer: 1} {
		got, ok := sample(text, "ssokit_request_duration_seconds_count", map[string]string{"endpoint": endpoint})
		assert.True(t, ok, endpoint)
		assert.Equal(t, want, got, "ssokit_request_duration_seconds_count %s", endpoint)
		got, ok = sample(text, "ssokit_requests_in_flight", map[string]string{"endpoint": endpoint})
		assert.True(t, ok, endpoint)
		assert.Zero(t, got, "nothing in flight between calls")
	}
	hits, ok := sample(text, "ssokit_cognito_token_cache_hits_total", map[string]string{})
	assert.True(t, ok)
	assert.GreaterOrEqual(t, hits, 1.0)
	misses, ok := sample(text, "ssokit_cognito_token_cache_misses_total", map[string]string{})
	assert.True(t, ok)
	assert.GreaterOrEqual(t, misses, 1.0)
	issuer := regexp.MustCompile(`ssokit_cognito_jwks_keys\{issuer="([^"]+)"\} `).FindStringSubmatch(text)
	if assert.NotNil(t, issuer, "the dev pool's keys:\n%s", text) {
		keys, _ := sample(text, "ssokit_cognito_jwks_keys", map[string]string{"issuer": issuer[1]})
		assert.Equal(t, 1.0, keys)
		ready, _ := sample(text, "ssokit_cognito_jwks_ready", map[string]string{"issuer": issuer[1]})
		assert.Equal(t, 1.0, ready)
	}
	for _, leak := range []string{"stranger", "dev-user", dev.accessToken} {
		assert.NotContains(t, text, leak, "no client id from the wire, subject or token in a label")
	}

	// Only /metrics; the API's routes are not there, nor /metrics on the API.
	res, _ = do(t, mustRequest(t, http.MethodGet, "http://"+maddr+"/healthz"))
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = do(t, mustRequest(t, http.MethodGet, dev.base+"/metrics"))
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	// One audit record per call of every endpoint.
	logs := srv.logs()
	assert.Equal(t, 5, strings.Count(logs, `"msg":"GenerateSSOToken"`))
	assert.Equal(t, 2, strings.Count(logs, `"msg":"CookieExchange"`))
	assert.Equal(t, 1, strings.Count(logs, `"msg":"RequireBearer"`))
}

// TestMetricsOffByDefault: without -metrics-addr no listener is opened
// for them.
func TestMetricsOffByDefault(t *testing.T) {
	o, err := parseOptions([]string{"-addr", "127.0.0.1:0", "-demo=false"}, env(nil), io.Discard)
	require.NoError(t, err)
	lns, err := listen(o)
	require.NoError(t, err)
	defer lns.close()
	assert.Nil(t, lns.metrics)

	ssoserver, _ := binaries(t)
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0", "-demo=false")
	readDevOutput(t, srv)
	assert.NotContains(t, srv.logs(), "metrics endpoint")
	if n, ok := listeningSockets(srv.cmd.Process.Pid); ok {
		assert.Equal(t, 1, n, "the API's listener only")
	}

	on := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0", "-demo=false", "-metrics-addr", "127.0.0.1:0")
	readDevOutput(t, on)
	waitLog(t, on, metricsRE)
	if n, ok := listeningSockets(on.cmd.Process.Pid); ok {
		assert.Equal(t, 2, n, "the API's listener and the metrics'")
	}
}

// listeningSockets counts the listening TCP sockets of process pid, from
// /proc (Linux); ok is false where it cannot tell.
func listeningSockets(pid int) (n int, ok bool) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, false
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, found := strings.CutPrefix(link, "socket:["); err == nil && found {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) > 9 && f[3] == "0A" && inodes[f[9]] { // 0A: LISTEN
				n++
			}
		}
	}
	return n, true
}

// TestReadinessEndToEnd: a real-mode server whose JWKS answers 503 is
// live but not ready, and says why; once the JWKS answers it is ready.
func TestReadinessEndToEnd(t *testing.T) {
	pool := newFakePool(t)
	pool.Down()
	ssoserver, _ := binaries(t)
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + e2eSecret}, "-addr", "127.0.0.1:0", "-log-format", "json",
		"-cognito-issuer", pool.Issuer(), "-cognito-jwks-url", pool.JWKSURL(), "-cognito-client-id", "app", "-ciino-claim", "custom:ciino",
		"-lob-client", "cid:01", "-allow-cidr", "10.0.0.0/8", "-metrics-addr", "127.0.0.1:0")
	base := waitListening(t, srv)
	maddr := waitLog(t, srv, metricsRE)[1]

	readyz := func() (int, string) {
		res, body := do(t, mustRequest(t, http.MethodGet, base+"/readyz"))
		return res.StatusCode, string(body)
	}
	var status int
	var body string
	eventually(t, 10*time.Second, func() bool {
		status, body = readyz()
		return strings.Contains(body, "HTTP 503")
	})
	assert.Equal(t, http.StatusServiceUnavailable, status, "not ready, although outside -allow-cidr: not behind the guard")
	assert.Contains(t, body, pool.Issuer(), "names the issuer")
	assert.Contains(t, body, "HTTP 503", "and what its last fetch found")
	res, _ := do(t, mustRequest(t, http.MethodGet, base+"/healthz"))
	assert.Equal(t, http.StatusOK, res.StatusCode, "live all the same")
	text := scrape(t, maddr)
	failed, _ := sample(text, "ssokit_cognito_jwks_fetches_total", map[string]string{"issuer": pool.Issuer(), "result": "HTTP 503"})
	assert.GreaterOrEqual(t, failed, 1.0, "the failed fetch is counted:\n%s", text)
	ready, _ := sample(text, "ssokit_cognito_jwks_ready", map[string]string{"issuer": pool.Issuer()})
	assert.Zero(t, ready)

	pool.Up()
	ok := eventually(t, 30*time.Second, func() bool {
		status, body = readyz()
		return status == http.StatusOK
	})
	require.True(t, ok, "ready within 30 s of the JWKS answering: %d %s", status, body)
	assert.Equal(t, "ready\n", body)
	text = scrape(t, maddr)
	good, _ := sample(text, "ssokit_cognito_jwks_fetches_total", map[string]string{"issuer": pool.Issuer(), "result": "ok"})
	assert.GreaterOrEqual(t, good, 1.0, "the good fetch is counted")
	keys, _ := sample(text, "ssokit_cognito_jwks_keys", map[string]string{"issuer": pool.Issuer()})
	assert.Equal(t, 1.0, keys)
	last, ok := sample(text, "ssokit_cognito_jwks_last_success_timestamp_seconds", map[string]string{"issuer": pool.Issuer()})
	assert.True(t, ok)
	assert.InDelta(t, float64(time.Now().Unix()), last, 60)
}
