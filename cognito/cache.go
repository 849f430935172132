package cognito

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// cacheEntry is one verified token.
type cacheEntry struct {
	p     *ssotoken.Principal
	until time.Time // exp + leeway: from then on the cold check fails too
	key   *keyEntry // the key that verified it; the entry dies with it
}

// cache remembers verified tokens by the SHA-256 of the whole token. It is
// split into shards, each under its own lock and holding at most perShard
// entries, so the whole holds at most the configured size.
type cache struct {
	shards   []cacheShard
	perShard int
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[[32]byte]*cacheEntry

	// Lookups, for Stats: counted beside the lock that the lookup takes
	// anyway, so a hit costs one more atomic add on a cache line it
	// already holds, and shards do not share one counter.
	hits, misses atomic.Uint64
	_            [16]byte // 64 bytes a shard
}

// evictScan is how many entries an insert into a full shard looks at for
// an expired one before it evicts the first it saw.
const evictScan = 8

// newCache returns a cache of at most size entries: 16 shards, or one when
// size is under 256, so that no shard is tiny.
func newCache(size int) *cache {
	n := 16
	if size < 16*16 {
		n = 1
	}
	c := &cache{shards: make([]cacheShard, n), perShard: size / n}
	for i := range c.shards {
		c.shards[i].m = make(map[[32]byte]*cacheEntry)
	}
	return c
}

func (c *cache) shard(sum *[32]byte) *cacheShard {
	return &c.shards[int(sum[0])%len(c.shards)]
}

// get returns the principal of a cached token that is still valid at now
// and whose key is still in its pool's key set. An entry found invalid is
// dropped.
func (c *cache) get(sum *[32]byte, now time.Time) (*ssotoken.Principal, bool) {
	s := c.shard(sum)
	s.mu.RLock()
	e := s.m[*sum]
	s.mu.RUnlock()
	if e == nil {
		s.misses.Add(1)
		return nil, false
	}
	if now.Before(e.until) && e.key.pool.store.entry(e.key.kid) == e.key {
		s.hits.Add(1)
		return e.p, true
	}
	s.misses.Add(1)
	s.mu.Lock()
	if s.m[*sum] == e {
		delete(s.m, *sum)
	}
	s.mu.Unlock()
	return nil, false
}

// put remembers a verified token. When the shard is full, an expired entry
// among the first evictScan it iterates over makes room, else the first
// one (Go's map iteration order is randomised, so this is a random
// eviction).
func (c *cache) put(sum *[32]byte, e *cacheEntry, now time.Time) {
	s := c.shard(sum)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[*sum]; !ok && len(s.m) >= c.perShard {
		var victim [32]byte
		i := 0
		for k, old := range s.m {
			if i == 0 {
				victim = k
			}
			if !now.Before(old.until) {
				victim = k
				break
			}
			if i++; i == evictScan {
				break
			}
		}
		delete(s.m, victim)
	}
	s.m[*sum] = e
}

// dropKeys drops the entries of tokens verified by the keys gone, which
// have left their key sets. (An entry that escapes, being put while this
// runs, is dropped by get.)
func (c *cache) dropKeys(gone []*keyEntry) {
	if len(gone) == 0 {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, e := range s.m {
			if slices.Contains(gone, e.key) {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
}

// counts returns the hits and misses of every shard.
func (c *cache) counts() (hits, misses uint64) {
	for i := range c.shards {
		hits += c.shards[i].hits.Load()
		misses += c.shards[i].misses.Load()
	}
	return hits, misses
}

// len returns the number of entries.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
