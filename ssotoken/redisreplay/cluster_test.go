package redisreplay_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"net/http"
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
	"golang.org/x/time/rate"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/internal/redistest"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// The tests in this file run on a real Redis Cluster: the shared one at
// SSOKIT_REDIS_CLUSTER_ADDRS, and, for TestClusterFailover, one of its own
// (SSOKIT_REDIS_FAILOVER=1). .ci/run provides both.

// clusterOptions are the options of an instance's ClusterClient for the
// cluster at addrs, set as the package documentation asks of an operator:
//   - ContextTimeoutEnabled, so that the request's deadline bounds a
//     redemption (New refuses a client without it);
//   - ClusterStateReloadInterval left at go-redis's default (a minute),
//     on purpose: go-redis learns of a new master from a MOVED reply or by
//     reloading the slot map, and a killed master sends no MOVED; the
//     Store asks its cluster client for a reload after every failed
//     redemption, and the failover test shows that this alone recovers
//     within seconds (operators may still set a second, as
//     internal/redisaddr does);
//   - dial, read and write timeouts well under a request's deadline, so
//     that a dead or hung node fails one attempt, not the request;
//   - DialerRetries 1: the client's own retries (MaxRedirects) try again,
//     and the pool's default of five dials 100 ms apart would spend half a
//     second on each attempt at a dead node.
func clusterOptions(addrs []string) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                 addrs,
		ContextTimeoutEnabled: true,
		DialTimeout:           250 * time.Millisecond,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		DialerRetries:         1,
		MaxRedirects:          3, // go-redis's default: a MOVED after a failover takes one
	}
}

// newUniversalClient returns a client of the cluster at addrs as
// redis.NewUniversalClient makes it from several addresses (a
// *redis.ClusterClient), closed at the end of the test. Each call is a
// separate client with its own connections, as each instance of a linked
// LOB has.
func newUniversalClient(tb testing.TB, addrs []string) redis.UniversalClient {
	tb.Helper()
	c := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 addrs,
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
	})
	tb.Cleanup(func() { _ = c.Close() })
	_, isCluster := c.(*redis.ClusterClient)
	require.True(tb, isCluster, "NewUniversalClient with %d addresses makes a ClusterClient", len(addrs))
	return c
}

// clusterPrefix returns a key prefix of its own for the test, with tag
// before the random part (a hash tag such as "{lob01}" pins every key to
// one slot), and deletes its keys from every master at the end, so that
// tests and repeated runs never see each other's ids in the shared
// cluster.
func clusterPrefix(tb testing.TB, addrs []string, tag string) string {
	tb.Helper()
	name := strings.NewReplacer("/", ":", " ", "_").Replace(tb.Name())
	prefix := "ssokit-test:" + tag + name + ":" + rand.Text()[:8] + ":"
	tb.Cleanup(func() {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			keys, err := scanKeys(ctx, m, prefix)
			if err == nil && len(keys) > 0 {
				// One UNLINK per key: the keys of one master may lie in
				// different slots, and a command's keys must share one.
				pipe := m.Pipeline()
				for _, k := range keys {
					pipe.Unlink(ctx, k)
				}
				_, err = pipe.Exec(ctx)
			}
			return err
		})
		if err != nil {
			tb.Logf("deleting the keys under %s: %v", prefix, err)
		}
	})
	return prefix
}

// scanKeys returns the keys of one node that start with prefix.
func scanKeys(ctx context.Context, c *redis.Client, prefix string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// TestClusterRedeemOnceWithTTL: on a cluster, through the client
// redis.NewUniversalClient makes, an id is accepted once, and its key
// lives for the token's remaining lifetime plus the clock skew allowance.
func TestClusterRedeemOnceWithTTL(t *testing.T) {
	addrs := redistest.SharedCluster(t)
	client := newUniversalClient(t, addrs)
	prefix := clusterPrefix(t, addrs, "")
	now := time.Now()
	s := newStore(t, redisreplay.Config{Client: client, Prefix: prefix, MaxClockSkew: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()

	for _, tc := range []struct {
		name      string
		expiresAt time.Time
		wantTTL   time.Duration
	}{
		{"live", now.Add(10 * time.Minute), 11 * time.Minute},
		{"expired by the store's clock", now.Add(-time.Hour), time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := strings.ReplaceAll(tc.name, " ", "-")
			first, err := s.Redeem(ctx, id, tc.expiresAt)
			require.NoError(t, err)
			assert.True(t, first)
			first, err = s.Redeem(ctx, id, tc.expiresAt)
			require.NoError(t, err)
			assert.False(t, first, "second redemption")
			ttl, err := client.PTTL(ctx, prefix+id).Result()
			require.NoError(t, err)
			assert.InDelta(t, tc.wantTTL.Seconds(), ttl.Seconds(), 5)
		})
	}
}

// TestClusterSpreadsOverSlots: ids are keys of their own, spread over the
// slots of every master, so the cluster shares the load; a hash tag in
// Prefix ("{lob01}") puts every key of that prefix in one slot, on one
// master, which works, but unshared.
func TestClusterSpreadsOverSlots(t *testing.T) {
	const ids = 300
	addrs := redistest.SharedCluster(t)
	client := newUniversalClient(t, addrs)
	ctx := context.Background()
	var mu sync.Mutex
	masters := 0
	require.NoError(t, client.(*redis.ClusterClient).ForEachMaster(ctx, func(context.Context, *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		masters++
		return nil
	}))

	for _, tc := range []struct {
		name        string
		tag         string
		wantMasters int
	}{
		{"plain prefix", "", masters},
		{"hash tag in the prefix", "{lob01}", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := clusterPrefix(t, addrs, tc.tag)
			s := newStore(t, redisreplay.Config{Client: client, Prefix: prefix})
			exp := time.Now().Add(time.Hour)
			for i := range ids {
				first, err := s.Redeem(ctx, fmt.Sprint("id-", i), exp)
				require.NoError(t, err)
				require.True(t, first, "id %d", i)
			}
			for i := range ids {
				first, err := s.Redeem(ctx, fmt.Sprint("id-", i), exp)
				require.NoError(t, err)
				require.False(t, first, "id %d redeemed again", i)
			}

			perMaster := map[string]int{}
			require.NoError(t, client.(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
				keys, err := scanKeys(ctx, m, prefix)
				if len(keys) > 0 {
					mu.Lock()
					perMaster[m.Options().Addr] = len(keys)
					mu.Unlock()
				}
				return err
			}))
			total := 0
			for _, n := range perMaster {
				total += n
			}
			assert.Equal(t, ids, total, "one key per id")
			assert.Len(t, perMaster, tc.wantMasters, "masters holding keys: %v", perMaster)
		})
	}
}

// TestClusterInstancesRace: four instances, each its own client of the
// cluster, redeem the same 1,000 ids at once; each id is accepted exactly
// once, whichever master holds it.
func TestClusterInstancesRace(t *testing.T) {
	const instances, idsN, workers = 4, 1000, 4
	addrs := redistest.SharedCluster(t)
	prefix := clusterPrefix(t, addrs, "")
	stores := make([]*redisreplay.Store, instances)
	for i := range stores {
		stores[i] = newStore(t, redisreplay.Config{Client: newUniversalClient(t, addrs), Prefix: prefix})
	}
	exp := time.Now().Add(time.Hour)

	accepted := make([]atomic.Int32, idsN)
	var replayed atomic.Int64
	var unexpected errorLog
	var start, wg sync.WaitGroup
	start.Add(1)
	for _, s := range stores {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				for j := w; j < idsN; j += workers {
					first, err := s.Redeem(context.Background(), fmt.Sprint("id-", j), exp)
					switch {
					case err != nil:
						unexpected.add(err)
					case first:
						accepted[j].Add(1)
					default:
						replayed.Add(1)
					}
				}
			}()
		}
	}
	start.Done()
	wg.Wait()

	unexpected.check(t)
	for j := range accepted {
		if n := accepted[j].Load(); n != 1 {
			t.Errorf("id %d accepted %d times", j, n)
		}
	}
	assert.Equal(t, int64((instances-1)*idsN), replayed.Load(), "every other attempt is a replay")
}

// failoverPhase is where TestClusterFailover's cluster is.
type failoverPhase int32

const (
	steady       failoverPhase = iota // before the failover
	failingOver                       // CLUSTER FAILOVER is under way
	failedOver                        // the replica took over; nothing is down
	masterKilled                      // a master was killed (SIGKILL)
	phases
)

func (p failoverPhase) String() string {
	return [...]string{"before the failover", "during CLUSTER FAILOVER", "after the failover", "after the kill"}[p]
}

// failoverStats counts what TestClusterFailover's redemptions met.
type failoverStats struct {
	attempts, accepted, replayed atomic.Int64
	failed                       [phases]atomic.Int64 // failed closed, by phase
	status502, status504         atomic.Int64

	mu          sync.Mutex
	lastFailure time.Time // the end of the last redemption that failed closed
}

func (s *failoverStats) failure(phase failoverPhase, err error, at time.Time) {
	s.failed[phase].Add(1)
	switch httpadapter.StatusFor(err) {
	case http.StatusBadGateway:
		s.status502.Add(1)
	case http.StatusGatewayTimeout:
		s.status504.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.After(s.lastFailure) {
		s.lastFailure = at
	}
}

// TestClusterFailover is Redis as deployed, failing: four verifier
// instances, each with its own ClusterClient (clusterOptions) of a cluster
// of three masters and three replicas, redeem the same 1,000 tokens in
// parallel, at a steady pace, while a replica is promoted with CLUSTER
// FAILOVER and then another master is killed with SIGKILL. Every token is
// accepted at most once across all instances; a redemption Redis cannot
// answer fails closed (502 or 504) and is tried again later, as its user
// would; and once the replica of the killed master has taken over,
// redemptions succeed again, within a bound.
func TestClusterFailover(t *testing.T) {
	const (
		instances, tokensN, workers = 4, 1000, 4
		// Redemptions a second per instance: the walk through the tokens
		// lasts about 7 s, so that it spans the failover, the kill and the
		// recovery from it.
		pace = 150
		// The budget of one redemption, as a landing request's deadline.
		requestTimeout = time.Second
		// The bound on the time from the kill until redemptions succeed
		// again, with a node timeout of 1 s.
		recoveryBound = 15 * time.Second
	)
	cluster := redistest.StartCluster(t, redistest.ClusterConfig{NodeTimeout: time.Second})
	// go-redis leaves goroutines behind for up to a second after Close (a
	// pool's prober of a dead node sleeps a second between dials): wait for
	// them once the clients are closed, so that TestMain's check sees none.
	// Meanwhile go-redis's log, a line for every dial of the dead master,
	// is counted rather than printed.
	ignore := goleak.IgnoreCurrent()
	redisLog := &countingLog{}
	redis.SetLogger(redisLog)
	t.Cleanup(func() {
		assert.Eventually(t, func() bool { return goleak.Find(ignore) == nil }, 10*time.Second, 10*time.Millisecond,
			"the clients' goroutines end after Close")
		redis.SetLogger(stderrLog{log.New(os.Stderr, "redis: ", log.LstdFlags|log.Lshortfile)}) // go-redis's default
		t.Logf("go-redis logged %s", redisLog)
	})
	ring := testRing(t)
	tokens, refs := issueTokens(t, ring, tokensN)
	prefix := "ssokit-test:failover:" + rand.Text()[:8] + ":"

	verifiers := make([]*ssotoken.Verifier, instances)
	for i := range verifiers {
		c := redis.NewClusterClient(clusterOptions(cluster.Addrs()))
		t.Cleanup(func() { _ = c.Close() })
		verifiers[i] = newVerifier(t, ring, newStore(t, redisreplay.Config{Client: c, Prefix: prefix}))
	}

	var (
		stats      failoverStats
		phase      atomic.Int32
		accepted   = make([]atomic.Int32, tokensN)
		unexpected errorLog
		unresolved atomic.Int64
	)
	// The events are set off by the progress of the walk: the failover
	// after a quarter of the attempts, the kill after half.
	progress := []struct {
		at      int64
		reached chan struct{}
		once    sync.Once
	}{
		{at: instances * tokensN / 4, reached: make(chan struct{})},
		{at: instances * tokensN / 2, reached: make(chan struct{})},
	}
	runCtx, stop := context.WithTimeout(context.Background(), 40*time.Second)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }() // the workers end before the cleanups, even on a t.Fatal
	for _, v := range verifiers {
		lim := rate.NewLimiter(pace, 1)
		for w := range workers {
			// Every instance walks the tokens in the same order, so that
			// they race for each one. A token that failed closed goes to
			// the back of the worker's queue, to be tried again.
			var queue []int
			for j := w; j < tokensN; j += workers {
				queue = append(queue, j)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for len(queue) > 0 {
					if lim.Wait(runCtx) != nil {
						unresolved.Add(int64(len(queue)))
						return
					}
					j := queue[0]
					queue = queue[1:]
					ctx, cancel := context.WithTimeout(runCtx, requestTimeout)
					_, err := v.Verify(ctx, tokens[j])
					cancel()
					switch {
					case err == nil:
						accepted[j].Add(1)
						stats.accepted.Add(1)
					case ssotoken.CodeOf(err) == ssotoken.CodeTokenReplayed:
						stats.replayed.Add(1)
					case errors.Is(err, ssotoken.ErrUpstream) || errors.Is(err, ssotoken.ErrTimeout):
						stats.failure(failoverPhase(phase.Load()), err, time.Now())
						queue = append(queue, j)
					default:
						unexpected.add(err)
					}
					n := stats.attempts.Add(1)
					for i := range progress {
						if n >= progress[i].at {
							progress[i].once.Do(func() { close(progress[i].reached) })
						}
					}
				}
			}()
		}
	}
	waitFor := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-runCtx.Done():
			t.Fatalf("the redemptions never reached %s", what)
		}
	}

	// A replica is promoted as an operator does before maintenance: its
	// master stops taking writes until the replica has caught up, and the
	// replica takes over its slots.
	waitFor(progress[0].reached, "a quarter")
	promoted := cluster.ReplicaOf(t, cluster.Masters(t)[0])
	began := time.Now()
	phase.Store(int32(failingOver))
	cluster.Failover(t, promoted)
	phase.Store(int32(failedOver))
	t.Logf("CLUSTER FAILOVER on %s: took %v", promoted, time.Since(began).Round(time.Millisecond))

	// Another master dies: its replica takes over once the others have
	// not heard from it for the node timeout, and the instances learn of
	// it when they reload the slot map.
	waitFor(progress[1].reached, "half")
	var victim string
	for _, m := range cluster.Masters(t) {
		if m != promoted {
			victim = m
			break
		}
	}
	require.NotEmpty(t, victim)
	killedAt := time.Now()
	phase.Store(int32(masterKilled))
	cluster.Kill(t, victim)
	cluster.WaitServing(t)
	serving := time.Since(killedAt)

	wg.Wait()
	unexpected.check(t)
	require.Zero(t, unresolved.Load(), "redemptions still failing when the test gave up")

	// The security property: never accepted twice.
	burned := 0
	for j := range accepted {
		switch n := accepted[j].Load(); {
		case n > 1:
			t.Errorf("token %d (TokenRefNo %s) accepted %d times", j, refs[j], n)
		case n == 0:
			// Its SET was applied but the answer lost, at the kill: the
			// token is used up, and its holder got a 502.
			burned++
		}
	}
	assert.LessOrEqual(t, burned, instances*workers, "at most one redemption in flight per worker was lost")
	assert.Equal(t, int64(instances*tokensN), stats.accepted.Load()+stats.replayed.Load(),
		"in the end every instance accepted or refused as a replay each token")

	// Failing closed, then recovering.
	afterKill := stats.failed[masterKilled].Load()
	assert.Positive(t, afterKill, "the kill made redemptions fail closed")
	recovery := stats.lastFailure.Sub(killedAt)
	assert.Less(t, recovery, recoveryBound, "redemptions succeed again within the bound")

	var failed int64
	byPhase := make([]string, phases)
	for p := range phases {
		n := stats.failed[p].Load()
		failed += n
		byPhase[p] = fmt.Sprintf("%d %v", n, p)
	}
	t.Logf("killed master %s: its replica serves its slots %v after the kill; the last redemption failed closed %v after it, and all succeeded thereafter",
		victim, serving.Round(time.Millisecond), recovery.Round(time.Millisecond))
	t.Logf("%d attempts by %d instances on %d tokens: %d accepted, %d refused as replays, %d failed closed (%d with 502, %d with 504; %s); %d tokens used up by a lost answer",
		stats.attempts.Load(), instances, tokensN, stats.accepted.Load(), stats.replayed.Load(), failed,
		stats.status502.Load(), stats.status504.Load(), strings.Join(byPhase, ", "), burned)
}

// countingLog is a go-redis logger that counts the lines and keeps the
// first.
type countingLog struct {
	mu    sync.Mutex
	n     int
	first string
}

func (l *countingLog) Printf(_ context.Context, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		l.first = fmt.Sprintf(format, v...)
	}
	l.n++
}

func (l *countingLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return "nothing"
	}
	return fmt.Sprintf("%d lines, the first: %s", l.n, l.first)
}

// stderrLog is go-redis's default logger: to stderr, with its prefix.
type stderrLog struct{ l *log.Logger }

func (l stderrLog) Printf(_ context.Context, format string, v ...any) {
	_ = l.l.Output(2, fmt.Sprintf(format, v...))
}
