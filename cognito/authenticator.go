package cognito

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
	"golang.org/x/time/rate"
)

// Authenticator validates AWS Cognito access or ID tokens: an
// ssotoken.Authenticator whose keys come from the user pools' JWKS through
// keyfunc. It is safe for concurrent use. Close stops its background work.
type Authenticator struct {
	pools    []*pool
	snap     atomic.Pointer[keySnap]
	cache    *cache // nil when off
	maxBytes int

	tokenUse       string
	clientIDs      []string // nil: any client (InsecureSkipClientIDCheck)
	requiredScopes []string
	requiredGroups []string
	leeway         time.Duration
	now            func() time.Time
	check          func(context.Context, *ssotoken.Principal) error

	fetchTimeout time.Duration
	logger       *slog.Logger

	ctx       context.Context // the lifetime of background work, ended by Close
	cancel    context.CancelFunc
	closed    atomic.Bool
	wg        sync.WaitGroup
	rebuildMu sync.Mutex
}

var _ ssotoken.Authenticator = (*Authenticator)(nil)

// New returns an Authenticator for cfg, or an error if cfg is incomplete or
// inconsistent. It never waits for the network and never fails because a
// JWKS cannot be fetched: the first fetch of each pool starts in the
// background, and requests that arrive before it ends wait for it (each
// within its own context). Call Close when done with the Authenticator.
func New(cfg Config) (*Authenticator, error) {
	a, pools, err := newAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	for _, p := range pools {
		a.startFetch(p, nil)
	}
	return a, nil
}

// NewStatic returns an Authenticator whose only keys are those of the JWKS
// document jwks (the JSON that a pool serves at its JWKS URL), for tests and
// for hosts without network access. Nothing is ever fetched, so cfg names
// one pool whose JWKSURL is ignored, and cfg.Pools must be empty. Keys of an
// unsupported type are skipped, as when fetched; any other invalid key is
// an error. Close is optional for a static Authenticator.
func NewStatic(cfg Config, jwks []byte) (*Authenticator, error) {
	if len(cfg.Pools) > 0 {
		return nil, errNewStaticPools
	}
	if cfg.UserPoolID == "" && cfg.Issuer == "" {
		return nil, errNewStaticPool
	}
	keys, err := parseStatic(jwks)
	if err != nil {
		return nil, err
	}
	a, pools, err := newAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	pools[0].jwksURL = ""
	pools[0].static = keys
	a.rebuild()
	return a, nil
}

func newAuthenticator(cfg Config) (*Authenticator, []*pool, error) {
	resolved, err := cfg.validate()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Authenticator{
		maxBytes:       cfg.MaxTokenBytes,
		tokenUse:       cfg.TokenUse,
		clientIDs:      slices.Clone(cfg.ClientIDs),
		requiredScopes: slices.Clone(cfg.RequiredScopes),
		requiredGroups: slices.Clone(cfg.RequiredGroups),
		leeway:         cfg.Leeway,
		now:            cfg.Now,
		check:          cfg.Check,
		fetchTimeout:   cfg.FetchTimeout,
		logger:         cfg.Logger,
		ctx:            ctx,
		cancel:         cancel,
	}
	if !cfg.DisableCache {
		a.cache = newCache(cfg.CacheSize)
	}
	a.snap.Store(&keySnap{byKID: map[string]*keyEntry{}})
	for _, rp := range resolved {
		p := &pool{
			issuer:  rp.Issuer,
			jwksURL: rp.JWKSURL,
			limiter: rate.NewLimiter(rate.Every(cfg.RefetchInterval), 1),
		}
		p.override = a.newOverride(&cfg, p)
		a.pools = append(a.pools, p)
	}
	return a, a.pools, nil
}

// Close stops the background refresh and any fetch in progress, and waits
// for the fetches this package started to return. The Authenticator keeps
// validating tokens with the keys it has, but fetches no more. Close is
// idempotent and always returns nil.
func (a *Authenticator) Close() error {
	if a == nil {
		return nil // so that a deferred Close after a failed New is harmless
	}
	// startFetch reads closed under the pool's lock, so once closed is set
	// under every pool's lock no fetch can start that wg.Wait would miss.
	for _, p := range a.pools {
		p.mu.Lock()
	}
	already := a.closed.Swap(true)
	for _, p := range a.pools {
		p.mu.Unlock()
	}
	if already {
		return nil
	}
	a.cancel()
	a.wg.Wait()
	return nil
}

var b64 = base64.RawURLEncoding.Strict()

// tokenBuf is the scratch space of one Authenticate call.
type tokenBuf struct{ b []byte }

var bufPool = sync.Pool{New: func() any { return &tokenBuf{b: make([]byte, 0, 4096)} }}

// maxPooledBuf is the largest buffer returned to the pool.
const maxPooledBuf = 64 << 10

// Authenticate validates token (the raw token, without "Bearer ") and
// returns the principal it names.
//
// The checks run in this order, and the first failure is returned: size
// and segment count; the header ("alg" exactly RS256, "kid" a non-empty
// string naming a key of a configured pool, no "jwk", "jku", "x5u", "x5c"
// or "crit"); the signature; "exp" (required), "nbf" and "iat" with Leeway;
// "iss" exactly the issuer of the pool whose key verified the signature;
// "token_use"; "client_id" (access) or "aud" (id); the required scopes and
// groups; Config.Check. So a forged token is reported as a bad signature
// even when it is also expired.
//
// A token with a "kid" that no pool's key set holds makes the pools' JWKS
// be fetched again (at most once per RefetchInterval; concurrent callers
// share one fetch), and Authenticate waits for that fetch within ctx.
//
// Every error is an *ssotoken.Error (see the Code constants):
// ErrUnauthorized, ErrForbidden for a missing scope or group, ErrUpstream
// while a pool's keys have never been fetched, ErrTimeout when ctx ended
// while waiting for a fetch. The principal may be shared with other
// callers (it comes from the cache): treat it as read-only.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*ssotoken.Principal, error) {
	switch {
	case token == "":
		return nil, errTokenMissing
	case len(token) > a.maxBytes:
		return nil, errTokenTooLarge
	}
	i := strings.IndexByte(token, '.')
	if i < 0 {
		return nil, errTokenMalformed
	}
	j := strings.IndexByte(token[i+1:], '.')
	if j < 0 {
		return nil, errTokenMalformed
	}
	j += i + 1
	if strings.IndexByte(token[j+1:], '.') >= 0 {
		return nil, errTokenMalformed
	}

	buf := bufPool.Get().(*tokenBuf)
	defer func() {
		if cap(buf.b) <= maxPooledBuf {
			bufPool.Put(buf)
		}
	}()
	b := append(buf.b[:0], token...)
	buf.b = b

	now := a.now()
	var sum [32]byte
	if a.cache != nil {
		sum = sha256.Sum256(b)
		if p, ok := a.cache.get(&sum, now, a.snap.Load()); ok {
			return a.finish(ctx, p)
		}
	}

	p, key, until, err := a.verify(ctx, buf, i, j, now)
	if err != nil {
		return nil, err
	}
	if a.cache != nil {
		a.cache.put(&sum, &cacheEntry{p: p, until: until, key: key}, now)
	}
	return a.finish(ctx, p)
}

// finish runs Config.Check.
func (a *Authenticator) finish(ctx context.Context, p *ssotoken.Principal) (*ssotoken.Principal, error) {
	if a.check == nil {
		return p, nil
	}
	if err := a.check(ctx, p); err != nil {
		var e *ssotoken.Error
		if errors.As(err, &e) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, ssotoken.Wrap(err)
		}
		return nil, ssotoken.NewError(ssotoken.ErrForbidden, CodeCheckFailed, "the token is not accepted here", err)
	}
	return p, nil
}

// verify runs every check of a token that is not cached. buf.b holds the
// token; i and j are the positions of its two dots. It returns the
// principal, the key that verified it and the time until which it is valid.
func (a *Authenticator) verify(ctx context.Context, buf *tokenBuf, i, j int, now time.Time) (*ssotoken.Principal, *keyEntry, time.Time, error) {
	var never time.Time
	b := buf.b
	n := len(b)

	// Header. Decoded after the token in the same buffer; alg and kid are
	// read through an unsafe-free string view made once the buffer is
	// final, so they are compared without copies.
	b, err := b64.AppendDecode(b, b[:i])
	if err != nil {
		return nil, nil, never, errTokenMalformed
	}
	hEnd := len(b)
	var h header
	switch parseHeader(b[n:hEnd], string(b[n:hEnd]), &h) {
	case parseSyntax:
		return nil, nil, never, errTokenMalformed
	case parseType:
		return nil, nil, never, errTokenMalformed
	}
	switch {
	case h.embeddedKey:
		return nil, nil, never, errEmbeddedKey
	case h.crit:
		return nil, nil, never, errTokenMalformed
	case !h.hasAlg || h.alg != "RS256":
		return nil, nil, never, errAlgNotAllowed
	case h.kid == "":
		return nil, nil, never, errKIDMissing
	}

	key, err := a.lookup(ctx, h.kid)
	if err != nil {
		return nil, nil, never, err
	}

	// Signature, before anything of the payload is read.
	b, err = b64.AppendDecode(b, b[j+1:n])
	if err != nil {
		return nil, nil, never, errTokenMalformed
	}
	sig := b[hEnd:]
	if len(sig) != key.pub.Size() {
		return nil, nil, never, errBadSignature
	}
	digest := sha256.Sum256(b[:j])
	if rsa.VerifyPKCS1v15(key.pub, crypto.SHA256, digest[:], sig) != nil {
		return nil, nil, never, errBadSignature
	}

	// Claims.
	sEnd := len(b)
	b, err = b64.AppendDecode(b, b[i+1:j])
	buf.b = b
	if err != nil {
		return nil, nil, never, errTokenMalformed
	}
	payload := string(b[sEnd:])
	var c claims
	switch parseClaims(b[sEnd:], payload, &c) {
	case parseSyntax:
		return nil, nil, never, errTokenMalformed
	case parseType:
		return nil, nil, never, errClaims
	}

	if !c.exp.set {
		return nil, nil, never, errExpMissing
	}
	until := c.exp.t.Add(a.leeway)
	if !now.Before(until) {
		return nil, nil, never, errTokenExpired
	}
	if c.nbf.set && now.Before(c.nbf.t.Add(-a.leeway)) {
		return nil, nil, never, errNotYetValid
	}
	if c.iat.set && now.Before(c.iat.t.Add(-a.leeway)) {
		return nil, nil, never, errNotYetValid
	}
	if c.iss != key.pool.issuer {
		return nil, nil, never, errWrongIssuer
	}
	if c.tokenUse != a.tokenUse {
		return nil, nil, never, errWrongTokenUse
	}
	client := c.clientID
	if a.tokenUse == TokenUseID {
		client = c.aud
	}
	if a.clientIDs != nil {
		k := slices.Index(a.clientIDs, client)
		if k < 0 {
			return nil, nil, never, errWrongClient
		}
		client = a.clientIDs[k]
	}
	var scopes []string
	if c.scope != "" {
		scopes = strings.Fields(c.scope)
	}
	for _, s := range a.requiredScopes {
		if !slices.Contains(scopes, s) {
			return nil, nil, never, errMissingScope
		}
	}
	for _, g := range a.requiredGroups {
		if !slices.Contains(c.groups, g) {
			return nil, nil, never, errMissingGroup
		}
	}

	p := &ssotoken.Principal{
		Subject:    c.sub,
		Username:   c.username,
		ClientID:   client,
		TokenUse:   a.tokenUse,
		Issuer:     key.pool.issuer,
		Scopes:     scopes,
		Groups:     c.groups,
		Attributes: c.attrs,
		ExpiresAt:  c.exp.t,
		Claims:     []byte(payload),
	}
	if p.Username == "" {
		p.Username = c.cognitoUsername
	}
	return p, key, until, nil
}

// lookup returns the key named kid, fetching the key sets again when no
// pool has it.
func (a *Authenticator) lookup(ctx context.Context, kid string) (*keyEntry, error) {
	seen := a.snap.Load()
	if k := seen.byKID[kid]; k != nil {
		return k, nil
	}
	err := a.refetch(ctx, seen)
	if k := a.snap.Load().byKID[kid]; k != nil {
		return k, nil
	}
	if err != nil {
		return nil, ssotoken.Wrap(err)
	}
	if !a.allLoaded() {
		return nil, errJWKSUnavailable
	}
	return nil, errUnknownKey
}
