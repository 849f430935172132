package redislimit_test

import (
	"context"
	"crypto/rand"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/httpadapter/redislimit"
	"github.com/ssokit/ssokit/internal/redistest"
	"github.com/ssokit/ssokit/ssotoken"
)

// TestMain fails the run if the tests leave a goroutine behind, and says
// loudly when the tests of a Redis, or a Redis Cluster, are skipped.
func TestMain(m *testing.M) {
	flag.Parse() // for testing.Verbose
	redistest.WarnSkipped("httpadapter/redislimit", redistest.EnvAddr, redistest.EnvClusterAddrs)
	goleak.VerifyTestMain(m)
}

// targets are the Redis deployments the tests run on: a single server
// (SSOKIT_REDIS_ADDR) and a cluster (SSOKIT_REDIS_CLUSTER_ADDRS, its
// nodes' addresses separated by commas), as .ci/run starts them. Each
// test of a target that is not configured is skipped.
var targets = []struct {
	name, env string
}{
	{"single", "SSOKIT_REDIS_ADDR"},
	{"cluster", "SSOKIT_REDIS_CLUSTER_ADDRS"},
}

// newClient returns a client of the target, through redis.UniversalClient
// as a service would make one (several addresses make a cluster client),
// or skips the test.
func newClient(t *testing.T, env string) redis.UniversalClient {
	t.Helper()
	addrs := os.Getenv(env)
	if addrs == "" {
		t.Skipf("the Redis limiter tests need a Redis: set %s (or run .ci/run, which starts a server and a cluster)", env)
	}
	c := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 strings.Split(addrs, ","),
		IsClusterMode:         env == "SSOKIT_REDIS_CLUSTER_ADDRS",
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// prefix is a key prefix of the test's own, so that runs never share
// counts.
func prefix(t *testing.T) string {
	return "ssokit-test:" + strings.ReplaceAll(t.Name(), "/", ":") + ":" + rand.Text()[:8] + ":"
}

func TestLimiter(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			client := newClient(t, tg.env)
			ctx := context.Background()
			// One an hour, three at once: the refusal's wait is about an hour.
			limit := httpadapter.RateLimit{Rate: 1, Period: time.Hour, Burst: 3}
			l, err := redislimit.New(redislimit.Config{Client: client, Limit: limit, Prefix: prefix(t)})
			require.NoError(t, err)

			for i := range 3 {
				ok, retry, err := l.Allow(ctx, "alice")
				require.NoError(t, err)
				require.True(t, ok, "call %d is within the burst", i)
				assert.Zero(t, retry)
			}
			ok, retry, err := l.Allow(ctx, "alice")
			require.NoError(t, err)
			assert.False(t, ok)
			assert.InDelta(t, time.Hour.Seconds(), retry.Seconds(), 5, "refilled one an hour")

			ok, _, err = l.Allow(ctx, "bob")
			require.NoError(t, err)
			assert.True(t, ok, "another caller has its own count")

			// The count is in Redis under a digest of the caller's key.
			key := l.Key("alice")
			assert.Len(t, key, len("rate:")+len(prefix(t))+43)
			ttl, err := client.TTL(ctx, key).Result()
			require.NoError(t, err)
			assert.Positive(t, ttl, "every count expires")
			for _, k := range []string{key, l.Key("bob")} { // one at a time: in a cluster they live in different slots
				require.NoError(t, client.Del(ctx, k).Err())
			}
		})
	}
}

// TestLimiterSharedByInstances is a fleet: four instances, each with its
// own client, issue for the same callers in parallel. Together they allow
// exactly the burst per caller.
func TestLimiterSharedByInstances(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			const instances, callers, attempts, burst = 4, 20, 10, 5
			limit := httpadapter.RateLimit{Rate: 1, Period: time.Hour, Burst: burst}
			p := prefix(t)
			limiters := make([]*redislimit.Limiter, instances)
			for i := range limiters {
				l, err := redislimit.New(redislimit.Config{Client: newClient(t, tg.env), Limit: limit, Prefix: p})
				require.NoError(t, err)
				limiters[i] = l
			}
			var allowed [callers]atomic.Int32
			var wg sync.WaitGroup
			for _, l := range limiters {
				wg.Go(func() {
					for range attempts {
						for c := range callers {
							ok, _, err := l.Allow(context.Background(), "caller-"+string(rune('a'+c)))
							if assert.NoError(t, err) && ok {
								allowed[c].Add(1)
							}
						}
					}
				})
			}
			wg.Wait()
			for c := range callers {
				assert.EqualValues(t, burst, allowed[c].Load(), "caller %d", c)
			}
		})
	}
}

// TestLimiterThroughHandler: the GenerateSSOToken handler with the Redis
// limiter answers 429 with Retry-After once the caller's burst is used.
func TestLimiterThroughHandler(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			l, err := redislimit.New(redislimit.Config{
				Client: newClient(t, tg.env), Prefix: prefix(t),
				Limit: httpadapter.RateLimit{Rate: 60, Period: time.Minute, Burst: 2},
			})
			require.NoError(t, err)
			h := newHandler(t, l)
			var codes []int
			for range 3 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, newRequest())
				codes = append(codes, rec.Code)
				if rec.Code == http.StatusTooManyRequests {
					assert.Equal(t, "1", rec.Header().Get("Retry-After"))
					assert.Contains(t, rec.Body.String(), `"ErrorCode":"rate_limited"`)
				}
			}
			assert.Equal(t, []int{200, 200, 429}, codes)
		})
	}
}

func TestLimiterFailsClosed(t *testing.T) {
	// Nothing listens on port 1 of loopback.
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	l, err := redislimit.New(redislimit.Config{Client: client, Limit: httpadapter.DefaultIssueLimit})
	require.NoError(t, err)

	ok, _, err := l.Allow(context.Background(), "alice")
	assert.False(t, ok)
	require.Error(t, err)

	rec := httptest.NewRecorder()
	newHandler(t, l).ServeHTTP(rec, newRequest())
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	assert.Contains(t, rec.Body.String(), `"ErrorCode":"rate_limiter_unavailable"`)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = l.Allow(ctx, "alice")
	assert.ErrorIs(t, err, ssotoken.ErrTimeout, "a done context is a timeout, not an outage")
}

func TestNewValidates(t *testing.T) {
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	noTimeout := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = good.Close(); _ = noTimeout.Close() })
	tests := []struct {
		name string
		cfg  redislimit.Config
		want string
	}{
		{"no client", redislimit.Config{Limit: httpadapter.DefaultIssueLimit}, "Client is required"},
		{"no context timeouts", redislimit.Config{Client: noTimeout, Limit: httpadapter.DefaultIssueLimit}, "ContextTimeoutEnabled"},
		{"no limit", redislimit.Config{Client: good}, "Config.Limit"},
		{"no burst", redislimit.Config{Client: good, Limit: httpadapter.RateLimit{Rate: 1, Period: time.Second}}, "Config.Limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := redislimit.New(tt.cfg)
			assert.ErrorContains(t, err, tt.want)
			assert.Nil(t, l)
		})
	}
	l, err := redislimit.New(redislimit.Config{Client: good, Limit: httpadapter.DefaultIssueLimit})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(l.Key("x"), "rate:"+redislimit.DefaultPrefix))
}

// acceptAll authenticates every token as one user.
type acceptAll struct{}

func (acceptAll) Authenticate(context.Context, string) (*ssotoken.Principal, error) {
	return &ssotoken.Principal{Subject: "user-1", ClientID: "app", Attributes: map[string]string{"custom:ciino": "10001004"}}, nil
}

func newHandler(t *testing.T, l httpadapter.Limiter) http.Handler {
	t.Helper()
	key, err := ssotoken.NewHMACKey("", []byte("the redislimit tests' secret, 32 bytes"))
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(t, err)
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, Now: time.Now})
	require.NoError(t, err)
	h, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: acceptAll{}, Issuer: signer,
		Clients:    httpadapter.StaticRegistry{"client": {LOBs: []string{"01"}, AppClients: []string{"app"}}},
		CIINoClaim: "custom:ciino", Limiter: l,
	})
	require.NoError(t, err)
	return h
}

func newRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v2/get_sso_token", strings.NewReader(`{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`))
	r.Header.Set("x-api-version", "1.0.0")
	r.Header.Set("x-lob-client-id", "client")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer any")
	return r
}
