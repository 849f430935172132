package redisaddr

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOptions: lobapp -redis-addr and ssoserver -issue-limit-redis take a server, a cluster's nodes or a
// redis:// or rediss:// URL; no error repeats it, as it may hold a
// password.
func TestOptions(t *testing.T) {
	for _, tt := range []struct {
		in             string
		addrs          []string
		cluster        bool
		user, password string
		db             int
		tls            bool
		err            string
	}{
		{in: "127.0.0.1:6379", addrs: []string{"127.0.0.1:6379"}},
		{in: "redis.internal:6379", addrs: []string{"redis.internal:6379"}},
		{in: "[::1]:6379", addrs: []string{"[::1]:6379"}},
		{in: "10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000", addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"}, cluster: true},
		{in: "redis://lob:s3cret@redis.internal:6380/2", addrs: []string{"redis.internal:6380"}, user: "lob", password: "s3cret", db: 2},
		{in: "rediss://:s3cret@redis.internal:6380", addrs: []string{"redis.internal:6380"}, password: "s3cret", tls: true},
		{in: "redis://:s3cret@redis.internal:port", err: "not a redis:// or rediss:// URL"},
		{in: "unix://:s3cret@/run/redis.sock", err: "not a redis:// or rediss:// URL"},
		{in: "https://s3cret@redis.internal", err: "not a redis:// or rediss:// URL"},
		{in: "lob:s3cret@redis.internal:6379", err: "address 1 of 1 is not host:port"},
		{in: "redis.internal", err: "address 1 of 1 is not host:port"},
		{in: "10.0.0.1:7000,", err: "address 2 of 2 is not host:port"},
		{in: "", err: "address 1 of 1 is not host:port"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			o, err := Options(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.NotContains(t, err.Error(), "s3cret", "the value may hold a password: never repeated")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.addrs, o.Addrs)
			assert.Equal(t, tt.cluster, o.IsClusterMode)
			assert.Equal(t, tt.user, o.Username)
			assert.Equal(t, tt.password, o.Password)
			assert.Equal(t, tt.db, o.DB)
			assert.Equal(t, tt.tls, o.TLSConfig != nil)
			assert.True(t, o.ContextTimeoutEnabled, "redisreplay and redislimit need it, and a call's deadline bounds Redis")
			assert.Positive(t, o.DialTimeout)
			assert.LessOrEqual(t, o.ReadTimeout, time.Second)
			assert.LessOrEqual(t, o.WriteTimeout, time.Second)
			assert.Equal(t, 1, o.MaxRetries, "fails fast")
		})
	}
}

func TestNewClient(t *testing.T) {
	one, err := NewClient("127.0.0.1:6379")
	require.NoError(t, err)
	defer one.Close()
	c, ok := one.(*redis.Client)
	require.True(t, ok, "one server: a *redis.Client, %T", one)
	assert.True(t, c.Options().ContextTimeoutEnabled)

	many, err := NewClient("127.0.0.1:7000,127.0.0.1:7001")
	require.NoError(t, err)
	defer many.Close()
	cc, ok := many.(*redis.ClusterClient)
	require.True(t, ok, "a cluster's nodes: a *redis.ClusterClient, %T", many)
	assert.Equal(t, time.Second, cc.Options().ClusterStateReloadInterval)
	assert.True(t, cc.Options().ContextTimeoutEnabled)
	assert.Equal(t, 1, cc.Options().DialerRetries)

	_, err = NewClient("nope")
	assert.Error(t, err)
}

// lockedBuffer is a strings.Builder that go-redis's goroutines may write
// while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogTo(t *testing.T) {
	var buf lockedBuffer
	LogTo(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { LogTo(slog.New(slog.DiscardHandler)) })
	// A client of a port where nothing listens logs its failed dial.
	c, err := NewClient("127.0.0.1:1")
	require.NoError(t, err)
	defer c.Close()
	require.Error(t, c.Ping(t.Context()).Err())
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), `"msg":"redis"`) }, 5*time.Second, 10*time.Millisecond)
	for l := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		assert.True(t, strings.HasPrefix(l, "{"), "every line is JSON: %s", l)
		assert.Contains(t, l, `"level":"WARN"`)
	}
}
