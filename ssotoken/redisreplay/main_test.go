package redisreplay_test

import (
	"context"
	"crypto/rand"
	"flag"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ssokit/ssokit/internal/redistest"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// TestMain fails the run if the tests leave a goroutine behind: every
// client and proxy they open must be closed. It says loudly when the tests
// that need a Redis, or a Redis Cluster, are skipped.
func TestMain(m *testing.M) {
	flag.Parse() // for testing.Verbose
	redistest.WarnSkipped("ssotoken/redisreplay", redistest.EnvAddr, redistest.EnvClusterAddrs)
	goleak.VerifyTestMain(m)
}

// redisAddr returns the address of the Redis the tests may use, or skips
// the test.
func redisAddr(tb testing.TB) string {
	tb.Helper()
	addr := os.Getenv("SSOKIT_REDIS_ADDR")
	if addr == "" {
		tb.Skip("redis tests need a Redis server: set SSOKIT_REDIS_ADDR=127.0.0.1:6379, or run .ci/run, which starts one")
	}
	return addr
}

// newClient returns a client of the Redis at addr, closed at the end of
// the test. Each call is a separate client with its own connections, as
// each instance of a linked LOB has.
func newClient(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
	})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix returns a key prefix of its own for the test, and deletes its
// keys at the end, so that tests and repeated runs never see each other's
// ids in a shared Redis.
func testPrefix(tb testing.TB, addr string) string {
	tb.Helper()
	name := strings.NewReplacer("/", ":", " ", "_").Replace(tb.Name())
	prefix := "ssokit-test:" + name + ":" + rand.Text()[:8] + ":"
	tb.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			c.Unlink(ctx, keys[:n]...)
			keys = keys[n:]
		}
	})
	return prefix
}

// testSecret is the HMAC secret shared by the issuer and every verifier.
var testSecret = []byte("a test secret of 32 bytes or more, shared")

// testRing returns the HMAC key ring of testSecret.
func testRing(tb testing.TB) *ssotoken.Keyring {
	tb.Helper()
	key, err := ssotoken.NewHMACKey("", testSecret)
	require.NoError(tb, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(tb, err)
	return ring
}

// issued numbers the tokens of issueTokens, across calls.
var issued atomic.Int64

// newSigner returns a default Signer (tokens of the API document's shape,
// without jti) on the real clock. Its clock reads a second behind while
// NewSigner runs, so the Signer's start-up second, in which it issues
// nothing, is already over.
func newSigner(tb testing.TB, ring *ssotoken.Keyring) *ssotoken.Signer {
	tb.Helper()
	var started atomic.Bool
	clock := func() time.Time {
		if started.Load() {
			return time.Now()
		}
		return time.Now().Add(-time.Second)
	}
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, Now: clock})
	require.NoError(tb, err)
	started.Store(true)
	return signer
}

// issueTokens mints n tokens for LOB "01" and returns them with their
// TokenRefNo values, checked to be distinct. Each has a CIINo of its own
// (the same request issued twice in a millisecond is the same token), and
// none has a jti.
func issueTokens(tb testing.TB, ring *ssotoken.Keyring, n int) (tokens, refs []string) {
	tb.Helper()
	signer := newSigner(tb, ring)
	seen := make(map[string]bool, n)
	for range n {
		resp, err := signer.Issue(context.Background(), ssotoken.Request{CIINo: strconv.FormatInt(10001004+issued.Add(1), 10), LOBId: "01", Functionality: "D"})
		require.NoError(tb, err)
		require.False(tb, seen[resp.TokenRefNo], "TokenRefNo issued twice")
		seen[resp.TokenRefNo] = true
		tokens = append(tokens, resp.TokenNo)
		refs = append(refs, resp.TokenRefNo)
	}
	return tokens, refs
}

// newVerifier returns a verifier of LOB "01" that redeems in store.
func newVerifier(tb testing.TB, ring *ssotoken.Keyring, store ssotoken.ReplayStore) *ssotoken.Verifier {
	tb.Helper()
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Leeway: 30 * time.Second, Replay: store})
	require.NoError(tb, err)
	return v
}

// newStore returns a Store over client, failing the test on error.
func newStore(tb testing.TB, cfg redisreplay.Config) *redisreplay.Store {
	tb.Helper()
	s, err := redisreplay.New(cfg)
	require.NoError(tb, err)
	return s
}
