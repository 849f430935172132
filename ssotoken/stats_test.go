package ssotoken_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// rkFetches collects OnFetch's events.
type rkFetches struct {
	mu     sync.Mutex
	events []ssotoken.FetchEvent
}

func (f *rkFetches) add(e ssotoken.FetchEvent) {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
}

func (f *rkFetches) all() []ssotoken.FetchEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ssotoken.FetchEvent(nil), f.events...)
}

func (f *rkFetches) wait(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(f.all()) >= n }, rkDeadline, 5*time.Millisecond)
}

// A JWKS down at start: not ready, saying what failed; ready once a key
// arrives; a later set without a usable key empties the keys and is
// counted as such, and the RemoteKeys stays ready. Every fetch is counted
// and told to OnFetch, without the URL's query.
func TestRemoteKeysReadyAndStats(t *testing.T) {
	k := rkES256(t, "k1")
	f := newRKIssuer(t, rkSet(t, k.key))
	f.mode.Store(rkDown)
	clock := &rkClock{}
	var fetches rkFetches
	remote, log := rkRemote(t, f, clock, func(c *ssotoken.RemoteKeysConfig) {
		c.URL += "?api_key=SECRET-QUERY"
		c.OnFetch = fetches.add
	})
	v := rkVerifier(t, remote)
	ctx := rkCtx(t)
	fetches.wait(t, 1)

	err := remote.Ready()
	require.Error(t, err)
	assert.ErrorIs(t, err, ssotoken.ErrKeysUnavailable)
	assert.Contains(t, err.Error(), f.url()+" (last fetch: HTTP 500)")
	assert.ErrorIs(t, v.Ready(ctx), ssotoken.ErrKeysUnavailable, "the Verifier is not ready without keys")
	st := remote.Stats()
	assert.Equal(t, ssotoken.KeySetStats{URL: f.url(), LastResult: "HTTP 500", Fetches: map[string]uint64{"HTTP 500": 1}}, st)
	assert.Equal(t, []ssotoken.FetchEvent{{URL: f.url(), Result: "HTTP 500"}}, fetches.all())

	f.mode.Store(rkOK)
	clock.advance(ssotoken.DefaultRefetchInterval)
	_, err = v.Verify(ctx, k.token)
	require.NoError(t, err)
	require.NoError(t, remote.Ready())
	require.NoError(t, v.Ready(ctx))
	fetches.wait(t, 2)
	okAt := clock.now()
	st = remote.Stats()
	assert.Equal(t, ssotoken.KeySetStats{
		URL: f.url(), Keys: 1, Ready: true, LastOK: okAt, LastResult: ssotoken.FetchOK,
		Fetches: map[string]uint64{"HTTP 500": 1, ssotoken.FetchOK: 1},
	}, st)

	f.mode.Store(rkEmpty)
	clock.advance(ssotoken.DefaultRefetchInterval)
	_, err = v.Verify(ctx, rkForeign(t))
	rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	fetches.wait(t, 3)
	require.NoError(t, remote.Ready(), "it has had keys")
	st = remote.Stats()
	assert.Equal(t, 1, st.Keys, "an empty set is a failed fetch: the last good keys stay")
	assert.Equal(t, okAt, st.LastOK, "an empty set is no good fetch")
	assert.Equal(t, ssotoken.FetchNoUsableKey, st.LastResult)
	assert.Equal(t, ssotoken.FetchEvent{URL: f.url(), Result: ssotoken.FetchNoUsableKey}, fetches.all()[2])
	assert.NotContains(t, log.String(), "SECRET-QUERY")
}

func TestRemoteKeysZeroValueNotReady(t *testing.T) {
	var r *ssotoken.RemoteKeys
	assert.ErrorIs(t, r.Ready(), ssotoken.ErrKeysUnavailable)
	assert.Equal(t, ssotoken.KeySetStats{}, r.Stats())
	assert.ErrorIs(t, (&ssotoken.RemoteKeys{}).Ready(), ssotoken.ErrKeysUnavailable)
}

// storeFunc is a ReplayStore, and a Pinger when ping is set.
type storeFunc struct {
	redeem func(ctx context.Context) (bool, error)
}

func (s storeFunc) Redeem(ctx context.Context, _ string, _ time.Time) (bool, error) {
	return s.redeem(ctx)
}

type pingStore struct {
	storeFunc
	ping func(ctx context.Context) error
}

func (s pingStore) Ping(ctx context.Context) error { return s.ping(ctx) }

// Redemptions are counted by result and told to OnRedeem with the
// caller's context; tokens refused before the redemption are not.
func TestVerifierRedeemStats(t *testing.T) {
	ring := krRing(t, krHMAC(t, "", 'a'))
	signer := krSigner(t, ring, nil)
	issue := func(functionality, lob string) string {
		resp, err := signer.Issue(context.Background(), ssotoken.Request{CIINo: "10001004", LOBId: lob, Functionality: functionality})
		require.NoError(t, err)
		return resp.TokenNo
	}
	type ctxKey struct{}
	var mu sync.Mutex
	var results []ssotoken.RedeemResult
	newVerifier := func(store ssotoken.ReplayStore) *ssotoken.Verifier {
		v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
			Keys: ring, LOBId: "01", Now: krClock, Replay: store,
			OnRedeem: func(ctx context.Context, r ssotoken.RedeemResult) {
				assert.Equal(t, "request", ctx.Value(ctxKey{}), "the caller's context")
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			},
		})
		require.NoError(t, err)
		return v
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")

	memory := newVerifier(ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{MaxEntries: 1, Now: krClock}))
	a, b := issue("A", "01"), issue("B", "01")
	_, err := memory.Verify(ctx, a)
	require.NoError(t, err)
	_, err = memory.Verify(ctx, a)
	assert.ErrorIs(t, err, ssotoken.ErrTokenReplayed)
	_, err = memory.Verify(ctx, b)
	assert.Equal(t, ssotoken.CodeReplayStoreFull, ssotoken.CodeOf(err))
	_, err = memory.Verify(ctx, issue("C", "02")) // another LOB's: refused before the store
	assert.ErrorIs(t, err, ssotoken.ErrWrongLOB)
	assert.Equal(t, ssotoken.VerifierStats{Accepted: 1, Replayed: 1, StoreFull: 1}, memory.Stats())

	down := newVerifier(storeFunc{func(context.Context) (bool, error) { return false, errors.New("connection refused") }})
	_, err = down.Verify(ctx, a)
	assert.Equal(t, ssotoken.CodeReplayStore, ssotoken.CodeOf(err))
	slow := newVerifier(storeFunc{func(context.Context) (bool, error) { return false, context.DeadlineExceeded }})
	_, err = slow.Verify(ctx, a)
	assert.ErrorIs(t, err, ssotoken.ErrTimeout)
	assert.Equal(t, ssotoken.VerifierStats{StoreUnavailable: 1}, down.Stats())
	assert.Equal(t, ssotoken.VerifierStats{StoreUnavailable: 1}, slow.Stats())

	mu.Lock()
	assert.Equal(t, []ssotoken.RedeemResult{
		ssotoken.RedeemAccepted, ssotoken.RedeemReplayed, ssotoken.RedeemStoreFull,
		ssotoken.RedeemStoreUnavailable, ssotoken.RedeemStoreUnavailable,
	}, results)
	mu.Unlock()

	none := krVerifier(t, ring, "01") // no ReplayStore: no redemption
	_, err = none.Verify(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, ssotoken.VerifierStats{}, none.Stats())
}

// Ready: the keys, then the store's Ping when it has one.
func TestVerifierReady(t *testing.T) {
	ring := krRing(t, krHMAC(t, "", 'a'))
	ctx := context.Background()
	newVerifier := func(store ssotoken.ReplayStore) *ssotoken.Verifier {
		v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Replay: store})
		require.NoError(t, err)
		return v
	}
	never := storeFunc{func(context.Context) (bool, error) { return true, nil }}
	require.NoError(t, newVerifier(nil).Ready(ctx))
	require.NoError(t, newVerifier(ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{})).Ready(ctx))
	require.NoError(t, newVerifier(never).Ready(ctx), "a store that cannot be pinged is taken to answer")

	var _ ssotoken.Pinger = ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{})
	err := newVerifier(pingStore{never, func(context.Context) error { return errors.New("dial tcp: connection refused") }}).Ready(ctx)
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)
	assert.Equal(t, ssotoken.CodeReplayStore, ssotoken.CodeOf(err))
	assert.True(t, strings.Contains(err.Error(), "connection refused"), "the cause, for operators")

	err = newVerifier(pingStore{never, func(ctx context.Context) error { return context.DeadlineExceeded }}).Ready(ctx)
	assert.ErrorIs(t, err, ssotoken.ErrTimeout)

	own := ssotoken.NewError(ssotoken.ErrUpstream, "replay_store_unavailable", "Redis does not answer", nil)
	err = newVerifier(pingStore{never, func(context.Context) error { return own }}).Ready(ctx)
	assert.ErrorIs(t, err, own, "a store's own *Error is kept")
}
