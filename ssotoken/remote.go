package ssotoken

import (
	"cmp"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"golang.org/x/time/rate"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/keyfetch"
	"github.com/ssokit/ssokit/internal/limit"
)

// Defaults and limits of RemoteKeysConfig.
const (
	// DefaultRefreshInterval is the period of the background JWKS refresh
	// when RemoteKeysConfig.RefreshInterval is zero.
	DefaultRefreshInterval = time.Hour
	// DefaultRefetchInterval is the least time between two JWKS fetches
	// caused by tokens with an unknown "kid", when
	// RemoteKeysConfig.RefetchInterval is zero.
	DefaultRefetchInterval = 10 * time.Second
	// MinRefetchInterval is the smallest RemoteKeysConfig.RefetchInterval
	// accepted.
	MinRefetchInterval = 100 * time.Millisecond
	// DefaultFetchTimeout bounds one JWKS fetch when
	// RemoteKeysConfig.FetchTimeout is zero.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultMaxJWKSBytes is the largest JWKS response body read when
	// RemoteKeysConfig.MaxJWKSBytes is zero: 1 MiB.
	DefaultMaxJWKSBytes = 1 << 20
	// MaxRemoteRSABits is the largest RSA modulus a RemoteKeys takes from a
	// JWKS, in bits: bigger keys only make verifying slow.
	MaxRemoteRSABits = 8192
)

// RemoteKeysConfig configures NewRemoteKeys.
type RemoteKeysConfig struct {
	// URL is the issuer's JWKS document, an absolute http or https URL
	// (ssoserver -sso-key serves it at /.well-known/jwks.json). Keys come
	// from here only, never from a token. Required.
	URL string

	// HTTPClient fetches the JWKS. Nil means a client with a timeout of
	// FetchTimeout that follows no redirects. Its Transport is wrapped to
	// cap response bodies at MaxJWKSBytes; the client itself is not
	// modified.
	HTTPClient *http.Client
	// FetchTimeout bounds each fetch, in the background or caused by an
	// unknown "kid". Zero means DefaultFetchTimeout (5 s).
	FetchTimeout time.Duration
	// MaxJWKSBytes caps a JWKS response body; a larger one fails the fetch
	// and the last good keys stay. Zero means DefaultMaxJWKSBytes (1 MiB).
	MaxJWKSBytes int64

	// RefreshInterval is the period of the background refresh. Zero means
	// DefaultRefreshInterval (1 h).
	RefreshInterval time.Duration
	// RefetchInterval is the least time between two fetches caused by
	// tokens with an unknown "kid"; tokens that arrive while a fetch runs
	// share it. Zero means DefaultRefetchInterval (10 s); at least
	// MinRefetchInterval. A key that the issuer starts signing with
	// unannounced is accepted at the latest one RefetchInterval after its
	// first token arrives.
	RefetchInterval time.Duration

	// Now is the clock of RefetchInterval; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per failed fetch and per key set that holds
	// a kid twice or a private key (never a token, a key or a response
	// body). Nil means slog.Default().
	Logger *slog.Logger

	// OnFetch, when set, is called once per finished fetch (the first,
	// each refresh, each caused by an unknown kid), once the keys have
	// been replaced or kept, with its result: to count fetches by result
	// in the host's metrics. It is called from the goroutine that fetched,
	// a background one and never a request's, possibly from two at once
	// (a refresh and a refetch), and never after Close returned. It must
	// not block (the requests waiting for the fetch are released after it
	// returns) and must not call Close.
	// Stats gives the same figures on demand.
	OnFetch func(FetchEvent)
}

// RemoteKeys is a KeySet whose keys come from the issuer's JWKS: what a
// linked LOB uses, in VerifierConfig.Keys, to verify the TokenNo values an
// issuer signs with RS256, ES256 or EdDSA and publishes the public keys
// of. It is safe for concurrent use; Close stops its background work.
//
// The set is fetched through jwkset in the background: at start (without
// blocking or failing NewRemoteKeys), every RefreshInterval, and when a
// token names a kid the set lacks, at most once per RefetchInterval, every
// token that misses meanwhile sharing the one fetch and waiting for it
// within its own context. A fetch that fails (unreachable, an HTTP status
// other than 200, a body over MaxJWKSBytes, not a JWKS) changes nothing:
// the last good keys stay. A fetch that succeeds replaces every key, so a
// key the issuer withdrew stops verifying. While no usable key was ever
// fetched, Verify fails with ErrKeysUnavailable (ErrUpstream).
//
// A key of the set verifies tokens only if its "kid" is set and held by no
// other key of the set; its "alg" is RS256, ES256 or EdDSA and fits its
// key (an RSA key of MinRSABits to MaxRemoteRSABits bits, a P-256 key, an
// Ed25519 key); its "use" is absent or "sig"; its "key_ops", if any,
// include "verify"; and it carries no private key. Any other key is left
// out. A token verifies only under the key its kid names, with that key's
// algorithm; a token without kid never does, and causes no fetch.
type RemoteKeys struct {
	url             string
	client          *http.Client // caps bodies
	fetchTimeout    time.Duration
	refreshInterval time.Duration
	refetchInterval time.Duration
	now             func() time.Time
	logger          *slog.Logger
	onFetch         func(FetchEvent)
	redacted        string // url without query, for stats, events and logs

	snap    atomic.Pointer[keySnapshot]
	fetches keyfetch.Tracker
	hooks   sync.RWMutex // read-held while a fetch is counted and OnFetch runs
	hooked  bool         // under hooks: Close has begun, count and tell no more
	loaded  atomic.Bool  // a set with a usable key has arrived

	ctx    context.Context // the lifetime of background work, ended by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	closed      bool
	remote      jwkset.Storage // jwkset's client of URL; nil until the first fetch returned
	inflight    chan struct{}  // closed when the running fetch ends; nil when none runs
	lastRefetch time.Time      // of the last fetch caused by an unknown kid
}

// NewRemoteKeys returns the key set of cfg.URL and starts fetching it in
// the background. It fails only for a configuration that cannot work; it
// never waits for the network. Call Close when done.
func NewRemoteKeys(cfg RemoteKeysConfig) (*RemoteKeys, error) {
	if err := checkJWKSURL(cfg.URL); err != nil {
		return nil, err
	}
	switch {
	case cfg.FetchTimeout < 0 || cfg.MaxJWKSBytes < 0 || cfg.RefreshInterval < 0 || cfg.RefetchInterval < 0:
		return nil, errors.New("ssotoken: RemoteKeysConfig durations and MaxJWKSBytes must not be negative")
	case cfg.RefetchInterval != 0 && cfg.RefetchInterval < MinRefetchInterval:
		return nil, fmt.Errorf("ssotoken: RemoteKeysConfig.RefetchInterval must be at least %s", MinRefetchInterval)
	}
	fetchTimeout := cmp.Or(cfg.FetchTimeout, DefaultFetchTimeout)
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{
			Timeout:       fetchTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &RemoteKeys{
		url:             cfg.URL,
		client:          limit.Client(client, fetchTimeout, cmp.Or(cfg.MaxJWKSBytes, DefaultMaxJWKSBytes)),
		fetchTimeout:    fetchTimeout,
		refreshInterval: cmp.Or(cfg.RefreshInterval, DefaultRefreshInterval),
		refetchInterval: cmp.Or(cfg.RefetchInterval, DefaultRefetchInterval),
		now:             cfg.Now,
		logger:          cmp.Or(cfg.Logger, slog.Default()),
		onFetch:         cfg.OnFetch,
		redacted:        keyfetch.Redact(cfg.URL),
		ctx:             ctx,
		cancel:          cancel,
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.snap.Store(emptySnapshot)
	r.startFetch(true, nil)
	r.wg.Add(1)
	go r.fetchUntilReady()
	return r, nil
}

// fetchUntilReady asks again, once per RefetchInterval, for a set that
// never had a usable key, until one arrives or Close is called: keys that
// were down at start arrive without a token asking for them (a load
// balancer that waits for readiness sends none). Its fetches count
// against the same limit as those of unknown kids.
func (r *RemoteKeys) fetchUntilReady() {
	defer r.wg.Done()
	for !r.loaded.Load() {
		t := time.NewTimer(r.refetchInterval)
		select {
		case <-r.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		r.startFetch(false, r.snap.Load())
	}
}

func checkJWKSURL(s string) error {
	u, err := url.ParseRequestURI(s)
	switch {
	case s == "":
		return errors.New("ssotoken: RemoteKeysConfig.URL is required")
	case err != nil:
		return fmt.Errorf("ssotoken: JWKS URL %q is not an absolute URL", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("ssotoken: JWKS URL %q is not an http or https URL", s)
	case u.Host == "":
		return fmt.Errorf("ssotoken: JWKS URL %q has no host", s)
	}
	return nil
}

// Close stops the background refresh and any fetch in progress, and waits
// for the fetches it started, and an OnFetch call under way, to return;
// the keys no longer change, and OnFetch is not called again. Tokens
// still verify with the keys already fetched. Close is idempotent and
// always returns nil.
func (r *RemoteKeys) Close() error {
	if r == nil {
		return nil // so that a deferred Close after a failed NewRemoteKeys is harmless
	}
	r.mu.Lock()
	already := r.closed
	r.closed = true
	r.mu.Unlock()
	if !already && r.cancel != nil {
		r.cancel()
		r.hooks.Lock() // waits for an OnFetch under way; none starts after
		r.hooked = true
		r.hooks.Unlock()
		r.wg.Wait()
	}
	return nil
}

// Keys returns the usable keys of the last good set, in its order.
func (r *RemoteKeys) Keys() []*Key { return slices.Clone(r.snapshot().keys) }

// Key returns the usable key with the given id.
func (r *RemoteKeys) Key(id string) (*Key, bool) {
	k, ok := r.snapshot().byID[id]
	return k, ok
}

// remoteAlgs are the algorithms a remote key may have. The parser allows
// them all, whatever the set holds now, so that a token under a new key
// reaches the lookup that fetches the set again; the lookup then pins the
// algorithm of the key the kid names.
var remoteAlgs = []string{string(RS256), string(ES256), string(EdDSA)}

// snapshot returns the keys; a zero RemoteKeys (not made by
// NewRemoteKeys) has none.
func (r *RemoteKeys) snapshot() *keySnapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	return emptySnapshot
}

func (r *RemoteKeys) methods(*keySnapshot) []string { return remoteAlgs }

// usable reports whether r was made by NewRemoteKeys.
func (r *RemoteKeys) usable() bool { return r != nil && r.client != nil }

// missing fetches the set again, unless a set arrived since seen or
// RefetchInterval forbids it, waits for the fetch within ctx, and looks
// the kid up again.
func (r *RemoteKeys) missing(ctx context.Context, seen *keySnapshot, h jose.Header) (*Key, *keySnapshot, error) {
	var err error
	if done := r.startFetch(false, seen); done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	snap := r.snapshot()
	k, lerr := snap.lookup(h)
	switch {
	case !errors.Is(lerr, ErrUnknownKey):
		return k, snap, lerr
	case err != nil:
		return nil, snap, Wrap(err)
	case !r.loaded.Load():
		return nil, snap, ErrKeysUnavailable
	}
	return nil, snap, ErrUnknownKey
}

// startFetch starts a fetch unless one is running (then it returns that
// one), the RemoteKeys is closed, a set arrived since the caller missed a
// kid in seen (its keys are as fresh as a fetch would make them), or
// RefetchInterval forbids one now; then it returns nil. The first fetch,
// at start, is not limited.
func (r *RemoteKeys) startFetch(first bool, seen *keySnapshot) chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.inflight != nil:
		return r.inflight
	case r.closed:
		return nil
	case !first:
		now := r.now()
		since := now.Sub(r.lastRefetch)
		if r.remote == nil || r.snap.Load() != seen || !r.lastRefetch.IsZero() && since >= 0 && since < r.refetchInterval {
			return nil
		}
		r.lastRefetch = now
	}
	done := make(chan struct{})
	r.inflight = done
	r.wg.Add(1)
	go r.fetch(done)
	return done
}

// fetch runs one fetch in the background, under the RemoteKeys' lifetime
// and FetchTimeout, never a request's context. The first creates jwkset's
// client of the URL, which fetches once and starts the refresh every
// RefreshInterval.
func (r *RemoteKeys) fetch(done chan struct{}) {
	defer r.wg.Done()
	r.mu.Lock()
	remote := r.remote
	r.mu.Unlock()
	if remote == nil {
		remote = r.newRemote()
		r.mu.Lock()
		r.remote = remote
		r.mu.Unlock()
	} else {
		ctx, cancel := context.WithTimeout(r.ctx, r.fetchTimeout)
		_, _ = remote.KeyRead(ctx, "") // remoteStore finds no key: jwkset fetches the set again
		cancel()
	}
	r.mu.Lock()
	r.inflight = nil
	r.mu.Unlock()
	close(done)
}

// newRemote returns jwkset's client of the URL. RemoteKeys decides when a
// token's unknown kid causes a fetch (one at a time, shared, at most one
// per RefetchInterval, refused at once rather than queued), so jwkset's own
// limiter is left unlimited.
func (r *RemoteKeys) newRemote() jwkset.Storage {
	st, err := jwkset.NewStorageFromHTTP(r.url, jwkset.HTTPClientStorageOptions{
		Client:                    r.client,
		Ctx:                       r.ctx,
		HTTPTimeout:               r.fetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       r.fetchFailed,
		RefreshInterval:           r.refreshInterval,
		Storage:                   &remoteStore{MemoryJWKSet: jwkset.NewMemoryStorage(), r: r},
	})
	if err == nil {
		st, err = jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
			HTTPURLs:          map[string]jwkset.Storage{r.url: st},
			RateLimitWaitMax:  r.fetchTimeout,
			RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
		})
	}
	if err != nil { // only for a URL that checkJWKSURL let through
		r.logger.LogAttrs(r.ctx, slog.LevelError, "ssotoken: JWKS client not created", slog.String("jwks_url", r.redacted))
		return jwkset.NewMemoryStorage()
	}
	return st
}

// fetchFailed logs and counts a failed fetch: one line per fetch, never
// the body.
func (r *RemoteKeys) fetchFailed(ctx context.Context, err error) {
	if r.ctx.Err() != nil {
		return // closed
	}
	reason := keyfetch.Reason(err)
	r.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "ssotoken: JWKS fetch failed; the last good keys stay",
		slog.String("jwks_url", r.redacted), slog.String("reason", reason))
	r.fetched(reason, len(r.snapshot().keys))
}

// fetched counts a finished fetch and tells OnFetch, unless Close has
// begun: Close waits for a call under way, and none starts after.
func (r *RemoteKeys) fetched(result string, keys int) {
	r.hooks.RLock()
	defer r.hooks.RUnlock()
	if r.hooked {
		return
	}
	r.fetches.Record(result, r.now())
	if r.onFetch != nil {
		r.onFetch(FetchEvent{URL: r.redacted, Result: result, Keys: keys})
	}
}

// Ready returns nil once a usable key has been fetched (the keys then stay
// until a later set withdraws them; Stats tells how many are held and how
// old they are). Before, it returns an error that wraps
// ErrKeysUnavailable and says what the last fetch found ("HTTP 503",
// "timeout", "no usable key": see the Fetch constants), for a readiness
// probe. It is cheap and safe for concurrent use.
func (r *RemoteKeys) Ready() error {
	switch {
	case r == nil || !r.usable():
		return fmt.Errorf("ssotoken: RemoteKeys not made by NewRemoteKeys: %w", ErrKeysUnavailable)
	case r.loaded.Load():
		return nil
	}
	return fmt.Errorf("ssotoken: no key yet from the JWKS at %s (%s): %w", r.redacted, lastFetch(r.fetches.Last()), ErrKeysUnavailable)
}

func (r *RemoteKeys) ready() error { return r.Ready() }

// lastFetch describes the last result for a readiness error.
func lastFetch(result string) string {
	if result == "" {
		return "no fetch has finished yet"
	}
	return "last fetch: " + result
}

// Stats returns the key set's figures now: the usable keys held, whether
// one ever was, the end of the last good fetch, the last result and the
// fetches by result. It takes a lock that fetches take, never one that
// Verify takes, and is safe for concurrent use.
func (r *RemoteKeys) Stats() KeySetStats {
	if r == nil || !r.usable() {
		return KeySetStats{}
	}
	counts, last, lastOK := r.fetches.Snapshot()
	return KeySetStats{
		URL:        r.redacted,
		Keys:       len(r.snapshot().keys),
		Ready:      r.loaded.Load(),
		LastOK:     lastOK,
		LastResult: last,
		Fetches:    counts,
	}
}

// remoteStore is the jwkset.Storage that jwkset's client writes every
// fetched set to, through KeyReplaceAll. It finds no key on KeyRead, so
// that asking jwkset's client for one fetches the set.
type remoteStore struct {
	*jwkset.MemoryJWKSet
	r *RemoteKeys
}

// KeyRead implements jwkset.Storage: no key is ever found here.
func (s *remoteStore) KeyRead(context.Context, string) (jwkset.JWK, error) {
	return jwkset.JWK{}, jwkset.ErrKeyNotFound
}

// KeyReplaceAll implements jwkset.Storage: given is a fetched set.
func (s *remoteStore) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	s.r.replace(ctx, given)
	return nil
}

// replace makes the usable keys of given the keys. After Close the keys no
// longer change.
func (r *RemoteKeys) replace(ctx context.Context, given []jwkset.JWK) {
	keys, refused := usableKeys(given)
	snap, err := (&keySnapshot{}).with(keys...)
	if err != nil { // usableKeys leaves no kid twice: cannot happen
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	kept := len(keys) == 0 && r.loaded.Load()
	if !kept {
		// A set without one usable key (an empty answer of a proxy or a
		// cache in between, say) is a failed fetch: the last good keys
		// stay, as they do when the issuer cannot be reached.
		r.snap.Store(snap)
	}
	if len(keys) > 0 {
		r.loaded.Store(true)
	}
	r.mu.Unlock()
	if kept {
		r.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn,
			"ssotoken: the JWKS holds no usable key; the last good keys stay",
			slog.String("jwks_url", r.redacted))
	}
	if len(refused) > 0 {
		r.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn,
			"ssotoken: the JWKS holds a kid more than once or a private key; tokens under those kids are refused",
			slog.String("jwks_url", r.redacted), slog.Any("kids", refused))
	}
	result := FetchOK
	if len(keys) == 0 {
		result = FetchNoUsableKey
	}
	r.fetched(result, len(keys))
}

// usableKeys returns the keys of given that may verify a TokenNo (see
// RemoteKeys), in their order, leaving out every kid given holds more than
// once. refused are the kids, sorted, that were left out for a reason worth
// a warning: held twice, or published with private key material.
func usableKeys(given []jwkset.JWK) (keys []*Key, refused []string) {
	count := make(map[string]int, len(given))
	for _, j := range given {
		count[j.Marshal().KID]++
	}
	for _, j := range given {
		m := j.Marshal()
		switch {
		case count[m.KID] > 1:
			if m.KID != "" && !slices.Contains(refused, m.KID) {
				refused = append(refused, m.KID) // never "the first wins"
			}
			continue
		case m.D != "" || m.K != "" || m.P != "" || m.Q != "":
			refused = append(refused, m.KID)
			continue
		}
		if k := usableKey(m, j.Key()); k != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(refused)
	return keys, refused
}

// usableKey returns the key of a JWK m, whose Go key is pub, if it may
// verify a TokenNo: a kid, "use" absent or "sig", "key_ops" absent or
// holding "verify", "alg" one of RS256, ES256 and EdDSA that fits pub
// (NewVerifyingKey's checks), and an RSA key of at most MaxRemoteRSABits.
func usableKey(m jwkset.JWKMarshal, pub any) *Key {
	switch {
	case m.KID == "",
		m.USE != "" && m.USE != jwkset.UseSig,
		len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify),
		!slices.Contains(remoteAlgs, m.ALG.String()):
		return nil
	}
	if p, ok := pub.(*rsa.PublicKey); ok && (p.N == nil || p.N.BitLen() > MaxRemoteRSABits) {
		return nil
	}
	k, err := NewVerifyingKey(m.KID, Algorithm(m.ALG), pub)
	if err != nil {
		return nil
	}
	return k
}
