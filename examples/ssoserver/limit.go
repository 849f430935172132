package main

import (
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/httpadapter/redislimit"
	"github.com/ssokit/ssokit/internal/redisaddr"
)

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
	client, err := redisaddr.NewClient(o.issueLimitRedis)
	if err != nil {
		return nil, nil, err
	}
	l, err := redislimit.New(redislimit.Config{Client: client, Limit: o.issueLimit()})
	if err != nil {
		_ = client.Close()
		return nil, nil, err
	}
	return l, func() { _ = client.Close() }, nil
}
