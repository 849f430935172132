package cookiesso

import (
	"cmp"
	"container/heap"
	"container/list"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/limit"
	"github.com/ssokit/ssokit/ssotoken"
)

// Defaults of a RemoteValidator.
const (
	DefaultRemoteTimeout          = 5 * time.Second
	DefaultRemoteMaxResponseBytes = 64 << 10
	DefaultRemoteCacheTTL         = 30 * time.Second
	DefaultRemoteNegativeCacheTTL = 5 * time.Second
	DefaultRemoteMaxCacheEntries  = 10_000
)

// CodeMainSiteUnavailable is the code of a RemoteValidator's failure to get
// an answer from the main site: ErrUpstream (502). The cookie is neither
// accepted nor refused; nothing is cached.
const CodeMainSiteUnavailable = "main_site_unavailable"

// RemoteValidatorConfig configures NewRemoteValidator. URL is required.
type RemoteValidatorConfig struct {
	// URL is the main site's endpoint that tells who a session cookie
	// belongs to: an http or https URL (https unless the main site is on
	// the same host or network, since the cookie travels to it).
	// Required.
	URL string
	// Method is GET or POST (without a body). Empty means GET.
	Method string
	// CookieName is the name the cookie is sent under, as
	// "Cookie: <CookieName>=<value>". Empty means DefaultCookieName.
	CookieName string
	// HTTPClient sends the requests. Nil means a client with Timeout. The
	// validator uses a copy whose responses are capped at
	// MaxResponseBytes, that follows no redirect (a redirect could carry
	// the cookie elsewhere; it is an upstream failure) and that has no
	// cookie jar (the main site's Set-Cookie never reaches another
	// user's request).
	HTTPClient *http.Client
	// Timeout bounds each request to the main site, within the caller's
	// own deadline. Zero means DefaultRemoteTimeout (5 s).
	Timeout time.Duration
	// MaxResponseBytes caps the answer's body. Zero means
	// DefaultRemoteMaxResponseBytes (64 KiB).
	MaxResponseBytes int64
	// CacheTTL is how long a user the main site named is remembered, and
	// never past the answer's own "exp". Zero means DefaultRemoteCacheTTL
	// (30 s); a negative value caches no positive answer.
	CacheTTL time.Duration
	// NegativeCacheTTL is how long a refusal (401 or 403) is remembered.
	// Zero means DefaultRemoteNegativeCacheTTL (5 s); a negative value
	// caches no refusal.
	NegativeCacheTTL time.Duration
	// MaxCacheEntries bounds the cache, positive and negative answers
	// together; when it is full, expired entries go first, then the
	// oldest. Zero means DefaultRemoteMaxCacheEntries (10,000).
	MaxCacheEntries int
	// Now is the clock of the cache and of "exp"; nil means time.Now.
	Now func() time.Time
}

// RemoteValidator is a Validator for cookies that only the main site can
// read, such as an opaque session id: it asks the main site, as the
// forward-auth pattern of oauth2-proxy and Pomerium does. It is safe for
// concurrent use.
//
// The request is the configured method on the configured URL, with the
// headers "Cookie: <CookieName>=<value>" and "Accept: application/json".
// The main site answers:
//
//   - 200 with a JSON object {"username": "jdoe", "roles": ["Use API"]}:
//     "username" (or "sub", the stable id, or both) names the user;
//     "roles" (an array of strings, optional) becomes Principal.Groups;
//     "exp" (optional, seconds since the epoch) is when the session
//     ends. Other members are ignored; null counts as absent. The object
//     follows the module's JSON policy (no member twice, no case variant
//     of these names such as "Username"). A 200 that names no user is an
//     upstream failure; one whose "exp" has passed is ErrCookieExpired.
//   - 401 or 403: the cookie is not (or no longer) a session; Validate
//     returns ErrUnauthorized with CodeCookieInvalid.
//   - anything else, a redirect included: Validate returns ErrUpstream
//     with CodeMainSiteUnavailable, as it does when the main site cannot
//     be reached or its answer is not the JSON above or over
//     MaxResponseBytes. Past the deadline it returns ErrTimeout.
//
// Answers of 200 (for CacheTTL, never past "exp") and of 401 and 403 (for
// NegativeCacheTTL) are cached under the SHA-256 digest of the cookie's
// value; upstream failures are not. Callers that present a cookie the main
// site is being asked about wait for that answer instead of asking again.
// The value itself is never kept, logged or put in an error.
type RemoteValidator struct {
	url, method, name string
	hc                *http.Client
	timeout           time.Duration
	ttl, negTTL       time.Duration
	now               func() time.Time
	cache             *answerCache

	mu      sync.Mutex
	flights map[[sha256.Size]byte]*flight // the main site asked now, by cookie digest
}

// flight is one question to the main site that every caller who presents
// the same cookie meanwhile waits on.
type flight struct {
	done       chan struct{} // closed when p and err are set
	p          *ssotoken.Principal
	err        error
	callerGone bool // the asking caller's own context ended: its error is not the main site's answer
}

var _ Validator = (*RemoteValidator)(nil)

// NewRemoteValidator returns a RemoteValidator for cfg, or an error if cfg
// is not usable.
func NewRemoteValidator(cfg RemoteValidatorConfig) (*RemoteValidator, error) {
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, errors.New("cookiesso: RemoteValidatorConfig.URL must be an http or https URL")
	case cfg.Method != "" && cfg.Method != http.MethodGet && cfg.Method != http.MethodPost:
		return nil, errors.New("cookiesso: RemoteValidatorConfig.Method must be GET or POST")
	case cfg.CookieName != "" && !validCookieName(cfg.CookieName):
		return nil, errors.New("cookiesso: RemoteValidatorConfig.CookieName is not a cookie name")
	case cfg.Timeout < 0 || cfg.MaxResponseBytes < 0 || cfg.MaxCacheEntries < 0:
		return nil, errors.New("cookiesso: RemoteValidatorConfig.Timeout, MaxResponseBytes and MaxCacheEntries must not be negative")
	}
	timeout := cmp.Or(cfg.Timeout, DefaultRemoteTimeout)
	hc := limit.Client(cfg.HTTPClient, timeout, cmp.Or(cfg.MaxResponseBytes, DefaultRemoteMaxResponseBytes))
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Jar = nil
	v := &RemoteValidator{
		url:     cfg.URL,
		method:  cmp.Or(cfg.Method, http.MethodGet),
		name:    cmp.Or(cfg.CookieName, DefaultCookieName),
		hc:      hc,
		timeout: timeout,
		ttl:     cmp.Or(cfg.CacheTTL, DefaultRemoteCacheTTL),
		negTTL:  cmp.Or(cfg.NegativeCacheTTL, DefaultRemoteNegativeCacheTTL),
		now:     cfg.Now,
		cache:   newAnswerCache(cmp.Or(cfg.MaxCacheEntries, DefaultRemoteMaxCacheEntries)),
		flights: map[[sha256.Size]byte]*flight{},
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

var errMainSiteRefused = cookieUnauthorized(CodeCookieInvalid, "the main site does not accept the SSO cookie")

func mainSiteError(msg string, cause error) *ssotoken.Error {
	return ssotoken.NewError(ssotoken.ErrUpstream, CodeMainSiteUnavailable, msg, cause)
}

// Validate implements Validator: a cached answer if there is one, else the
// main site's (see RemoteValidator). An empty value is ErrCookieMissing,
// one with characters RFC 6265 does not allow ErrCookieMalformed.
func (v *RemoteValidator) Validate(ctx context.Context, value string) (*ssotoken.Principal, error) {
	switch {
	case value == "":
		return nil, ErrCookieMissing
	case !validCookieValue(value):
		return nil, ErrCookieMalformed
	}
	key := sha256.Sum256([]byte(value))
	for {
		if a, ok := v.cache.get(key, v.now()); ok {
			return clonePrincipal(a.p), a.err
		}
		v.mu.Lock()
		f, asking := v.flights[key]
		if !asking {
			f = &flight{done: make(chan struct{})}
			v.flights[key] = f
		}
		v.mu.Unlock()
		if !asking {
			return v.askFor(ctx, key, value, f)
		}
		// The main site is being asked about this cookie: wait for its
		// answer rather than ask again.
		select {
		case <-f.done:
			if !f.callerGone {
				return clonePrincipal(f.p), f.err
			}
			// The asking caller went away first; ask on this one's behalf.
		case <-ctx.Done():
			return nil, ssotoken.Wrap(ctx.Err())
		}
	}
}

// askFor asks the main site about the cookie of digest key for the callers
// waiting on f, caches the answer, and ends f.
func (v *RemoteValidator) askFor(ctx context.Context, key [sha256.Size]byte, value string, f *flight) (*ssotoken.Principal, error) {
	p, err := v.ask(ctx, value)
	v.remember(key, p, err)
	f.p, f.err, f.callerGone = p, err, ctx.Err() != nil
	v.mu.Lock()
	delete(v.flights, key)
	v.mu.Unlock()
	close(f.done)
	return clonePrincipal(p), err
}

// remember caches an answer of the main site: an accepted session for
// CacheTTL (never past its "exp"), a refusal for NegativeCacheTTL; an
// upstream failure not at all.
func (v *RemoteValidator) remember(key [sha256.Size]byte, p *ssotoken.Principal, err error) {
	now := v.now()
	switch {
	case err == nil:
		until := now.Add(v.ttl)
		if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(until) {
			until = p.ExpiresAt
		}
		if v.ttl > 0 {
			v.cache.put(key, answer{p: p}, until, now)
		}
	case ssotoken.KindOf(err) == ssotoken.ErrUnauthorized && v.negTTL > 0:
		v.cache.put(key, answer{err: err}, now.Add(v.negTTL), now)
	}
}

// ask sends the cookie to the main site and reads its answer.
func (v *RemoteValidator) ask(parent context.Context, value string) (*ssotoken.Principal, error) {
	ctx, cancel := context.WithTimeout(parent, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, v.method, v.url, nil)
	if err != nil {
		return nil, mainSiteError("the main site could not be asked", err)
	}
	req.Header.Set("Cookie", v.name+"="+value)
	req.Header.Set("Accept", "application/json")
	res, err := v.hc.Do(req)
	if err != nil {
		return nil, transportFailure(parent, ctx, err)
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		_, _ = io.Copy(io.Discard, res.Body) // capped; lets the connection be reused
		return nil, errMainSiteRefused
	default:
		msg := "the main site answered " + strconv.Itoa(res.StatusCode)
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			msg = "the main site answered with a redirect"
		}
		return nil, mainSiteError(msg, errors.New("cookiesso: main site status "+strconv.Itoa(res.StatusCode)))
	}
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, transportFailure(parent, ctx, err)
	}
	return decodeAnswer(raw, v.now())
}

// transportFailure classifies a failed request or body read: the caller's
// own deadline or cancellation, the validator's timeout, an answer over
// the cap, or a main site that could not be reached. The cause (from
// net/http) names the URL, never the cookie, which is only in a header.
func transportFailure(parent, ctx context.Context, err error) error {
	var ue *url.Error
	switch {
	case parent.Err() != nil:
		return ssotoken.Wrap(parent.Err())
	case ctx.Err() != nil, errors.As(err, &ue) && ue.Timeout():
		return ssotoken.NewError(ssotoken.ErrTimeout, ssotoken.CodeDeadlineExceeded, "the main site did not answer in time", err)
	case limit.TooLarge(err):
		return mainSiteError("the main site's answer is too large", err)
	}
	return mainSiteError("the main site could not be reached", err)
}

// answerNames are the members of the main site's answer.
var answerNames = []string{"username", "sub", "roles", "exp"}

// decodeAnswer reads a 200 answer under the module's JSON policy.
func decodeAnswer(raw []byte, now time.Time) (*ssotoken.Principal, error) {
	var (
		username, sub string
		roles         []string
		exp           int64
		hasExp        bool
	)
	err := jose.Object(raw, answerNames, func(name string, val []byte) (err error) {
		if string(val) == "null" {
			return nil
		}
		switch name {
		case "username":
			username, err = jose.String(val)
		case "sub":
			sub, err = jose.String(val)
		case "roles":
			roles, err = jose.Strings(val)
		case "exp":
			exp, err = jose.Seconds(val)
			hasExp = true
		}
		return err
	})
	switch {
	case err != nil:
		return nil, mainSiteError("the main site's answer is not the expected JSON", err)
	case username == "" && sub == "":
		return nil, mainSiteError("the main site's answer names no user", nil)
	case hasExp && exp <= now.Unix():
		return nil, ErrCookieExpired
	}
	p := &ssotoken.Principal{Subject: cmp.Or(sub, username), Username: cmp.Or(username, sub), Groups: roles}
	if hasExp {
		p.ExpiresAt = time.Unix(exp, 0)
	}
	return p, nil
}

// clonePrincipal returns a copy of p that the caller may change without
// changing the cached one.
func clonePrincipal(p *ssotoken.Principal) *ssotoken.Principal {
	if p == nil {
		return nil
	}
	c := *p
	c.Groups = slices.Clone(p.Groups)
	return &c
}

// answerCache holds the main site's answers, keyed by the SHA-256 digest
// of the cookie's value, at most max of them: expired entries go first
// (by a heap on expiry), then the oldest (by a list in insertion order).
type answerCache struct {
	mu    sync.Mutex
	max   int
	m     map[[sha256.Size]byte]*cacheEntry
	byExp expiryHeap
	byAge list.List // of *cacheEntry, oldest first
}

// answer is the main site's: a user, or a refusal.
type answer struct {
	p   *ssotoken.Principal
	err error
}

type cacheEntry struct {
	answer
	key     [sha256.Size]byte
	expires time.Time
	idx     int           // in byExp
	age     *list.Element // in byAge
}

func newAnswerCache(max int) *answerCache {
	return &answerCache{max: max, m: make(map[[sha256.Size]byte]*cacheEntry)}
}

// get returns the answer cached for key, if one is there and not expired.
func (c *answerCache) get(key [sha256.Size]byte, now time.Time) (answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return answer{}, false
	}
	if !now.Before(e.expires) {
		c.remove(e)
		return answer{}, false
	}
	return e.answer, true
}

// put caches an answer until expires, making room if the cache is full.
func (c *answerCache) put(key [sha256.Size]byte, a answer, expires, now time.Time) {
	if !expires.After(now) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		c.remove(e)
	}
	for len(c.byExp) > 0 && !now.Before(c.byExp[0].expires) {
		c.remove(c.byExp[0])
	}
	for len(c.m) >= c.max {
		c.remove(c.byAge.Front().Value.(*cacheEntry))
	}
	e := &cacheEntry{answer: a, key: key, expires: expires}
	e.age = c.byAge.PushBack(e)
	heap.Push(&c.byExp, e)
	c.m[key] = e
}

func (c *answerCache) remove(e *cacheEntry) {
	delete(c.m, e.key)
	heap.Remove(&c.byExp, e.idx)
	c.byAge.Remove(e.age)
}

func (c *answerCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// expiryHeap orders cache entries by expiry, soonest first.
type expiryHeap []*cacheEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*cacheEntry)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
