package cognito

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/limit"
	"github.com/ssokit/ssokit/ssotoken"
	"golang.org/x/time/rate"
)

// Authenticator validates AWS Cognito access or ID tokens: an
// ssotoken.Authenticator whose keys come from the user pools' JWKS through
// keyfunc and jwkset. It is safe for concurrent use. Close stops its
// background work.
type Authenticator struct {
	pools    []*pool
	gen      atomic.Uint64 // bumped whenever a pool's key set changes
	cache    *cache        // nil when off
	parser   *jwt.Parser
	headers  atomic.Pointer[map[string]jose.Header] // see knownHeaders
	maxBytes int

	tokenUse       string
	clientIDs      []string // nil: any client (InsecureSkipClientIDCheck)
	requiredScopes []string
	requiredGroups []string
	now            func() time.Time
	leeway         time.Duration
	check          func(context.Context, *ssotoken.Principal) error

	client          *http.Client // caps JWKS bodies
	fetchTimeout    time.Duration
	refreshInterval time.Duration
	refetchInterval time.Duration
	logger          *slog.Logger
	onFetch         func(ssotoken.FetchEvent)

	ctx    context.Context // the lifetime of background work, ended by Close
	cancel context.CancelFunc
	closed atomic.Bool
	wg     sync.WaitGroup
	hooks  sync.RWMutex // read-held while a fetch is counted and OnFetch runs
	hooked bool         // under hooks: Close has begun, count and tell no more
}

var _ ssotoken.Authenticator = (*Authenticator)(nil)

// New returns an Authenticator for cfg, or an error if cfg is incomplete or
// inconsistent. It never waits for the network and never fails because a
// JWKS cannot be fetched: the first fetch of each pool starts in the
// background, and requests that arrive before it ends wait for it (each
// within its own context). Call Close when done with the Authenticator.
func New(cfg Config) (*Authenticator, error) {
	a, err := newAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	for _, p := range a.pools {
		a.startFetch(p, true, 0, "")
	}
	a.wg.Add(1)
	go a.fetchUntilReady()
	return a, nil
}

// fetchUntilReady asks again, once per RefetchInterval, for the key set of
// every pool that has never had a usable key, until each has one or Close
// is called: a pool whose JWKS was down at start becomes ready without
// waiting for a token to ask for it (a load balancer that waits for
// readiness sends none). Its fetches count against the same limit as those
// of unknown kids.
func (a *Authenticator) fetchUntilReady() {
	defer a.wg.Done()
	for !a.allLoaded() {
		t := time.NewTimer(a.refetchInterval)
		select {
		case <-a.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		for _, p := range a.pools {
			if !p.loaded.Load() {
				a.startFetch(p, false, a.gen.Load(), "")
			}
		}
	}
}

// NewStatic returns an Authenticator whose only keys are those of the JWKS
// document jwks (the JSON that a pool serves at its JWKS URL), for tests and
// for hosts without network access. Nothing is ever fetched, so cfg names
// one pool whose JWKSURL is ignored, and cfg.Pools must be empty. Keys of an
// unsupported type are skipped, as when fetched; any other invalid key is
// an error, and so is a document left without a usable key
// (ErrNoUsableKey). Close is optional for a static Authenticator.
func NewStatic(cfg Config, jwks []byte) (*Authenticator, error) {
	if len(cfg.Pools) > 0 {
		return nil, errors.New("cognito: NewStatic takes one pool: Config.Pools must be empty")
	}
	if cfg.UserPoolID == "" && cfg.Issuer == "" {
		return nil, errors.New("cognito: NewStatic needs Config.UserPoolID or Config.Issuer")
	}
	keys, err := parseStatic(jwks)
	if err != nil {
		return nil, err
	}
	a, err := newAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	p := a.pools[0]
	p.jwksURL, p.url = "", ""
	_ = p.store.KeyReplaceAll(context.Background(), keys)
	if len(*p.store.keys.Load()) == 0 {
		_ = a.Close()
		return nil, ErrNoUsableKey
	}
	return a, nil
}

// ErrNoUsableKey is NewStatic's error for a JWKS document without a key
// that may verify a token ({"keys":[]}, say): an Authenticator made from
// it would refuse every token.
var ErrNoUsableKey = errors.New("cognito: the JWKS document holds no usable key (an RSA key of 2048 to 8192 bits under a kid, held once, whose use, alg and key_ops allow RS256 signatures)")

func newAuthenticator(cfg Config) (*Authenticator, error) {
	resolved, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Authenticator{
		parser:          jose.Parser([]string{jwt.SigningMethodRS256.Alg()}, cfg.Leeway, cfg.Now),
		maxBytes:        cfg.MaxTokenBytes,
		tokenUse:        cfg.TokenUse,
		clientIDs:       slices.Clone(cfg.ClientIDs),
		requiredScopes:  slices.Clone(cfg.RequiredScopes),
		requiredGroups:  slices.Clone(cfg.RequiredGroups),
		now:             cfg.Now,
		leeway:          cfg.Leeway,
		check:           cfg.Check,
		client:          limit.Client(cfg.HTTPClient, cfg.FetchTimeout, cfg.MaxJWKSBytes),
		fetchTimeout:    cfg.FetchTimeout,
		refreshInterval: cfg.RefreshInterval,
		logger:          cfg.Logger,
		onFetch:         cfg.OnFetch,
		ctx:             ctx,
		cancel:          cancel,
	}
	if !cfg.DisableCache {
		a.cache = newCache(cfg.CacheSize)
	}
	a.headers.Store(&map[string]jose.Header{})
	a.refetchInterval = cfg.RefetchInterval
	for _, rp := range resolved {
		a.pools = append(a.pools, a.newPool(rp.Issuer, rp.JWKSURL, rate.Every(cfg.RefetchInterval)))
	}
	return a, nil
}

// Close stops the background refresh and any fetch in progress, and waits
// for the fetches this package started, and an OnFetch call under way, to
// return (jwkset's refresh goroutine ends when it sees the cancellation;
// no key set is taken, and OnFetch is not called, after Close). The
// Authenticator keeps validating tokens with the keys it has, but fetches
// no more. Close is idempotent and always returns nil.
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
	a.hooks.Lock() // waits for an OnFetch under way; none starts after
	a.hooked = true
	a.hooks.Unlock()
	a.wg.Wait()
	return nil
}

// tokenBuf holds a copy of the token while it is hashed for the cache.
type tokenBuf struct{ b []byte }

var bufPool = sync.Pool{New: func() any { return &tokenBuf{b: make([]byte, 0, 4096)} }}

// maxPooledBuf is the largest buffer returned to the pool.
const maxPooledBuf = 64 << 10

// Authenticate validates token (the raw token, without "Bearer ") and
// returns the principal it names. The principal may come from the cache
// and be shared with other callers: treat it as read-only.
//
// The checks run in this order, and the first failure is returned:
//
//   - the token is not empty (ssotoken.ErrTokenMissing), at most
//     Config.MaxTokenBytes long (ErrTokenTooLarge), and three segments
//     (ErrTokenMalformed);
//   - the header: strict base64url JSON under the module's JSON policy,
//     without "crit" (ErrTokenMalformed), and without "jwk", "jku", "x5u" or
//     "x5c" (CodeEmbeddedKey); "alg" exactly RS256 (ErrAlgNotAllowed); "kid"
//     a non-empty string (CodeKIDMissing) naming a usable key of a
//     configured pool (ErrUnknownKey);
//   - the signature (ErrBadSignature);
//   - the claims under the JSON policy (ErrClaimsMalformed); "exp"
//     required (ErrExpMissing) and not past (ErrTokenExpired), "nbf" and
//     "iat" not in the future (ErrTokenNotYetValid), with Config.Leeway;
//   - "iss" exactly the issuer of the pool whose key verified the
//     signature (ErrWrongIssuer);
//   - "token_use" (CodeWrongTokenUse); "client_id" of an access token, or
//     "aud" of an ID token, in Config.ClientIDs (CodeWrongClient);
//   - the required scopes and groups (ErrForbidden,
//     ssotoken.CodeInsufficientScope);
//   - Config.Check (CodeCheckFailed, or the error it returned; see there).
//
// So a forged token is reported as a bad signature even when it is also
// expired or its claims break the policy. Only a payload that is not JSON
// at all, or not strict base64url, is reported as malformed before the
// signature is looked at (golang-jwt decodes the claims first).
//
// A "kid" that no pool's key set holds makes the JWKS of the pool named by
// the token's "iss" be fetched again (at most once per
// Config.RefetchInterval; concurrent callers share one fetch), and
// Authenticate waits for that fetch within ctx. A token whose "iss" names
// no pool is refused at once with ssotoken.ErrUnknownKey: it starts no
// fetch and spends no pool's allowance. While the named pool's keys have
// never been fetched, the error is ssotoken.ErrKeysUnavailable
// (ErrUpstream); when ctx ends while waiting, an ErrTimeout
// *ssotoken.Error.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*ssotoken.Principal, error) {
	switch {
	case token == "":
		return nil, ssotoken.ErrTokenMissing
	case len(token) > a.maxBytes:
		return nil, ssotoken.ErrTokenTooLarge
	case strings.Count(token, ".") != 2:
		return nil, ssotoken.ErrTokenMalformed
	}

	now := a.now()
	var sum [32]byte
	if a.cache != nil {
		buf := bufPool.Get().(*tokenBuf)
		buf.b = append(buf.b[:0], token...)
		sum = sha256.Sum256(buf.b)
		if cap(buf.b) <= maxPooledBuf {
			bufPool.Put(buf)
		}
		if p, ok := a.cache.get(&sum, now); ok {
			return a.finish(ctx, p)
		}
	}

	p, key, err := a.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if a.cache != nil && key != nil {
		a.cache.put(&sum, &cacheEntry{p: p, until: p.ExpiresAt.Add(a.leeway), key: key}, now)
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

// verify runs every check of a token that is not cached and returns its
// principal and the key that verified it.
func (a *Authenticator) verify(ctx context.Context, token string) (*ssotoken.Principal, *keyEntry, error) {
	c := &call{a: a, ctx: ctx, claims: newClaims()}
	if err := c.parse(token); err != nil {
		return nil, nil, err
	}
	cl := c.claims
	if cl.Issuer != c.pool.issuer {
		return nil, nil, ssotoken.ErrWrongIssuer
	}
	client, err := a.appClient(cl)
	if err != nil {
		return nil, nil, err
	}
	scopes := splitScope(cl.scope)
	if err := a.grants(scopes, cl.groups); err != nil {
		return nil, nil, err
	}
	p := &ssotoken.Principal{
		Subject:    cl.Subject,
		Username:   cmp.Or(cl.username, cl.cognitoUsername),
		ClientID:   client,
		TokenUse:   a.tokenUse,
		Issuer:     c.pool.issuer,
		Scopes:     scopes,
		Groups:     cl.groups,
		Attributes: cl.attrs,
		ExpiresAt:  time.Unix(cl.ExpiresAt, 0),
		Claims:     cl.Raw(),
	}
	return p, c.key, nil
}

// parse runs golang-jwt's parser over token: the header, the key lookup,
// the signature, then "exp", "nbf" and "iat". On success c.claims passed
// the JSON policy and c.pool holds the key.
func (c *call) parse(token string) error {
	a := c.a
	if !jose.Compact(token) { // on the cold path only: the cache holds compact tokens
		return ssotoken.ErrTokenMalformed
	}
	kf := jose.Keyfunc(a.parser, c.knownHeader, c.lookup)
	_, err := a.parser.ParseWithClaims(token, c.claims, func(t *jwt.Token) (any, error) {
		c.tok, c.stage = t, stageHeader
		return kf(t)
	})
	if err != nil {
		return a.parseError(c, token, err)
	}
	if c.claims.Decode() != nil { // golang-jwt's validator saw it; never trust a claim set that failed
		return ssotoken.ErrClaimsMalformed
	}
	if !c.known {
		a.remember(token, c.header)
	}
	return nil
}

// appClient checks the token's use and returns its app client:
// "client_id" of an access token, "aud" of an ID token when it is one
// string (as aws-jwt-verify requires), which must be one of
// Config.ClientIDs.
func (a *Authenticator) appClient(cl *claims) (string, error) {
	if cl.tokenUse != a.tokenUse {
		return "", errWrongTokenUse
	}
	client := cl.clientID
	if a.tokenUse == TokenUseID {
		client = cl.audString()
	}
	if a.clientIDs == nil {
		return client, nil
	}
	k := slices.Index(a.clientIDs, client)
	if k < 0 {
		return "", errWrongClient
	}
	return a.clientIDs[k], nil
}

// grants checks that scopes and groups hold every required scope and
// group.
func (a *Authenticator) grants(scopes, groups []string) error {
	for _, s := range a.requiredScopes {
		if !slices.Contains(scopes, s) {
			return errMissingScope
		}
	}
	for _, g := range a.requiredGroups {
		if !slices.Contains(groups, g) {
			return errMissingGroup
		}
	}
	return nil
}

// splitScope splits a "scope" claim on single spaces (RFC 6749 section
// 3.3: scope-tokens separated by SP; a tab or other white space is part of
// a token, not a separator). Empty tokens are dropped.
func splitScope(scope string) []string {
	if scope == "" {
		return nil
	}
	out := strings.Split(scope, " ")
	return slices.DeleteFunc(out, func(s string) bool { return s == "" })
}

// stage tells how far golang-jwt got with a token, for the error mapping.
type stage uint8

const (
	stageParse  stage = iota // before the key lookup: structure, JSON syntax, alg
	stageHeader              // jose.Keyfunc decodes the header under the policy
	stageLookup              // the header passed; the key is looked up
	stageVerify              // a key was found: the signature, then the claims
)

// call is the state of one cold check.
type call struct {
	a      *Authenticator
	ctx    context.Context
	tok    *jwt.Token
	claims *claims
	stage  stage
	header jose.Header
	known  bool      // header came from knownHeaders
	err    error     // the key lookup's failure
	key    *keyEntry // the key found (nil: found during a refresh, not cached)
	pool   *pool
}

// knownHeaders bounds the headers remembered as having passed the JSON
// policy. Cognito signs with a few headers ({"kid":...,"alg":"RS256"}, one
// per key); a header is remembered only once a token under it verified, so
// no forger can fill the map, and the map starts again when full.
const knownHeaders = 64

// knownHeader is jose.Keyfunc's known: a header segment that passed the
// policy in a verified token needs no second decoding. It looks the key
// up as lookup does; when the lookup fails, it returns no key, which
// golang-jwt's verifier refuses, and c.err is reported.
func (c *call) knownHeader(seg string) (any, bool) {
	h, ok := (*c.a.headers.Load())[seg]
	if !ok {
		return nil, false
	}
	c.known = true
	k, err := c.lookup(h)
	if err != nil {
		return nil, true
	}
	return k, true
}

// remember adds the header of a verified token to the known headers.
func (a *Authenticator) remember(token string, h jose.Header) {
	seg, _, _ := strings.Cut(token, ".")
	seg = strings.Clone(seg) // not the whole token's memory
	for {
		old := a.headers.Load()
		if _, ok := (*old)[seg]; ok {
			return
		}
		next := make(map[string]jose.Header, len(*old)+1)
		if len(*old) < knownHeaders {
			for k, v := range *old {
				next[k] = v
			}
		}
		next[seg] = h
		if a.headers.CompareAndSwap(old, &next) {
			return
		}
	}
}

// issuer is the token's "iss", to ask first for a kid that several pools
// hold. It decodes the claims before the signature, so it is asked only
// when there are several pools; a claim set that fails the policy names
// no issuer (and is refused after the signature).
func (c *call) issuer() string {
	if len(c.a.pools) < 2 {
		return ""
	}
	return c.claimedIssuer()
}

// lookup is the key lookup behind jose.Keyfunc: the header passed the
// policy; its alg is RS256 (the parser allows no other) and its kid must
// name a key.
func (c *call) lookup(h jose.Header) (any, error) {
	c.stage, c.header = stageLookup, h
	switch {
	case h.Alg != jwt.SigningMethodRS256.Alg():
		c.err = ssotoken.ErrAlgNotAllowed
	case h.Kid == "":
		c.err = errKIDMissing
	default:
		var pub any
		if pub, c.err = c.keyFor(h.Kid); c.err == nil {
			c.stage = stageVerify
			return pub, nil
		}
	}
	return nil, c.err
}

// keyFor returns the key named kid and sets c.key and c.pool, fetching
// the key sets again when no pool holds kid.
func (c *call) keyFor(kid string) (any, error) {
	a := c.a
	gen := a.gen.Load()
	if pub, ok := c.find(kid); ok {
		return pub, nil
	}
	// Only the pool that the token says issued it is fetched again: a
	// token naming no pool (or whose claims fail the policy) cannot verify
	// whatever a fetch brings, and must neither spend a pool's refetch
	// allowance nor wait for a fetch.
	p := a.poolOf(c.claimedIssuer())
	if p == nil {
		return nil, ssotoken.ErrUnknownKey
	}
	err := a.refetch(c.ctx, p, gen, kid)
	if pub, ok := c.find(kid); ok {
		return pub, nil
	}
	switch {
	case err != nil:
		return nil, ssotoken.Wrap(err)
	case !p.loaded.Load():
		return nil, ssotoken.ErrKeysUnavailable
	}
	return nil, ssotoken.ErrUnknownKey
}

// claimedIssuer is the token's "iss" before its signature is checked, or
// "" when its claims fail the policy.
func (c *call) claimedIssuer() string {
	if c.claims.Decode() != nil {
		return ""
	}
	return c.claims.Issuer
}
