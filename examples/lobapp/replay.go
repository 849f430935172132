package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// replayStore returns the store in which c's Verifier redeems each TokenNo
// once, and the func that releases it: with -redis-addr a Store in the
// Redis that every instance shares, else a MemoryReplayStore of this
// process, bounded in all (-replay-entries) and per CIINo
// (-replay-entries-per-caller), so that one user's flood of tokens is
// refused 429 too_many_tokens and never fills the store for the others.
func (c appConfig) replayStore() (ssotoken.ReplayStore, func(), error) {
	if c.redisAddr == "" {
		return ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{
			MaxEntries: c.replayEntries, MaxEntriesPerCaller: c.replayPerCaller, Now: c.now,
		}), func() {}, nil
	}
	ro, err := redisOptions(c.redisAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("-redis-addr: %w", err)
	}
	client := redis.NewUniversalClient(ro)
	store, err := redisreplay.New(redisreplay.Config{Client: client, Now: c.now})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return store, func() { _ = client.Close() }, nil
}

// redisOptions parses -redis-addr: host:port, several of them (the nodes
// of a Redis Cluster), or a redis:// or rediss:// URL. It mirrors
// ssoserver's -issue-limit-redis: the client honours the redemption's
// deadline and fails fast, so that a Redis that does not answer costs a
// TokenNo its 502 rather than the request's whole time. No error repeats
// the value, which may hold a password.
func redisOptions(s string) (*redis.UniversalOptions, error) {
	u := &redis.UniversalOptions{
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
	}
	if strings.Contains(s, "://") {
		o, err := redis.ParseURL(s)
		if err != nil || !(strings.HasPrefix(s, "redis://") || strings.HasPrefix(s, "rediss://")) {
			return nil, errors.New("not a redis:// or rediss:// URL") // the URL may hold a password: not repeated
		}
		u.Addrs, u.Username, u.Password, u.DB, u.TLSConfig = []string{o.Addr}, o.Username, o.Password, o.DB, o.TLSConfig
		return u, nil
	}
	for i, addr := range strings.Split(s, ",") {
		// A user or password belongs in a redis:// URL: host:port with
		// an '@' is a URL without its scheme, and not repeated either.
		if _, _, err := net.SplitHostPort(addr); err != nil || strings.Contains(addr, "@") {
			return nil, fmt.Errorf("address %d of %d is not host:port: want host:port, host:port,... (a Redis Cluster's nodes) or a redis:// or rediss:// URL", i+1, strings.Count(s, ",")+1)
		}
		u.Addrs = append(u.Addrs, addr)
	}
	u.IsClusterMode = len(u.Addrs) > 1
	return u, nil
}

// replayStoreName names c's replay store for the log: "memory" or
// "redis" (never its address, which may hold a password).
func (c appConfig) replayStoreName() string {
	if c.redisAddr != "" {
		return "redis"
	}
	return "memory"
}
