package cognito

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

// keyEntry is one usable verification key. Entries are reused from one
// snapshot to the next while the JWKS keeps the same key under the same
// kid, so a cached token stays valid exactly as long as its key does.
type keyEntry struct {
	kid  string
	pub  *rsa.PublicKey
	pool *pool
}

// keySnap is an immutable view of every usable key of every pool, by kid.
type keySnap struct {
	byKID map[string]*keyEntry
}

// pool is one user pool and its key set.
type pool struct {
	issuer  string
	jwksURL string // "" for a static key set
	static  []jwkset.JWK

	// loaded is set once the pool has had a usable key.
	loaded atomic.Bool

	limiter  *rate.Limiter    // unknown-kid fetches, shared with keyfunc
	override keyfunc.Override // keyfunc's settings for this pool

	mu       sync.Mutex
	kf       keyfunc.Keyfunc // nil until the first fetch returned
	inflight *fetchCall      // the fetch running now, if any
	started  bool            // the first fetch has been started
}

// fetchCall is one JWKS fetch that any number of requests wait on.
type fetchCall struct {
	done chan struct{}
}

// probeKID is a kid no JWKS holds: reading it from keyfunc's storage makes
// keyfunc refetch the JWKS through its unknown-kid path (its rate limiter,
// its HTTP client, its error handler).
const probeKID = "\x00cognito-refetch-probe"

// usable returns the RSA public key of jwk if it may verify RS256 tokens:
// kty RSA, "use" absent or "sig", "alg" absent or RS256, "key_ops" absent
// or holding "verify", a kid, a public key of 2048 to 8192 bits.
func usable(jwk jwkset.JWK) (*rsa.PublicKey, bool) {
	m := jwk.Marshal()
	switch {
	case m.KTY != jwkset.KtyRSA,
		m.USE != "" && m.USE != jwkset.UseSig,
		m.ALG != "" && m.ALG != jwkset.AlgRS256,
		len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify),
		m.KID == "":
		return nil, false
	}
	pub, ok := jwk.Key().(*rsa.PublicKey)
	if !ok || pub.N == nil {
		return nil, false
	}
	if n := pub.N.BitLen(); n < 2048 || n > 8192 {
		return nil, false
	}
	return pub, true
}

// rebuild makes a new key snapshot from every pool's current keys. It is
// called after each fetch, from whichever goroutine did it.
func (a *Authenticator) rebuild() {
	a.rebuildMu.Lock()
	defer a.rebuildMu.Unlock()
	prev := a.snap.Load()
	next := make(map[string]*keyEntry, len(prev.byKID)+1)
	for _, p := range a.pools {
		jwks := p.static
		if p.jwksURL != "" {
			p.mu.Lock()
			kf := p.kf
			p.mu.Unlock()
			if kf == nil {
				continue
			}
			var err error
			if jwks, err = kf.Storage().KeyReadAll(context.Background()); err != nil {
				continue
			}
		}
		n := 0
		for _, jwk := range jwks {
			pub, ok := usable(jwk)
			if !ok {
				continue
			}
			kid := jwk.Marshal().KID
			if _, dup := next[kid]; dup {
				continue // the first pool (in Config order) that has a kid keeps it
			}
			e := prev.byKID[kid]
			if e == nil || e.pool != p || !e.pub.Equal(pub) {
				e = &keyEntry{kid: kid, pub: pub, pool: p}
			}
			next[kid] = e
			n++
		}
		if n > 0 {
			p.loaded.Store(true)
		}
	}
	a.snap.Store(&keySnap{byKID: next})
}

// startFetch starts a fetch of p's JWKS unless one is running (then it
// returns that one), a fetch finished since the caller read the key
// snapshot seen (nil: at start), or the pool's unknown-kid rate limit
// forbids one now (then it returns nil, and the caller looks again). The
// first fetch of a pool, made at start, is not rate-limited.
func (a *Authenticator) startFetch(p *pool, seen *keySnap) *fetchCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight != nil {
		return p.inflight
	}
	switch {
	case a.closed.Load():
		return nil
	case seen != nil && a.snap.Load() != seen:
		// A fetch ended (it published a new snapshot) between the
		// caller's look and now: the keys are as fresh as a new fetch
		// would make them.
		return nil
	case p.kf != nil && p.limiter.Tokens() < 1:
		// keyfunc's unknown-kid path takes the token in fetch.
		return nil
	case p.kf == nil && p.started && !p.limiter.Allow():
		// Creating keyfunc failed before (it cannot, with a URL that
		// passed validation); retry at the same rate.
		return nil
	}
	p.started = true
	c := &fetchCall{done: make(chan struct{})}
	p.inflight = c
	a.wg.Add(1)
	go a.fetch(p, c)
	return c
}

// fetch runs one JWKS fetch of p in the background, under the
// Authenticator's lifetime and FetchTimeout, never a request's context.
func (a *Authenticator) fetch(p *pool, c *fetchCall) {
	defer a.wg.Done()
	ctx, cancel := context.WithTimeout(a.ctx, a.fetchTimeout)
	defer cancel()

	p.mu.Lock()
	kf := p.kf
	p.mu.Unlock()
	if kf == nil {
		// The first fetch: keyfunc fetches once in its constructor (a
		// failure goes to the error handler, and the store stays empty),
		// then refreshes in the background until Close.
		k, err := keyfunc.NewDefaultOverrideCtx(a.ctx, []string{p.jwksURL}, p.override)
		if err != nil {
			a.logger.LogAttrs(ctx, slog.LevelError, "cognito: JWKS client not created",
				slog.String("issuer", p.issuer), slog.String("reason", "configuration"))
		} else {
			p.mu.Lock()
			p.kf = k
			p.mu.Unlock()
		}
	} else {
		// Later fetches go through keyfunc's unknown-kid path, which waits
		// on its limiter (startFetch saw a token there, so it does not
		// wait) and hands a failure to the error handler.
		_, _ = kf.Storage().KeyRead(ctx, probeKID)
	}
	a.rebuild()

	p.mu.Lock()
	p.inflight = nil
	p.mu.Unlock()
	close(c.done)
}

// refetch fetches again the key set of every remote pool that may be
// fetched now, and waits for those fetches or for ctx, whichever ends
// first. seen is the key snapshot in which the caller missed its kid.
func (a *Authenticator) refetch(ctx context.Context, seen *keySnap) error {
	var calls [4]*fetchCall
	waits := calls[:0]
	for _, p := range a.pools {
		if p.jwksURL == "" {
			continue
		}
		if c := a.startFetch(p, seen); c != nil {
			waits = append(waits, c)
		}
	}
	for _, c := range waits {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// allLoaded reports whether every pool has had a usable key.
func (a *Authenticator) allLoaded() bool {
	for _, p := range a.pools {
		if !p.loaded.Load() {
			return false
		}
	}
	return true
}

// errJWKSTooLarge fails a JWKS response over MaxJWKSBytes.
var errJWKSTooLarge = errors.New("cognito: JWKS response too large")

// cappingTransport caps JWKS response bodies, and rebuilds the key
// snapshot when a body is closed: keyfunc closes it after it has stored
// the new keys (or failed), so this is how a background refresh reaches
// the snapshot.
type cappingTransport struct {
	base    http.RoundTripper
	max     int64
	onClose func()
}

func (t *cappingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: t.max, onClose: t.onClose}
	return resp, nil
}

type cappedBody struct {
	rc      io.ReadCloser
	left    int64
	onClose func()
	once    sync.Once
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errJWKSTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errJWKSTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error {
	err := b.rc.Close()
	b.once.Do(b.onClose)
	return err
}

// fetchClient returns a copy of c whose transport caps bodies.
func fetchClient(c *http.Client, max int64, onClose func()) *http.Client {
	cc := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cc.Transport = &cappingTransport{base: base, max: max, onClose: onClose}
	return &cc
}

// fetchFailure describes a failed JWKS fetch for a log line without
// quoting anything the server sent.
func fetchFailure(err error) string {
	switch {
	case errors.Is(err, errJWKSTooLarge):
		return "response too large"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, jwkset.ErrInvalidHTTPStatusCode):
		return "unexpected HTTP status"
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JWKS"
	}
	if errors.Is(err, jwkset.ErrJWKValidation) || errors.Is(err, jwkset.ErrKeyUnmarshalParameter) ||
		errors.Is(err, jwkset.ErrInvalidKey) || errors.Is(err, jwkset.ErrUnsupportedKey) || errors.Is(err, jwkset.ErrOptions) {
		return "invalid key in JWKS"
	}
	return "request failed"
}

// parseStatic reads a JWKS document the way keyfunc's storage reads a
// fetched one: keys of an unsupported type are skipped, any other invalid
// key fails the whole document.
func parseStatic(raw []byte) ([]jwkset.JWK, error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, errors.New("cognito: the JWKS document is not valid JSON")
	}
	var out []jwkset.JWK
	for i, m := range set.Keys {
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
		switch {
		case errors.Is(err, jwkset.ErrUnsupportedKey):
			continue
		case err != nil:
			return nil, fmt.Errorf("cognito: key %d of the JWKS document is not valid", i)
		}
		out = append(out, jwk)
	}
	return out, nil
}

// newOverride returns keyfunc's settings for one pool.
func (a *Authenticator) newOverride(cfg *Config, p *pool) keyfunc.Override {
	noErr := true
	logger := a.logger
	return keyfunc.Override{
		Client:                    fetchClient(cfg.HTTPClient, cfg.MaxJWKSBytes, a.rebuild),
		HTTPTimeout:               cfg.FetchTimeout,
		NoErrorReturnFirstHTTPReq: &noErr,
		// The unknown-kid fetch runs under a context bounded by
		// RateLimitWaitMax, so it must not be shorter than a fetch.
		RateLimitWaitMax: cfg.FetchTimeout,
		RefreshErrorHandlerFunc: func(u string) func(ctx context.Context, err error) {
			return func(ctx context.Context, err error) {
				logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "cognito: JWKS fetch failed; the last good keys stay",
					slog.String("issuer", p.issuer), slog.String("jwks_url", u), slog.String("reason", fetchFailure(err)))
			}
		},
		RefreshInterval:   cfg.RefreshInterval,
		RefreshUnknownKID: p.limiter,
	}
}
