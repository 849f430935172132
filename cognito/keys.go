package cognito

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/ssokit/ssokit/internal/keyfetch"
	"github.com/ssokit/ssokit/ssotoken"
	"golang.org/x/time/rate"
)

// Keys: for each pool, jwkset's HTTP storage fetches the JWKS (at start,
// every RefreshInterval, and when a token names an unknown kid) and writes
// each fetched set into the pool's keyStore through the jwkset.Storage
// method KeyReplaceAll; a failed fetch writes nothing, so the last good
// keys stay. keyfunc reads the key of each token from the keyStore. What
// must happen when a set arrives happens in keyStore.replace: keys that
// may not verify RS256 tokens are left out, a kid found twice is refused,
// the pool is marked loaded, and cached tokens of keys that left the set
// are dropped.

// keyEntry is one usable verification key of one pool. An entry is kept
// from one fetch to the next while the JWKS holds the same key under the
// same kid, so that a cached token stays valid exactly as long as its key
// does.
type keyEntry struct {
	kid  string
	pub  *rsa.PublicKey
	jwk  jwkset.JWK
	pool *pool
}

// pool is one user pool and its key set.
type pool struct {
	issuer  string
	jwksURL string // "" for a static key set

	store   *keyStore
	kf      keyfunc.Keyfunc // keyfunc over store: the key lookup of every token
	limiter *rate.Limiter   // fetches caused by unknown kids: one per RefetchInterval
	loaded  atomic.Bool     // the pool has had a usable key
	url     string          // jwksURL without its query, for stats, events and logs
	fetches keyfetch.Tracker

	mu       sync.Mutex
	remote   jwkset.Storage // jwkset's HTTP client of the JWKS URL; nil until the first fetch returned
	inflight *fetchCall     // the fetch running now, if any
}

// fetchCall is one JWKS fetch that any number of requests wait on.
type fetchCall struct {
	done chan struct{}
}

func (a *Authenticator) newPool(issuer, jwksURL string, refetch rate.Limit) *pool {
	p := &pool{issuer: issuer, jwksURL: jwksURL, url: keyfetch.Redact(jwksURL), limiter: rate.NewLimiter(refetch, 1)}
	p.store = &keyStore{MemoryJWKSet: jwkset.NewMemoryStorage(), a: a, p: p}
	p.store.keys.Store(&map[string]*keyEntry{})
	// The use whitelist and keyfunc's own alg check repeat what keyStore
	// checked when the set arrived: keys of another use or algorithm never
	// reach the verifier.
	p.kf, _ = keyfunc.New(keyfunc.Options{ // fails only without a storage
		Ctx:          a.ctx,
		Storage:      p.store,
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	return p
}

// keyStore is a pool's jwkset.Storage: jwkset's memory storage holding the
// pool's usable keys, and an index of them by kid. Fetched sets arrive
// through KeyReplaceAll; keyfunc reads through KeyRead. A kid held by two
// keys of a set is refused whichever they are; an entry of a key type
// jwkset does not support is skipped by jwkset before it gets here (it
// could not verify an RS256 token, so it makes no kid ambiguous).
type keyStore struct {
	*jwkset.MemoryJWKSet

	a *Authenticator
	p *pool

	mu   sync.Mutex                           // serialises writers
	keys atomic.Pointer[map[string]*keyEntry] // immutable; replaced by writers
}

var _ jwkset.Storage = (*keyStore)(nil)

// entry returns the usable key named kid, or nil.
func (s *keyStore) entry(kid string) *keyEntry { return (*s.keys.Load())[kid] }

// KeyRead returns the usable key named keyID, or jwkset.ErrKeyNotFound.
func (s *keyStore) KeyRead(_ context.Context, keyID string) (jwkset.JWK, error) {
	if e := s.entry(keyID); e != nil {
		return e.jwk, nil
	}
	return jwkset.JWK{}, jwkset.ErrKeyNotFound
}

// KeyReplaceAll replaces the pool's keys with the usable ones of given.
// jwkset calls it with every set it fetched (NewStatic, once, with its
// document).
func (s *keyStore) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	s.mu.Lock()
	prev := *s.keys.Load()
	next, _, _ := s.index(given, prev)
	kept := s.p.jwksURL != "" && len(next) == 0 && len(prev) > 0
	if !kept {
		s.replace(ctx, given)
	}
	n := len(next)
	s.mu.Unlock()
	if kept {
		// A fetched set without one usable key (an empty answer of a
		// proxy or a cache in between, say) is a failed fetch: the last
		// good keys stay, as they do when the JWKS cannot be reached.
		s.a.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn,
			"cognito: the JWKS holds no usable key; the last good keys stay", slog.String("issuer", s.p.issuer))
	}
	if s.p.jwksURL != "" { // fetched
		result := ssotoken.FetchOK
		if n == 0 {
			result = ssotoken.FetchNoUsableKey
		}
		s.a.fetched(s.p, result, n)
	}
	return nil
}

// KeyWrite adds jwk to the pool's keys, replacing a key of the same kid.
func (s *keyStore) KeyWrite(ctx context.Context, jwk jwkset.JWK) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, _ := s.MemoryJWKSet.KeyReadAll(ctx)
	kid := jwk.Marshal().KID
	all = slices.DeleteFunc(all, func(j jwkset.JWK) bool { return j.Marshal().KID == kid })
	s.replace(ctx, append(all, jwk))
	return nil
}

// KeyDelete removes the key named keyID from the pool's keys.
func (s *keyStore) KeyDelete(ctx context.Context, keyID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all, _ := s.MemoryJWKSet.KeyReadAll(ctx)
	n := len(all)
	all = slices.DeleteFunc(all, func(j jwkset.JWK) bool { return j.Marshal().KID == keyID })
	if len(all) == n {
		return false, nil
	}
	s.replace(ctx, all)
	return true, nil
}

// replace makes the usable keys of given the pool's keys. s.mu is held.
// After Close the keys no longer change.
func (s *keyStore) replace(ctx context.Context, given []jwkset.JWK) {
	a := s.a
	if a.closed.Load() {
		return
	}
	prev := *s.keys.Load()
	next, kept, dups := s.index(given, prev)
	_ = s.MemoryJWKSet.KeyReplaceAll(ctx, kept)
	s.keys.Store(&next)
	if len(next) > 0 {
		s.p.loaded.Store(true)
	}
	a.gen.Add(1)

	if len(dups) > 0 {
		a.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn,
			"cognito: the JWKS holds a kid more than once; tokens under that kid are refused",
			slog.String("issuer", s.p.issuer), slog.Any("kids", dups))
	}
	if a.cache != nil {
		var gone []*keyEntry
		for kid, e := range prev {
			if next[kid] != e {
				gone = append(gone, e)
			}
		}
		a.cache.dropKeys(gone)
	}
}

// index returns the usable keys of given by kid, and as a list, leaving
// out every kid that given holds more than once; those kids, sorted, are
// dups. A key that prev holds unchanged keeps its entry.
func (s *keyStore) index(given []jwkset.JWK, prev map[string]*keyEntry) (next map[string]*keyEntry, kept []jwkset.JWK, dups []string) {
	count := make(map[string]int, len(given))
	for _, j := range given {
		count[j.Marshal().KID]++
	}
	next = make(map[string]*keyEntry, len(given))
	kept = make([]jwkset.JWK, 0, len(given))
	for _, j := range given {
		kid := j.Marshal().KID
		if count[kid] > 1 {
			continue // never "the first wins"
		}
		pub, ok := usable(j)
		if !ok {
			continue
		}
		e := prev[kid]
		if e == nil || !e.pub.Equal(pub) {
			e = &keyEntry{kid: kid, pub: pub, jwk: j, pool: s.p}
		}
		next[kid] = e
		kept = append(kept, e.jwk)
	}
	for kid, n := range count {
		if n > 1 && kid != "" {
			dups = append(dups, kid)
		}
	}
	slices.Sort(dups)
	return next, kept, dups
}

// usable returns the RSA public key of jwk if it may verify RS256 tokens:
// kty RSA, "use" absent or "sig", "alg" absent or RS256, "key_ops" absent
// or holding "verify", a kid, a modulus of 2048 to 8192 bits, both included.
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

// find looks up the key that verifies a token naming kid, through the
// keyfunc of the pool that holds kid, and sets c.pool to that pool and
// c.key to the key's entry. When the token names the issuer of one of
// several pools, that pool is asked first, and the others only once its
// keys have arrived; otherwise every pool in turn. The issuer is checked
// against the pool only after the signature verified. c.key is nil when the set
// changed between the two reads (the key is then used but its token is not
// cached).
func (c *call) find(kid string) (any, bool) {
	a := c.a
	iss := ""
	if len(a.pools) > 1 {
		iss = c.issuer()
	}
	named := a.poolOf(iss)
	for i := -1; i < len(a.pools); i++ {
		var p *pool
		switch {
		case i < 0 && named == nil:
			continue
		case i < 0:
			p = named
		case named != nil && !named.loaded.Load():
			// The named pool's keys are still on their way: another
			// pool's key of the same kid would refuse a good token as
			// forged. The caller waits for the fetch instead.
			return nil, false
		case a.pools[i] == named:
			continue // asked first
		default:
			p = a.pools[i]
		}
		e := p.store.entry(kid)
		if e == nil {
			continue
		}
		k, err := p.kf.KeyfuncCtx(c.ctx)(c.tok)
		if err != nil {
			continue
		}
		pub, ok := k.(*rsa.PublicKey)
		if !ok {
			continue
		}
		if pub != e.pub {
			e = nil
		}
		c.key, c.pool = e, p
		return pub, true
	}
	return nil, false
}

func (a *Authenticator) poolOf(iss string) *pool {
	for _, p := range a.pools {
		if p.issuer == iss {
			return p
		}
	}
	return nil
}

// startFetch starts a fetch of p's JWKS unless one is running (then it
// returns that one), a set arrived since the caller missed its kid at key
// generation seen (the keys are as fresh as a new fetch would make them),
// or p's RefetchInterval forbids one now; then it returns nil and the
// caller looks again. The first fetch, at start, is not rate-limited.
func (a *Authenticator) startFetch(p *pool, first bool, seen uint64, kid string) *fetchCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight != nil {
		return p.inflight
	}
	switch {
	case a.closed.Load():
		return nil
	case !first && (p.remote == nil || a.gen.Load() != seen || !p.limiter.Allow()):
		return nil
	}
	c := &fetchCall{done: make(chan struct{})}
	p.inflight = c
	a.wg.Add(1)
	go a.fetch(p, c, kid)
	return c
}

// fetch runs one JWKS fetch of p in the background, under the
// Authenticator's lifetime and FetchTimeout, never a request's context.
func (a *Authenticator) fetch(p *pool, c *fetchCall, kid string) {
	defer a.wg.Done()
	p.mu.Lock()
	remote := p.remote
	p.mu.Unlock()
	if remote == nil {
		remote = a.newRemote(p)
		p.mu.Lock()
		p.remote = remote
		p.mu.Unlock()
	} else {
		ctx, cancel := context.WithTimeout(a.ctx, a.fetchTimeout)
		_, _ = remote.KeyRead(ctx, kid) // an unknown kid: jwkset fetches the set again
		cancel()
	}
	p.mu.Lock()
	p.inflight = nil
	p.mu.Unlock()
	close(c.done)
}

// newRemote returns jwkset's HTTP client of p's JWKS URL. Creating it
// fetches the set once (a failure is logged and leaves the store as it
// was) and starts jwkset's refresh every RefreshInterval, which ends with
// Close.
//
// Fetches caused by unknown kids go through the client's KeyRead, which
// fetches again when the kid is not in the store. The Authenticator
// decides when that happens (one fetch at a time, shared by every request
// that waits for it, at most one per RefetchInterval, refused at once
// rather than queued) and runs it under its own lifetime; so jwkset's
// limiter is left unlimited. Its own would make each waiting request
// fetch in turn, each under that request's context.
func (a *Authenticator) newRemote(p *pool) jwkset.Storage {
	st, err := jwkset.NewStorageFromHTTP(p.jwksURL, jwkset.HTTPClientStorageOptions{
		Client:                    a.client,
		Ctx:                       a.ctx,
		HTTPTimeout:               a.fetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       a.fetchFailed(p),
		RefreshInterval:           a.refreshInterval,
		Storage:                   p.store,
	})
	if err == nil {
		st, err = jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
			HTTPURLs:          map[string]jwkset.Storage{p.jwksURL: st},
			RateLimitWaitMax:  a.fetchTimeout,
			RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
		})
	}
	if err != nil { // only for a URL that Config validation let through
		a.logger.LogAttrs(a.ctx, slog.LevelError, "cognito: JWKS client not created",
			slog.String("issuer", p.issuer), slog.String("reason", "configuration"))
		return jwkset.NewMemoryStorage()
	}
	return st
}

// fetchFailed returns the handler of p's failed fetches: one log line per
// fetch, never the response body, and the fetch counted.
func (a *Authenticator) fetchFailed(p *pool) func(context.Context, error) {
	return func(ctx context.Context, err error) {
		if a.ctx.Err() != nil {
			return // closed
		}
		reason := keyfetch.Reason(err)
		a.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "cognito: JWKS fetch failed; the last good keys stay",
			slog.String("issuer", p.issuer), slog.String("jwks_url", p.url), slog.String("reason", reason))
		a.fetched(p, reason, len(*p.store.keys.Load()))
	}
}

// fetched counts a finished fetch of p and tells OnFetch, unless Close has
// begun: Close waits for a call under way, and none starts after.
func (a *Authenticator) fetched(p *pool, result string, keys int) {
	a.hooks.RLock()
	defer a.hooks.RUnlock()
	if a.hooked {
		return
	}
	p.fetches.Record(result, a.now())
	if a.onFetch != nil {
		a.onFetch(ssotoken.FetchEvent{Issuer: p.issuer, URL: p.url, Result: result, Keys: keys})
	}
}

// refetch fetches p's key set again if p is remote and may be fetched
// now, and waits for that fetch or for ctx, whichever ends first. seen is
// the key generation at which the caller missed kid.
func (a *Authenticator) refetch(ctx context.Context, p *pool, seen uint64, kid string) error {
	if p.jwksURL == "" {
		return nil
	}
	c := a.startFetch(p, false, seen, kid)
	if c == nil {
		return nil
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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

// parseStatic reads a JWKS document the way jwkset's HTTP storage reads a
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
