package cookiesso

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ssokit/ssokit/ssotoken"
)

// noLeaks checks, once t and its cleanups are done, that no goroutine it
// started is left (a blocked handler, a connection of the validator's
// client).
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// mainSite is a fake main site: it counts requests, records the last
// one's Cookie header and method, and answers with handler.
type mainSite struct {
	*httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	cookie string
	method string
}

func newMainSite(t *testing.T, handler http.HandlerFunc) *mainSite {
	t.Helper()
	s := &mainSite{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.cookie, s.method = r.Header.Get("Cookie"), r.Method
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *mainSite) last() (cookie, method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cookie, s.method
}

func answerJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}
}

func answerStatus(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"no session"}`)
	}
}

// testClock is a clock a test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newRemote(t *testing.T, rawURL string, mod func(*RemoteValidatorConfig)) *RemoteValidator {
	t.Helper()
	cfg := RemoteValidatorConfig{URL: rawURL, Now: clock(testNow)}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewRemoteValidator(cfg)
	require.NoError(t, err)
	return v
}

// sessionCookie is an opaque session id, as a main site would issue it.
const sessionCookie = "s3ss10n-Zq8xJ2vKpL9mN4wR7tY1uE6iO0aS5dF3gH"

func TestRemoteValidatorAnswers(t *testing.T) {
	noLeaks(t)
	exp := testNow.Add(10 * time.Minute).Unix()
	elsewhere := newMainSite(t, answerJSON(`{"username":"mallory","roles":["Use API"]}`))
	tests := []struct {
		name    string
		handler http.HandlerFunc
		kind    ssotoken.Kind // 0: accepted
		code    string
		cached  bool // the second Validate makes no request
		want    *ssotoken.Principal
	}{
		{name: "yes, with roles", handler: answerJSON(`{"username":"jdoe","roles":["Use API","Reader"]}`), cached: true,
			want: &ssotoken.Principal{Subject: "jdoe", Username: "jdoe", Groups: []string{"Use API", "Reader"}}},
		{name: "yes, sub only", handler: answerJSON(`{"sub":"u-42","roles":["USE_API"]}`), cached: true,
			want: &ssotoken.Principal{Subject: "u-42", Username: "u-42", Groups: []string{"USE_API"}}},
		{name: "yes, sub and username, exp and other members", handler: answerJSON(`{"sub":"u-42","username":"jdoe","roles":[],"exp":` + itoa(exp) + `,"email":"j@example.com","groups":{"a":1}}`), cached: true,
			want: &ssotoken.Principal{Subject: "u-42", Username: "jdoe", Groups: []string{}, ExpiresAt: time.Unix(exp, 0)}},
		{name: "yes, no roles, nulls", handler: answerJSON(`{"username":"jdoe","roles":null,"exp":null,"sub":null}`), cached: true,
			want: &ssotoken.Principal{Subject: "jdoe", Username: "jdoe"}},
		{name: "yes, but past exp", handler: answerJSON(`{"username":"jdoe","exp":` + itoa(testNow.Unix()) + `}`), kind: ssotoken.ErrUnauthorized, code: CodeCookieExpired, cached: true},
		{name: "no (401)", handler: answerStatus(http.StatusUnauthorized), kind: ssotoken.ErrUnauthorized, code: CodeCookieInvalid, cached: true},
		{name: "no (403)", handler: answerStatus(http.StatusForbidden), kind: ssotoken.ErrUnauthorized, code: CodeCookieInvalid, cached: true},
		{name: "500", handler: answerStatus(http.StatusInternalServerError), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "503", handler: answerStatus(http.StatusServiceUnavailable), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "404", handler: answerStatus(http.StatusNotFound), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "400", handler: answerStatus(http.StatusBadRequest), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "204", handler: answerStatus(http.StatusNoContent), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "302 redirect, not followed", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL, http.StatusFound)
		}, kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "307 redirect, not followed", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
		}, kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "garbage", handler: answerJSON(`<html>login</html>`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "empty body", handler: answerJSON(``), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "an array", handler: answerJSON(`[{"username":"jdoe"}]`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "trailing data", handler: answerJSON(`{"username":"jdoe"}{"username":"admin"}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "username a number", handler: answerJSON(`{"username":42}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "roles a string", handler: answerJSON(`{"username":"jdoe","roles":"Use API"}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "exp a string", handler: answerJSON(`{"username":"jdoe","exp":"` + itoa(exp) + `"}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "username twice", handler: answerJSON(`{"username":"guest","username":"admin"}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "ROLES beside roles", handler: answerJSON(`{"username":"jdoe","roles":[],"ROLES":["Use API"]}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "invalid UTF-8", handler: answerJSON("{\"username\":\"jd\xffoe\"}"), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "missing username", handler: answerJSON(`{"roles":["Use API"]}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "empty username", handler: answerJSON(`{"username":"","roles":["Use API"]}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "null username", handler: answerJSON(`{"username":null}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "empty object", handler: answerJSON(`{}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "oversize body, announced", handler: answerJSON(`{"username":"jdoe","pad":"` + strings.Repeat("x", 64<<10) + `"}`), kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "oversize body, chunked", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.(http.Flusher).Flush() // no Content-Length
			_, _ = io.WriteString(w, `{"username":"jdoe","pad":"`+strings.Repeat("x", 64<<10)+`"}`)
		}, kind: ssotoken.ErrUpstream, code: CodeMainSiteUnavailable},
		{name: "just under the cap", handler: answerJSON(`{"username":"jdoe","pad":"` + strings.Repeat("x", 64<<10-30) + `"}`), cached: true,
			want: &ssotoken.Principal{Subject: "jdoe", Username: "jdoe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := newMainSite(t, tt.handler)
			v := newRemote(t, site.URL+"/session", nil)
			before := elsewhere.hits.Load()

			p, err := v.Validate(context.Background(), sessionCookie)
			cookie, method := site.last()
			assert.Equal(t, DefaultCookieName+"="+sessionCookie, cookie)
			assert.Equal(t, http.MethodGet, method)
			assert.Equal(t, before, elsewhere.hits.Load(), "a redirect is never followed")
			if tt.kind == 0 {
				require.NoError(t, err)
				assert.Equal(t, tt.want, p)
			} else {
				require.Error(t, err)
				assert.Nil(t, p)
				assert.ErrorIs(t, err, tt.kind)
				assert.Equal(t, tt.code, ssotoken.CodeOf(err), "%v", err)
				assert.NotContains(t, err.Error(), sessionCookie)
				assert.NotContains(t, ssotoken.MessageOf(err), sessionCookie)
			}

			p2, err2 := v.Validate(context.Background(), sessionCookie)
			assert.Equal(t, p, p2)
			assert.Equal(t, ssotoken.CodeOf(err), ssotoken.CodeOf(err2))
			if tt.cached {
				assert.EqualValues(t, 1, site.hits.Load(), "the answer is cached")
				assert.Equal(t, 1, v.cache.len())
			} else {
				assert.EqualValues(t, 2, site.hits.Load(), "an upstream failure is not cached")
				assert.Zero(t, v.cache.len())
			}
		})
	}
}

func TestRemoteValidatorTimeouts(t *testing.T) {
	noLeaks(t)
	release := make(chan struct{})
	slow := newMainSite(t, func(w http.ResponseWriter, r *http.Request) {
		select { // until the test ends or the client goes away
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // before slow.Close, which waits for the handlers

	t.Run("past the validator's timeout", func(t *testing.T) {
		v := newRemote(t, slow.URL, func(c *RemoteValidatorConfig) { c.Timeout = 50 * time.Millisecond })
		_, err := v.Validate(context.Background(), sessionCookie)
		assert.ErrorIs(t, err, ssotoken.ErrTimeout)
		assert.Equal(t, ssotoken.CodeDeadlineExceeded, ssotoken.CodeOf(err))
		assert.NotContains(t, err.Error(), sessionCookie)
		assert.Zero(t, v.cache.len(), "a timeout is not cached")
	})
	t.Run("past the caller's deadline, well within the validator's", func(t *testing.T) {
		v := newRemote(t, slow.URL, func(c *RemoteValidatorConfig) { c.Timeout = time.Minute })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := v.Validate(ctx, sessionCookie)
		assert.Less(t, time.Since(start), 30*time.Second)
		assert.ErrorIs(t, err, ssotoken.ErrTimeout)
		assert.Equal(t, ssotoken.CodeDeadlineExceeded, ssotoken.CodeOf(err))
	})
	t.Run("the caller gone", func(t *testing.T) {
		v := newRemote(t, slow.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := v.Validate(ctx, sessionCookie)
		assert.ErrorIs(t, err, ssotoken.ErrTimeout)
		assert.Equal(t, ssotoken.CodeCanceled, ssotoken.CodeOf(err))
	})
	t.Run("the client's own timeout", func(t *testing.T) {
		v := newRemote(t, slow.URL, func(c *RemoteValidatorConfig) { c.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond} })
		_, err := v.Validate(context.Background(), sessionCookie)
		assert.ErrorIs(t, err, ssotoken.ErrTimeout)
		assert.NotContains(t, err.Error(), sessionCookie)
	})
}

func TestRemoteValidatorConnectionRefused(t *testing.T) {
	noLeaks(t)
	site := newMainSite(t, answerJSON(`{"username":"jdoe"}`))
	site.Close()
	v := newRemote(t, site.URL, nil)
	_, err := v.Validate(context.Background(), sessionCookie)
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)
	assert.Equal(t, CodeMainSiteUnavailable, ssotoken.CodeOf(err))
	assert.NotContains(t, err.Error(), sessionCookie)
	assert.Zero(t, v.cache.len())
}

func TestRemoteValidatorCache(t *testing.T) {
	noLeaks(t)
	// The fake knows two sessions; any other cookie is refused.
	site := newMainSite(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(DefaultCookieName)
		switch {
		case err != nil:
			w.WriteHeader(http.StatusBadRequest)
		case c.Value == "s-jdoe":
			answerJSON(`{"username":"jdoe","roles":["Use API"]}`)(w, r)
		case c.Value == "s-short":
			answerJSON(`{"username":"short","exp":`+itoa(testNow.Add(10*time.Second).Unix())+`}`)(w, r)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	ctx := context.Background()
	var clk testClock
	setup := func(t *testing.T, mod func(*RemoteValidatorConfig)) *RemoteValidator {
		site.hits.Store(0)
		clk.now = testNow
		return newRemote(t, site.URL, func(c *RemoteValidatorConfig) {
			c.Now = clk.Now
			if mod != nil {
				mod(c)
			}
		})
	}
	validate := func(t *testing.T, v *RemoteValidator, cookie string) string {
		t.Helper()
		p, err := v.Validate(ctx, cookie)
		if err != nil {
			assert.NotContains(t, err.Error(), cookie)
			return ssotoken.CodeOf(err)
		}
		return p.Subject
	}

	t.Run("positive hit, then expiry", func(t *testing.T) {
		v := setup(t, nil)
		assert.Equal(t, "jdoe", validate(t, v, "s-jdoe"))
		clk.Add(DefaultRemoteCacheTTL - time.Second)
		assert.Equal(t, "jdoe", validate(t, v, "s-jdoe"))
		assert.EqualValues(t, 1, site.hits.Load(), "within CacheTTL: no request")
		clk.Add(time.Second)
		assert.Equal(t, "jdoe", validate(t, v, "s-jdoe"))
		assert.EqualValues(t, 2, site.hits.Load(), "at CacheTTL: asked again")
	})
	t.Run("negative hit, then expiry", func(t *testing.T) {
		v := setup(t, nil)
		assert.Equal(t, CodeCookieInvalid, validate(t, v, "s-nobody"))
		clk.Add(DefaultRemoteNegativeCacheTTL - time.Second)
		assert.Equal(t, CodeCookieInvalid, validate(t, v, "s-nobody"))
		assert.EqualValues(t, 1, site.hits.Load(), "within NegativeCacheTTL: no request")
		clk.Add(time.Second)
		assert.Equal(t, CodeCookieInvalid, validate(t, v, "s-nobody"))
		assert.EqualValues(t, 2, site.hits.Load(), "at NegativeCacheTTL: asked again")
	})
	t.Run("never past the answer's exp", func(t *testing.T) {
		v := setup(t, nil)
		assert.Equal(t, "short", validate(t, v, "s-short"))
		clk.Add(9 * time.Second)
		assert.Equal(t, "short", validate(t, v, "s-short"))
		assert.EqualValues(t, 1, site.hits.Load())
		clk.Add(time.Second)
		assert.Equal(t, CodeCookieExpired, validate(t, v, "s-short"), "asked again at exp, which has passed")
		assert.EqualValues(t, 2, site.hits.Load())
	})
	t.Run("configured TTLs", func(t *testing.T) {
		v := setup(t, func(c *RemoteValidatorConfig) { c.CacheTTL, c.NegativeCacheTTL = time.Minute, time.Minute })
		validate(t, v, "s-jdoe")
		validate(t, v, "s-nobody")
		clk.Add(59 * time.Second)
		validate(t, v, "s-jdoe")
		validate(t, v, "s-nobody")
		assert.EqualValues(t, 2, site.hits.Load())
	})
	t.Run("caching off", func(t *testing.T) {
		v := setup(t, func(c *RemoteValidatorConfig) { c.CacheTTL, c.NegativeCacheTTL = -1, -1 })
		for range 3 {
			assert.Equal(t, "jdoe", validate(t, v, "s-jdoe"))
			assert.Equal(t, CodeCookieInvalid, validate(t, v, "s-nobody"))
		}
		assert.EqualValues(t, 6, site.hits.Load())
		assert.Zero(t, v.cache.len())
	})
	t.Run("eviction bound, oldest first", func(t *testing.T) {
		v := setup(t, func(c *RemoteValidatorConfig) { c.MaxCacheEntries = 3 })
		for i := range 10 {
			validate(t, v, fmt.Sprintf("s-%d", i))
			assert.LessOrEqual(t, v.cache.len(), 3)
		}
		assert.EqualValues(t, 10, site.hits.Load())
		validate(t, v, "s-9")
		validate(t, v, "s-7")
		assert.EqualValues(t, 10, site.hits.Load(), "the newest three are cached")
		validate(t, v, "s-0")
		assert.EqualValues(t, 11, site.hits.Load(), "the oldest was evicted")
	})
	t.Run("eviction bound, expired first", func(t *testing.T) {
		v := setup(t, func(c *RemoteValidatorConfig) { c.MaxCacheEntries = 3 })
		validate(t, v, "s-jdoe")   // positive, 30 s: the oldest
		validate(t, v, "s-nobody") // negative, 5 s
		validate(t, v, "s-short")  // positive, 10 s
		clk.Add(6 * time.Second)   // s-nobody has expired
		validate(t, v, "s-other")  // a fourth entry
		assert.Equal(t, 3, v.cache.len())
		assert.EqualValues(t, 4, site.hits.Load())
		validate(t, v, "s-jdoe")
		validate(t, v, "s-short")
		assert.EqualValues(t, 4, site.hits.Load(), "the oldest stayed: the expired entry went instead")
	})
	t.Run("the cached principal is the cache's own", func(t *testing.T) {
		v := setup(t, nil)
		p, err := v.Validate(ctx, "s-jdoe")
		require.NoError(t, err)
		p.Subject, p.Groups[0] = "admin", "Admin"
		p, err = v.Validate(ctx, "s-jdoe")
		require.NoError(t, err)
		assert.Equal(t, "jdoe", p.Subject)
		assert.Equal(t, []string{"Use API"}, p.Groups)
	})
	t.Run("concurrent", func(t *testing.T) {
		v := setup(t, func(c *RemoteValidatorConfig) { c.MaxCacheEntries = 8 })
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					cookie := fmt.Sprintf("s-%d", (g*7+i)%20)
					if i%3 == 0 {
						cookie = "s-jdoe"
					}
					_, err := v.Validate(ctx, cookie)
					if cookie == "s-jdoe" {
						assert.NoError(t, err)
					} else {
						assert.Equal(t, CodeCookieInvalid, ssotoken.CodeOf(err))
					}
				}
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, v.cache.len(), 8)
	})
}

// TestRemoteValidatorCacheKey: the cache holds digests, never the value.
func TestRemoteValidatorCacheKey(t *testing.T) {
	noLeaks(t)
	site := newMainSite(t, answerJSON(`{"username":"jdoe"}`))
	v := newRemote(t, site.URL, nil)
	_, err := v.Validate(context.Background(), sessionCookie)
	require.NoError(t, err)
	v.cache.mu.Lock()
	defer v.cache.mu.Unlock()
	for k, e := range v.cache.m {
		assert.NotContains(t, string(k[:]), sessionCookie[:8])
		assert.NotContains(t, fmt.Sprintf("%+v", e.answer.p), sessionCookie)
	}
}

func TestRemoteValidatorRequest(t *testing.T) {
	noLeaks(t)
	site := newMainSite(t, answerJSON(`{"username":"jdoe"}`))
	elsewhere := newMainSite(t, answerJSON(`{"username":"mallory"}`))

	t.Run("POST and a configured name", func(t *testing.T) {
		v := newRemote(t, site.URL, func(c *RemoteValidatorConfig) { c.Method, c.CookieName = http.MethodPost, "MainSiteSession" })
		_, err := v.Validate(context.Background(), sessionCookie)
		require.NoError(t, err)
		cookie, method := site.last()
		assert.Equal(t, "MainSiteSession="+sessionCookie, cookie)
		assert.Equal(t, http.MethodPost, method)
	})
	t.Run("a caller's client still follows no redirect and keeps no cookie", func(t *testing.T) {
		redirect := newMainSite(t, func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "other", Value: "set-by-main-site"})
			http.Redirect(w, r, elsewhere.URL, http.StatusFound)
		})
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		hc := &http.Client{Jar: jar}
		v := newRemote(t, redirect.URL, func(c *RemoteValidatorConfig) { c.HTTPClient = hc; c.CacheTTL = -1 })
		_, err = v.Validate(context.Background(), sessionCookie)
		assert.Equal(t, CodeMainSiteUnavailable, ssotoken.CodeOf(err))
		_, _ = v.Validate(context.Background(), "another")
		cookie, _ := redirect.last()
		assert.Equal(t, DefaultCookieName+"=another", cookie, "no jar cookie added")
		assert.Zero(t, elsewhere.hits.Load())
		assert.Nil(t, hc.CheckRedirect, "the caller's client is not changed")
		assert.Empty(t, jar.Cookies(mustURL(t, redirect.URL)))
	})
	t.Run("values refused before any request", func(t *testing.T) {
		v := newRemote(t, site.URL, nil)
		before := site.hits.Load()
		for value, code := range map[string]string{"": CodeCookieMissing, "a;b": CodeCookieMalformed, "a\r\nX-Admin: 1": CodeCookieMalformed, "a b": CodeCookieMalformed, "é": CodeCookieMalformed} {
			_, err := v.Validate(context.Background(), value)
			assert.Equal(t, code, ssotoken.CodeOf(err), "%q", value)
			assert.ErrorIs(t, err, ssotoken.ErrBadRequest)
		}
		assert.Equal(t, before, site.hits.Load())
	})
}

func TestNewRemoteValidatorErrors(t *testing.T) {
	for name, cfg := range map[string]RemoteValidatorConfig{
		"no URL":             {},
		"relative URL":       {URL: "/session"},
		"another scheme":     {URL: "ftp://main.example/session"},
		"no host":            {URL: "https:///session"},
		"not a URL":          {URL: "http://[::1"},
		"PUT":                {URL: "https://main.example/session", Method: http.MethodPut},
		"bad cookie name":    {URL: "https://main.example/session", CookieName: "a=b"},
		"negative timeout":   {URL: "https://main.example/session", Timeout: -1},
		"negative max bytes": {URL: "https://main.example/session", MaxResponseBytes: -1},
		"negative entries":   {URL: "https://main.example/session", MaxCacheEntries: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewRemoteValidator(cfg)
			assert.Error(t, err)
		})
	}
}

// TestExchangeOverRemoteValidator: the exchange's JWT carries what the main
// site said, and never outlives its "exp".
func TestExchangeOverRemoteValidator(t *testing.T) {
	noLeaks(t)
	exp := testNow.Add(20 * time.Minute)
	site := newMainSite(t, answerJSON(`{"sub":"u-42","username":"jdoe","roles":["USE_API"],"exp":`+itoa(exp.Unix())+`}`))
	v := newRemote(t, site.URL, nil)
	ex, ring := newExchanger(t, func(c *Config) { c.Validator = v })
	tok, err := ex.Exchange(context.Background(), sessionCookie)
	require.NoError(t, err)
	assert.Equal(t, exp.UTC(), tok.ExpiresAt)
	p, err := newAuth(t, ring, nil).Authenticate(context.Background(), tok.JWT)
	require.NoError(t, err)
	assert.Equal(t, "u-42", p.Subject)
	assert.Equal(t, []string{"USE_API"}, p.Groups)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// TestRemoteValidatorCoalesces: callers that present the same uncached
// cookie while the main site is being asked about it wait for that one
// answer instead of asking again; if the asking caller goes away first,
// a waiting one asks on its own behalf.
func TestRemoteValidatorCoalesces(t *testing.T) {
	noLeaks(t)
	release := make(chan struct{})
	site := newMainSite(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"username":"jdoe","roles":["Use API"]}`)
	})
	v := newRemote(t, site.URL, nil)

	const callers = 20
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			p, err := v.Validate(context.Background(), sessionCookie)
			if assert.NoError(t, err) {
				assert.Equal(t, "jdoe", p.Subject)
			}
		})
	}
	require.Eventually(t, func() bool { return site.hits.Load() == 1 }, 5*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	assert.EqualValues(t, 1, site.hits.Load(), "one question for %d callers", callers)

	t.Run("the asking caller goes away", func(t *testing.T) {
		noLeaks(t)
		hold := make(chan struct{})
		site := newMainSite(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"username":"jdoe"}`)
		})
		v := newRemote(t, site.URL, nil)
		first, cancel := context.WithCancel(context.Background())
		firstDone := make(chan error, 1)
		go func() { _, err := v.Validate(first, sessionCookie); firstDone <- err }()
		require.Eventually(t, func() bool { return site.hits.Load() == 1 }, 5*time.Second, time.Millisecond)
		secondDone := make(chan error, 1)
		go func() { _, err := v.Validate(context.Background(), sessionCookie); secondDone <- err }()
		cancel()
		assert.Equal(t, ssotoken.CodeCanceled, ssotoken.CodeOf(<-firstDone), "the first caller's own error")
		close(hold) // the second caller's own question is answered at once
		assert.NoError(t, <-secondDone, "the waiting caller asked on its own behalf")
		assert.EqualValues(t, 2, site.hits.Load())
	})
}
