package redisreplay

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssokit/ssokit/ssotoken"
)

// DefaultPrefix is the key prefix of a Store whose Config.Prefix is empty.
// A key is the prefix and the id the Verifier redeems, the token's
// ssotoken.RedemptionID (43 characters of base64url).
const DefaultPrefix = "ssokit:redeemed:"

// maxClockSkew is the largest Config.MaxClockSkew accepted.
const maxClockSkew = 24 * time.Hour

// maxTTL bounds a key's lifetime (a hundred years), for an expiresAt far
// in the future.
const maxTTL = 100 * 365 * 24 * time.Hour

// CodeUnavailable is the code of a redemption refused because Redis could
// not answer (ErrUpstream, so 502 through httpadapter).
const CodeUnavailable = "replay_store_unavailable"

// Config configures a Store. Only Client is required.
type Config struct {
	// Client is the Redis that every instance of the linked LOB shares: a
	// *redis.Client, a failover (Sentinel) client, a *redis.ClusterClient
	// or a *redis.Ring. It must be created with ContextTimeoutEnabled, so
	// that the caller's context deadline bounds each redemption; New
	// refuses one of these types without it. The Store does not close it.
	// Required.
	Client redis.UniversalClient

	// Prefix is put before every id to make its key. Empty means
	// DefaultPrefix ("ssokit:redeemed:"). Give each issuer its own prefix
	// when the tokens of several issuers are redeemed in one Redis: two
	// issuers that sign the same claims in the same millisecond under the
	// same header (HS256 without kid, say) make tokens with the same
	// signing input, so the same id.
	Prefix string

	// MaxClockSkew is added to the lifetime of every key, so that an id is
	// still remembered while an instance whose clock is behind this one's
	// still accepts the token; a token already expired by this Store's
	// clock is remembered for MaxClockSkew. Zero means ssotoken.MaxLeeway
	// (five minutes); at most a day.
	MaxClockSkew time.Duration

	// InsecureFailOpen makes Redeem accept a token, unchecked, when Redis
	// cannot answer, instead of failing with CodeUnavailable: any token,
	// replayed or not, is then accepted for as long as Redis is down or
	// unreachable, and an attacker who can cut the link to Redis can replay
	// tokens at will. Leave it off wherever single use is a security
	// requirement; it is for deployments that prefer availability and use
	// single use only as a defence in depth. A context that is done still
	// fails the redemption (ErrTimeout).
	InsecureFailOpen bool

	// OnFailOpen is called with the cause of every redemption accepted
	// unchecked because of InsecureFailOpen, for logs and alerts; it must
	// be safe for concurrent use. Nil means a warning on slog.Default().
	OnFailOpen func(ctx context.Context, cause error)

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is a ssotoken.ReplayStore in Redis, shared by every instance of a
// linked LOB so that a token is redeemed once across all of them. Each
// redemption is one atomic SET key NX PX ttl, where the key is the prefix
// and the id (from a Verifier, the token's ssotoken.RedemptionID) and the
// TTL is the token's remaining lifetime plus MaxClockSkew. It is safe for
// concurrent use.
//
// Redis must keep the keys until they expire: run it with
// maxmemory-policy noeviction (Redis's default, not every managed
// service's), so that a full Redis refuses new redemptions rather than
// forget old ones; every key has a TTL, so a volatile-* policy evicts them.
type Store struct {
	client     redis.UniversalClient
	prefix     string
	skew       time.Duration
	failOpen   bool
	onFailOpen func(context.Context, error)
	now        func() time.Time
}

var _ ssotoken.ReplayStore = (*Store)(nil)

// New returns a Store for cfg, or an error if cfg is not usable.
func New(cfg Config) (*Store, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("redisreplay: Config.Client is required")
	case cfg.MaxClockSkew < 0 || cfg.MaxClockSkew > maxClockSkew:
		return nil, errors.New("redisreplay: Config.MaxClockSkew must be between 0 and 24h")
	case !contextTimeoutEnabled(cfg.Client):
		return nil, errors.New("redisreplay: Config.Client must have ContextTimeoutEnabled set in its options, so that the caller's context bounds each redemption")
	}
	cfg.Prefix = cmp.Or(cfg.Prefix, DefaultPrefix)
	cfg.MaxClockSkew = cmp.Or(cfg.MaxClockSkew, ssotoken.MaxLeeway)
	if cfg.OnFailOpen == nil {
		cfg.OnFailOpen = logFailOpen
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{
		client:     cfg.Client,
		prefix:     cfg.Prefix,
		skew:       cfg.MaxClockSkew,
		failOpen:   cfg.InsecureFailOpen,
		onFailOpen: cfg.OnFailOpen,
		now:        cfg.Now,
	}, nil
}

// contextTimeoutEnabled reports whether c honours context deadlines; for a
// client type it does not know, it trusts the caller.
func contextTimeoutEnabled(c redis.UniversalClient) bool {
	switch c := c.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// reloadClusterState asks a cluster client to reload the cluster's slot
// map after a failed command, in the background (go-redis coalesces the
// requests): a master that died sends no MOVED, and without this the
// client would learn of its replica's promotion only at its next periodic
// reload (ClusterStateReloadInterval, a minute by default).
func reloadClusterState(c redis.UniversalClient) {
	if cc, ok := c.(*redis.ClusterClient); ok {
		cc.ReloadState(context.Background())
	}
}

func logFailOpen(ctx context.Context, cause error) {
	slog.Default().WarnContext(ctx, "redisreplay: Redis unavailable, token accepted without a single-use check (InsecureFailOpen)", "error", cause)
}

// Redeem implements ssotoken.ReplayStore: it records id until expiresAt
// plus MaxClockSkew and reports whether this was its first redemption.
//
// It fails with ErrTimeout when ctx is done before Redis answers (a
// deadline on ctx bounds the wait; the client's ReadTimeout bounds a
// cancellation), and with ErrUpstream, code CodeUnavailable, when Redis
// cannot answer or refuses the write, unless InsecureFailOpen is set.
//
// A redemption whose answer was lost (the connection broke after Redis
// applied the SET) burns the token: it fails now, and the token is used
// thereafter. The client's own retries of such a SET are recognised, so
// that they do not report the token as replayed.
func (s *Store) Redeem(ctx context.Context, id string, expiresAt time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, ssotoken.Wrap(err)
	}
	ttl := expiresAt.Sub(s.now())
	if ttl < 0 {
		// Expired by this clock but accepted by the verifier's: the clocks
		// disagree. Remember the id for MaxClockSkew rather than not at all.
		ttl = 0
	}
	ttl = min(ttl, maxTTL-s.skew) + s.skew // no overflow, and a PX Redis accepts
	ms := int64((ttl + time.Millisecond - 1) / time.Millisecond)

	// The value is unique to this call, so that a SET which the client
	// retried after a lost answer can be told from a replay.
	nonce := rand.Text()
	key := s.prefix + id
	set := redis.NewStatusCmd(ctx, "set", key, nonce, "px", strconv.FormatInt(ms, 10), "nx")
	err := s.client.Process(ctx, set)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		// The key exists: a replay, unless an earlier attempt of this very
		// call set it. Whatever the GET answers, the token is not accepted
		// on a failure: the SET has shown that it was redeemed.
		get := redis.NewStringCmd(ctx, "get", key)
		err := s.client.Process(ctx, get)
		return err == nil && get.Val() == nonce, nil
	}
	reloadClusterState(s.client)
	if ctx.Err() != nil {
		return false, ssotoken.Wrap(ctx.Err())
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		// The socket deadline, which is ctx's, fired before ctx's timer.
		return false, ssotoken.Wrap(fmt.Errorf("%w: %w", context.DeadlineExceeded, err))
	}
	if s.failOpen {
		s.onFailOpen(ctx, err)
		return true, nil
	}
	return false, ssotoken.NewError(ssotoken.ErrUpstream, CodeUnavailable, "the token could not be checked for reuse", err)
}

// Ping reports whether Redis answers, for a readiness check
// (ssotoken.Pinger): nil, an ErrTimeout error when ctx ends first, or an
// ErrUpstream error with CodeUnavailable. It tells the truth with
// InsecureFailOpen too.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		if ctx.Err() != nil {
			return ssotoken.Wrap(ctx.Err())
		}
		return ssotoken.NewError(ssotoken.ErrUpstream, CodeUnavailable, "the replay store does not answer", err)
	}
	return nil
}

var _ ssotoken.Pinger = (*Store)(nil)
