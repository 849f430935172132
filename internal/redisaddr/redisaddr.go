// Package redisaddr parses the Redis address that ssoserver's
// -issue-limit-redis and lobapp's -redis-addr take, into client options
// that suit a call with a deadline, and makes the client.
package redisaddr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options parses s: host:port, several of them separated by commas (the
// nodes of a Redis Cluster), or a redis:// or rediss:// URL (with a user,
// a password, a database, TLS). The client honours the caller's deadline
// (ContextTimeoutEnabled) and fails fast: one retry of a broken
// connection, one retry of a refused dial, a second to read or write, so
// that a Redis that does not answer costs a call its 502 in about a
// second rather than its whole deadline. No error repeats s, which may
// hold a password.
func Options(s string) (*redis.UniversalOptions, error) {
	u := &redis.UniversalOptions{
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		MaxRetries:            1,
		DialerRetries:         1,
	}
	if strings.Contains(s, "://") {
		o, err := redis.ParseURL(s)
		if err != nil || !strings.HasPrefix(s, "redis://") && !strings.HasPrefix(s, "rediss://") {
			return nil, errors.New("not a redis:// or rediss:// URL")
		}
		u.Addrs, u.Username, u.Password, u.DB, u.TLSConfig = []string{o.Addr}, o.Username, o.Password, o.DB, o.TLSConfig
		return u, nil
	}
	n := strings.Count(s, ",") + 1
	for i, addr := range strings.Split(s, ",") {
		// A user or password belongs in a redis:// URL: host:port with an
		// '@' is a URL without its scheme, and is not repeated either.
		if _, _, err := net.SplitHostPort(addr); err != nil || strings.Contains(addr, "@") {
			return nil, fmt.Errorf("address %d of %d is not host:port: want host:port, host:port,... (a Redis Cluster's nodes) or a redis:// or rediss:// URL", i+1, n)
		}
		u.Addrs = append(u.Addrs, addr)
	}
	u.IsClusterMode = len(u.Addrs) > 1
	return u, nil
}

// NewClient returns the client of s (see Options): a *redis.Client for one
// server, a *redis.ClusterClient for a cluster's nodes. A cluster client
// reloads its slot map every second (go-redis's default is a minute): a
// killed master sends no MOVED, so with the default an instance would
// keep dialing it for up to a minute after its replica took over.
func NewClient(s string) (redis.UniversalClient, error) {
	o, err := Options(s)
	if err != nil {
		return nil, err
	}
	if !o.IsClusterMode {
		return redis.NewClient(o.Simple()), nil
	}
	co := o.Cluster()
	co.ClusterStateReloadInterval = ClusterStateReloadInterval
	return redis.NewClusterClient(co), nil
}

// ClusterStateReloadInterval is how often a cluster client of NewClient
// reloads the cluster's slot map.
const ClusterStateReloadInterval = time.Second

// LogTo sends go-redis's own log lines (a failed dial, a pool that gives
// up) to logger at Warn level, message "redis", the line in "detail",
// instead of go-redis's default of plain text on stderr, which breaks a
// JSON log. The setting is go-redis's, for the whole process.
func LogTo(logger *slog.Logger) {
	redis.SetLogger(slogPrinter{logger})
}

// slogPrinter is go-redis's Logging on an slog.Logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.l.WarnContext(ctx, "redis", "detail", fmt.Sprintf(format, v...))
}
