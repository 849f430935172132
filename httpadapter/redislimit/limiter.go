// Package redislimit is an httpadapter.Limiter in Redis, so that every
// instance of a GenerateSSOToken service counts a caller's tokens against
// one limit. It is the generic cell rate algorithm of
// github.com/go-redis/redis_rate, one Lua script per call, and works on a
// single server, Sentinel, or a Redis Cluster (each caller's count is one
// key).
//
// It lives in a package of its own so that services that limit in memory
// never import go-redis.
package redislimit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// DefaultPrefix is the key prefix of a Limiter whose Config.Prefix is
// empty. A key is "rate:" (redis_rate's own prefix), the prefix, and the
// SHA-256 of the caller's key in base64url (43 characters), so that keys
// have one length whatever the subject and name no one.
const DefaultPrefix = "ssokit:issue:"

// Config configures a Limiter. Client and Limit are required.
type Config struct {
	// Client is the Redis every instance shares: a *redis.Client, a
	// failover (Sentinel) client or a *redis.ClusterClient. It must be
	// created with ContextTimeoutEnabled, so that the call's deadline
	// bounds each decision; New refuses one of these types without it.
	// The Limiter does not close it.
	Client redis.UniversalClient
	// Limit is each caller's allowance, for example
	// httpadapter.DefaultIssueLimit.
	Limit httpadapter.RateLimit
	// Prefix is put before every key. Empty means DefaultPrefix.
	Prefix string
}

// Limiter is an httpadapter.Limiter in Redis. It is safe for concurrent
// use.
type Limiter struct {
	client redis.UniversalClient
	rl     *redis_rate.Limiter
	limit  redis_rate.Limit
	prefix string
}

var _ httpadapter.Limiter = (*Limiter)(nil)

// New returns a Limiter for cfg, or an error if cfg is not usable. It does
// not contact Redis.
func New(cfg Config) (*Limiter, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("redislimit: Config.Client is required")
	case !contextTimeoutEnabled(cfg.Client):
		return nil, errors.New("redislimit: Config.Client must have ContextTimeoutEnabled set in its options, so that the call's deadline bounds each decision")
	}
	if err := cfg.Limit.Validate(); err != nil {
		return nil, fmt.Errorf("redislimit: Config.Limit: %w", err)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	return &Limiter{
		client: cfg.Client,
		rl:     redis_rate.NewLimiter(cfg.Client),
		limit:  redis_rate.Limit{Rate: cfg.Limit.Rate, Period: cfg.Limit.Period, Burst: cfg.Limit.Burst},
		prefix: cfg.Prefix,
	}, nil
}

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

// Key returns the Redis key under which key is counted.
func (l *Limiter) Key(key string) string { return "rate:" + l.name(key) }

// name is key's name for redis_rate, which puts "rate:" before it.
func (l *Limiter) name(key string) string {
	sum := sha256.Sum256([]byte(key))
	return l.prefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// Allow implements httpadapter.Limiter. When Redis cannot answer it fails
// (the Handler then answers 502, or 504 past the call's deadline): the
// limit fails closed.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	res, err := l.rl.Allow(ctx, l.name(key), l.limit)
	if cc, ok := l.client.(*redis.ClusterClient); ok && err != nil {
		// A master that died sends no MOVED: reload the slot map now (in
		// the background, coalesced), not at the next periodic reload.
		cc.ReloadState(context.Background())
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return false, 0, ssotoken.Wrap(ctx.Err())
	case err != nil:
		return false, 0, err
	case res.Allowed == 0:
		return false, res.RetryAfter, nil
	}
	return true, 0, nil
}
