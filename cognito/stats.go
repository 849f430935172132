package cognito

import (
	"fmt"
	"strings"

	"github.com/ssokit/ssokit/ssotoken"
)

// Stats are an Authenticator's figures at one moment, for a host's metrics
// (package cognito imports no metrics library): the key set of each pool
// and the verified-token cache.
type Stats struct {
	// Pools describes the key set of each configured pool, in the order
	// of the configuration (the pool of Config's own fields first, then
	// Config.Pools): usable keys held, whether one ever was, the end of
	// the last good fetch, the last result, and the fetches by result.
	Pools []ssotoken.KeySetStats
	// CacheHits counts the tokens answered from the verified-token cache
	// (no RSA operation), and CacheMisses those looked up and not found
	// there: verified cold, or refused. Both stay zero with DisableCache.
	CacheHits, CacheMisses uint64
	// CacheEntries is the number of tokens in the cache now.
	CacheEntries int
}

// Stats returns the Authenticator's figures now. It is cheap (atomic
// loads, and a short lock of each pool's fetch counts and each cache
// shard; never a lock that Authenticate waits on for long), allocates only
// the copy it returns, and is safe for concurrent use: call it when a
// metrics scrape asks. The token path pays one atomic add per lookup.
func (a *Authenticator) Stats() Stats {
	st := Stats{Pools: make([]ssotoken.KeySetStats, len(a.pools))}
	for i, p := range a.pools {
		counts, last, lastOK := p.fetches.Snapshot()
		st.Pools[i] = ssotoken.KeySetStats{
			Issuer:     p.issuer,
			URL:        p.url,
			Keys:       len(*p.store.keys.Load()),
			Ready:      p.loaded.Load(),
			LastOK:     lastOK,
			LastResult: last,
			Fetches:    counts,
		}
	}
	if a.cache != nil {
		st.CacheHits, st.CacheMisses = a.cache.counts()
		st.CacheEntries = a.cache.len()
	}
	return st
}

// Ready returns nil once every configured pool's keys have been fetched
// (at least one usable key each; a static Authenticator is ready from the
// start), for a readiness probe: until then tokens of a pool without keys
// fail with ssotoken.ErrKeysUnavailable (502). Its error wraps
// ssotoken.ErrKeysUnavailable and names each issuer still without keys
// and what its last fetch found ("HTTP 503", "timeout", "name
// resolution", "no usable key": see the ssotoken.Fetch constants). Once
// ready it stays ready: a later failed fetch keeps the last good keys
// (Stats' LastOK tells how old they are), and a later set without a
// usable key, which empties the pool, shows as Keys 0 in Stats. It is
// cheap, allocates nothing when ready, and is safe for concurrent use.
func (a *Authenticator) Ready() error {
	var missing []string
	for _, p := range a.pools {
		if !p.loaded.Load() {
			missing = append(missing, fmt.Sprintf("issuer %s (%s)", p.issuer, lastFetch(p.fetches.Last())))
		}
	}
	if missing == nil {
		return nil
	}
	return fmt.Errorf("cognito: no key yet from %s: %w", strings.Join(missing, "; "), ssotoken.ErrKeysUnavailable)
}

// lastFetch describes a pool's last fetch result for Ready's error.
func lastFetch(result string) string {
	if result == "" {
		return "no fetch has finished yet"
	}
	return "last fetch: " + result
}
