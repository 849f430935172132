package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/httpadapter/redislimit"
)

// redisOptions parses -issue-limit-redis: host:port, several of them (the
// nodes of a Redis Cluster), or a redis:// or rediss:// URL. The client
// honours the call's deadline and fails fast, so that a Redis that does
// not answer costs a call its 502 rather than its whole -timeout.
func redisOptions(s string) (*redis.UniversalOptions, error) {
	u := &redis.UniversalOptions{
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
	}
	if strings.Contains(s, "://") {
		o, err := redis.ParseURL(s)
		if err != nil {
			return nil, errors.New("not a redis:// or rediss:// URL") // the URL may hold a password: not repeated
		}
		u.Addrs, u.Username, u.Password, u.DB, u.TLSConfig = []string{o.Addr}, o.Username, o.Password, o.DB, o.TLSConfig
		return u, nil
	}
	for addr := range strings.SplitSeq(s, ",") {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("%q: want host:port, host:port,... or a redis:// URL", addr)
		}
		u.Addrs = append(u.Addrs, addr)
	}
	u.IsClusterMode = len(u.Addrs) > 1
	return u, nil
}

// issueLimiter returns the Limiter of o: none with -insecure-no-issue-limit,
// one in Redis with -issue-limit-redis (and the client's Close), else one
// in this process.
func issueLimiter(o *options) (httpadapter.Limiter, func(), error) {
	switch {
	case o.insecureNoIssueLimit:
		return nil, func() {}, nil
	case o.issueLimitRedis == "":
		l, err := httpadapter.NewMemoryLimiter(httpadapter.MemoryLimiterConfig{Limit: o.issueLimit()})
		return l, func() {}, err
	}
	ro, err := redisOptions(o.issueLimitRedis)
	if err != nil {
		return nil, nil, err
	}
	client := redis.NewUniversalClient(ro)
	l, err := redislimit.New(redislimit.Config{Client: client, Limit: o.issueLimit()})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return l, func() { _ = client.Close() }, nil
}
