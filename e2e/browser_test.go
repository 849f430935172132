package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromePath returns the Chromium to drive, or skips the test.
func chromePath(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: builds the example programs and starts Chromium (run without -short)")
	}
	if p := os.Getenv("SSOKIT_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found: install it (Debian: apt-get install chromium) or set SSOKIT_CHROME=/path/to/chrome; .ci/run does the first")
	return ""
}

// browser starts a headless Chromium with an empty profile and returns a
// context for its first tab.
func browser(t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		// CI runs as root, where Chromium's sandbox cannot start; the
		// browser opens only the test's own pages on loopback.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1100, 900),
		// Nothing but loopback: no QUIC, no component or variation updates.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx), "starting Chromium at %s", chrome) // no timeout: it binds the browser's life
	return ctx
}

// screenshots saves a PNG of each step.
type screenshots struct {
	dir string
	n   int
}

func newScreenshots(t *testing.T) *screenshots {
	t.Helper()
	dir := os.Getenv("SSOKIT_SCREENSHOTS")
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "ssokit-e2e-screenshots-")
	} else {
		err = os.MkdirAll(dir, 0o755)
	}
	require.NoError(t, err)
	t.Logf("screenshots of every step: %s", dir)
	return &screenshots{dir: dir}
}

func (s *screenshots) take(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(step(t, ctx), chromedp.FullScreenshot(100))
	require.NoError(t, err)
	s.n++
	require.NoError(t, os.WriteFile(filepath.Join(s.dir, fmt.Sprintf("%02d-%s.png", s.n, name)), png, 0o644))
}

// step bounds one browser action; the browser itself lives on.
func step(t *testing.T, ctx context.Context) context.Context {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor evaluates the JavaScript expression until it is true, across
// navigations (an evaluation during one fails and is retried).
func waitFor(t *testing.T, tab context.Context, expr string) {
	t.Helper()
	ctx := step(t, tab)
	var last error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			loc, _ := chromedp.Run(step(t, tab), chromedp.Location())
			t.Fatalf("%s never became true (last error %v, at %s)", expr, last, loc)
		case <-time.After(50 * time.Millisecond): // polling the page, not waiting out a timer
		}
	}
}

func text(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(step(t, ctx), chromedp.Text(chromedp.CSS(selector)))
	require.NoError(t, err)
	return s
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(step(t, ctx), actions...))
}

var (
	lobListening = regexp.MustCompile(`lobapp listening"?[ ,]"?url"?[=:]"?(http://127\.0\.0\.1:\d+)`)
	apiLine      = regexp.MustCompile(`dev mode on (http://127\.0\.0\.1:\d+):`)
	portalLine   = regexp.MustCompile(`^# (http://127\.0\.0\.1:\d+)/$`)
	forumLog     = regexp.MustCompile(`"forum":"(http://127\.0\.0\.1:\d+)/"`)
	accessLine   = regexp.MustCompile(`^TOKEN='([^']+)'$`)
	cookieLine   = regexp.MustCompile(`^COOKIE='\w+=([^']+)'$`)
)

const secret = "the browser test's SSO secret, 32+ bytes"

// TestBrowserJourneys runs both journeys of the API documents in Chromium
// against the example programs, as a newcomer would after the README's
// first command and the lobapp line it prints.
func TestBrowserJourneys(t *testing.T) {
	chrome := chromePath(t)
	ssoserver, lobapp := programs(t)
	shots := newScreenshots(t)

	lob := start(t, lobapp, []string{"SSO_SECRET=" + secret}, "-addr", "127.0.0.1:0")
	lobURL := lob.waitLog(t, lobListening)[1]
	srv := start(t, ssoserver, []string{"SSO_SECRET=" + secret},
		"-addr", "127.0.0.1:0", "-log-format", "json", "-lob-url", lobURL+"/sso")
	api := srv.waitLine(t, apiLine)[1]
	accessToken := srv.waitLine(t, accessLine)[1]
	cookie := srv.waitLine(t, cookieLine)[1]
	portal := srv.waitLine(t, portalLine)[1]
	forum := srv.waitLog(t, forumLog)[1]
	issued := func() int { return strings.Count(srv.logs(), `"outcome":"issued"`) }
	// settled waits until the log holds n audit records of GenerateSSOToken
	// calls (it arrives through a pipe, after the answer).
	settled := func(n int) {
		t.Helper()
		srv.waitLog(t, regexp.MustCompile(fmt.Sprintf(`(?s)(?:"msg":"GenerateSSOToken".*){%d}`, n)))
	}
	records := func() int { return strings.Count(srv.logs(), `"msg":"GenerateSSOToken"`) }

	ctx := browser(t, chrome)

	t.Run("the forum without the SSO cookie shows the 400", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(forum+"/"), chromedp.Click(chromedp.ID("signin")))
		waitFor(t, ctx, `!document.getElementById("result").textContent.startsWith("Exchanging")`)
		assert.Equal(t, "400 cookie_missing: no SSO cookie was sent", text(t, ctx, "#result"))
		shots.take(t, ctx, "forum-no-cookie")
	})

	t.Run("the fetch sample from the portal's origin", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(portal+"/"))
		sample := text(t, ctx, "#sample")
		for _, want := range []string{`"x-api-version": "1.0.0"`, `"x-lob-client-id": "1RrLMyLrZGA="`,
			`"Content-Type": "application/json"`, `Authorization: accessToken`,
			`CIINo: "10001XXX"`, `LOBId: "XX"`, `Functionality: "D"`} {
			assert.Contains(t, sample, want, "the document's sample, as written but for the URL and the token")
		}
		shots.take(t, ctx, "portal")

		before := issued()
		got, err := chromedp.Run(step(t, ctx), chromedp.Evaluate[struct {
			Status, ReturnCode     int
			ReturnMessage, TokenNo string
		}](`generateSSOToken().then(async r => ({Status: r.status, ...(await r.json())}))`, chromedp.EvalAwaitPromise))
		require.NoError(t, err)
		assert.Equal(t, 200, got.Status)
		assert.Equal(t, 1, got.ReturnCode)
		assert.Equal(t, "Token Generated successfully", got.ReturnMessage)
		assert.Equal(t, 2, strings.Count(got.TokenNo, "."))
		settled(records())
		assert.Equal(t, before+1, issued())
	})

	t.Run("portal to LOB: welcome, then the same TokenNo is refused", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(portal+"/"), chromedp.Click(chromedp.ID("continue")))
		waitFor(t, ctx, fmt.Sprintf(`location.href === %q && document.getElementById("welcome") !== null`, lobURL+"/"))
		assert.Regexp(t, `^Welcome, CIINo 10001XXX: you arrived at LOB XX for functionality D`, text(t, ctx, "#welcome"))
		shots.take(t, ctx, "lob-welcome")

		// Back at the portal, hand the same TokenNo over again.
		do(t, ctx, chromedp.Navigate(portal+"/"))
		waitFor(t, ctx, `!document.getElementById("again").hidden`)
		do(t, ctx, chromedp.Click(chromedp.ID("replay")))
		waitFor(t, ctx, fmt.Sprintf(`location.href === %q && document.getElementById("refusal") !== null`, lobURL+"/sso"))
		assert.Equal(t, "token_replayed", text(t, ctx, "#code"))
		assert.Contains(t, text(t, ctx, "#refusal"), "This TokenNo was already used")
		shots.take(t, ctx, "lob-replayed")
	})

	t.Run("the forum with the SSO cookie the portal set", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(forum+"/"), chromedp.Click(chromedp.ID("signin")))
		waitFor(t, ctx, `!document.getElementById("result").textContent.startsWith("Exchanging")`)
		assert.Regexp(t, `^Signed in as dev-user \(roles: Use API\)`, text(t, ctx, "#result"))
		shots.take(t, ctx, "forum-signed-in")
	})

	t.Run("the fetch sample from an origin not on the list is blocked", func(t *testing.T) {
		// The portal's own page, served from another origin (and another
		// site): http://localhost:PORT.
		page := httpGet(t, portal+"/")
		other := serve(t, page)
		before, n := issued(), records()

		do(t, ctx, chromedp.Navigate(other))
		_, err := chromedp.Run(step(t, ctx), chromedp.Evaluate[int](`generateSSOToken().then(r => r.status)`, chromedp.EvalAwaitPromise))
		var exc *chromedp.ExceptionError
		require.ErrorAs(t, err, &exc)
		assert.Contains(t, err.Error(), "Failed to fetch")

		do(t, ctx, chromedp.Click(chromedp.ID("continue")))
		waitFor(t, ctx, `document.getElementById("result").textContent.startsWith("TypeError")`)
		assert.Equal(t, "TypeError: Failed to fetch", text(t, ctx, "#result"))
		shots.take(t, ctx, "other-origin-blocked")

		// A call from Go, without a token, is refused and audited: once its
		// record is in the log, any record of the browser's would be too.
		res, err := http.Post(api+"/v2/get_sso_token", "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "no x-api-version")
		settled(n + 1)
		assert.Equal(t, n+1, records(), "the preflight failed, so the browser's call never reached the handler")
		assert.Equal(t, before, issued())
	})

	for _, secret := range []string{accessToken, cookie, secret} {
		assert.NotContains(t, srv.logs(), secret, "a credential in ssoserver's log")
		assert.NotContains(t, lob.logs(), secret, "a credential in lobapp's log")
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	require.NoError(t, err)
	return b
}

// serve serves page on a loopback port and returns its URL on localhost: an
// origin that no ssoserver allows.
func serve(t *testing.T, page []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return "http://localhost:" + port + "/"
}
