package cognito

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// fetchLog collects OnFetch's events.
type fetchLog struct {
	mu     sync.Mutex
	events []ssotoken.FetchEvent
}

func (f *fetchLog) add(e ssotoken.FetchEvent) {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
}

func (f *fetchLog) all() []ssotoken.FetchEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ssotoken.FetchEvent(nil), f.events...)
}

func (f *fetchLog) results() []string {
	var out []string
	for _, e := range f.all() {
		out = append(out, e.Result)
	}
	return out
}

// waitFetches waits until n fetches have ended.
func waitFetches(t *testing.T, f *fetchLog, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(f.all()) >= n }, testDeadline, 5*time.Millisecond, "fetches: %v", f.results())
}

// A JWKS down at start: not ready, with the issuer and what failed; the
// keys arrive and it is ready; every fetch is counted, told to OnFetch,
// and the URL's query never shows.
func TestReadyAndStatsThroughAnOutage(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	fake.mode.Store(modeDown)
	var fetches fetchLog
	var logs lockedBuffer
	cfg := fake.config()
	cfg.JWKSURL += "?api_key=SECRET-QUERY"
	cfg.OnFetch = fetches.add
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	a := newRemote(t, cfg)

	waitFetches(t, &fetches, 1)
	err := a.Ready()
	require.Error(t, err)
	assert.ErrorIs(t, err, ssotoken.ErrKeysUnavailable)
	assert.Equal(t, ssotoken.CodeKeysUnavailable, ssotoken.CodeOf(err))
	assert.Contains(t, err.Error(), testIssuer)
	assert.Contains(t, err.Error(), "last fetch: HTTP 503")
	st := a.Stats()
	require.Len(t, st.Pools, 1)
	p := st.Pools[0]
	assert.Equal(t, testIssuer, p.Issuer)
	assert.Equal(t, fake.srv.URL+"/.well-known/jwks.json", p.URL, "no query")
	assert.False(t, p.Ready)
	assert.Zero(t, p.Keys)
	assert.True(t, p.LastOK.IsZero())
	assert.Equal(t, "HTTP 503", p.LastResult)
	assert.Equal(t, map[string]uint64{"HTTP 503": 1}, p.Fetches)

	fake.mode.Store(modeOK)
	require.Eventually(t, func() bool {
		_, err := a.Authenticate(ctxTimeout(t, testDeadline), sign(t, k.k1, "k1", accessClaims()))
		return err == nil
	}, testDeadline, testRefetch/2)
	require.NoError(t, a.Ready())
	waitFetches(t, &fetches, 2)
	p = a.Stats().Pools[0]
	assert.True(t, p.Ready)
	assert.Equal(t, 1, p.Keys)
	assert.Equal(t, testNow, p.LastOK, "by the Authenticator's clock")
	assert.Equal(t, ssotoken.FetchOK, p.LastResult)
	assert.Equal(t, uint64(1), p.Fetches[ssotoken.FetchOK])

	events := fetches.all()
	assert.Equal(t, ssotoken.FetchEvent{Issuer: testIssuer, URL: p.URL, Result: "HTTP 503", Keys: 0}, events[0])
	assert.Equal(t, ssotoken.FetchEvent{Issuer: testIssuer, URL: p.URL, Result: ssotoken.FetchOK, Keys: 1}, events[len(events)-1])
	assert.Equal(t, uint64(len(events)), p.Fetches[ssotoken.FetchOK]+p.Fetches["HTTP 503"], "one count per event")
	assert.NotContains(t, logs.String(), "SECRET-QUERY")

	// Down again: still ready, the last good keys stay, the failure counted.
	fake.mode.Store(modeGarbage)
	n := len(fetches.all())
	require.Eventually(t, func() bool { // an unknown kid fetches again, once RefetchInterval allows
		_, err = a.Authenticate(ctxTimeout(t, testDeadline), sign(t, k.k2, "k2", accessClaims()))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
		return len(fetches.all()) > n
	}, testDeadline, testRefetch/4)
	require.NoError(t, a.Ready())
	p = a.Stats().Pools[0]
	assert.Equal(t, ssotoken.FetchNotKeySet, p.LastResult)
	assert.Equal(t, 1, p.Keys)
	assert.Equal(t, testNow, p.LastOK)
}

// What a first fetch finds is what Ready says: a closed port, an empty
// set, a name that does not resolve.
func TestReadyNamesTheFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String() + "/jwks.json"
	require.NoError(t, ln.Close())
	empty := newFakeCognito(t, []byte(`{"keys":[]}`))
	for _, tt := range []struct{ name, url, want string }{
		{"connection refused", closed, ssotoken.FetchConnRefused},
		{"no usable key", empty.srv.URL + "/jwks.json", ssotoken.FetchNoUsableKey},
		{"name resolution", "http://nonexistent.invalid/jwks.json", ssotoken.FetchNameResolution},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var fetches fetchLog
			cfg := baseConfig()
			cfg.UserPoolID, cfg.Issuer, cfg.JWKSURL = "", testIssuer, tt.url
			cfg.FetchTimeout = 2 * time.Second
			cfg.OnFetch = fetches.add
			a := newRemote(t, cfg)
			waitFetches(t, &fetches, 1)
			got := fetches.all()[0].Result
			if tt.want == ssotoken.FetchNameResolution && got != tt.want {
				t.Skipf("the resolver does not refuse nonexistent.invalid at once here: %s", got)
			}
			assert.Equal(t, tt.want, got)
			err := a.Ready()
			assert.ErrorIs(t, err, ssotoken.ErrKeysUnavailable)
			assert.Contains(t, err.Error(), "(last fetch: "+tt.want+")")
		})
	}
}

// Before any fetch has ended, Ready says so; with two pools it names the
// one without keys only.
func TestReadyTwoPools(t *testing.T) {
	k := getKeys(t)
	up := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "k1")))
	slow := newFakeCognito(t, nil)
	slow.mode.Store(modeSlow)
	var fetches fetchLog
	cfg := up.config()
	cfg.Pools = []Pool{{Issuer: otherIssuer, JWKSURL: slow.srv.URL + "/jwks.json"}}
	cfg.OnFetch = fetches.add
	a := newRemote(t, cfg)
	waitFetches(t, &fetches, 1)
	err := a.Ready()
	require.Error(t, err)
	assert.Equal(t, "cognito: no key yet from issuer "+otherIssuer+" (no fetch has finished yet): "+ssotoken.ErrKeysUnavailable.Error(), err.Error())
	st := a.Stats()
	require.Len(t, st.Pools, 2)
	assert.Equal(t, []bool{true, false}, []bool{st.Pools[0].Ready, st.Pools[1].Ready})
	assert.Equal(t, otherIssuer, st.Pools[1].Issuer)
	assert.Empty(t, st.Pools[1].LastResult)
	assert.Nil(t, st.Pools[1].Fetches)
}

// A static Authenticator is ready from the start and was never fetched;
// the cache counts hits and misses.
func TestStatsStaticAndCache(t *testing.T) {
	a := newStatic(t, baseConfig())
	require.NoError(t, a.Ready())
	tok := sign(t, getKeys(t).k1, "k1", accessClaims())
	ctx := context.Background()
	for range 3 {
		_, err := a.Authenticate(ctx, tok)
		require.NoError(t, err)
	}
	_, err := a.Authenticate(ctx, tok[:len(tok)-4]+"AAAA")
	require.Error(t, err)
	_, err = a.Authenticate(ctx, "not-a-jwt")
	require.Error(t, err) // refused before the cache: not a lookup
	st := a.Stats()
	assert.Equal(t, []ssotoken.KeySetStats{{Issuer: testIssuer, Keys: 1, Ready: true}}, st.Pools)
	assert.Equal(t, uint64(2), st.CacheHits)
	assert.Equal(t, uint64(2), st.CacheMisses, "the first call and the forgery")
	assert.Equal(t, 1, st.CacheEntries)

	cfg := baseConfig()
	cfg.DisableCache = true
	off := newStatic(t, cfg)
	_, err = off.Authenticate(ctx, tok)
	require.NoError(t, err)
	st = off.Stats()
	assert.Zero(t, st.CacheHits+st.CacheMisses)
	assert.Zero(t, st.CacheEntries)
}

// OnFetch is not called once Close has returned, though jwkset's refresh
// goroutine may still be finishing.
func TestOnFetchNotAfterClose(t *testing.T) {
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
	var fetches fetchLog
	closed := make(chan struct{})
	cfg := fake.config()
	cfg.RefreshInterval = 5 * time.Millisecond
	cfg.OnFetch = func(e ssotoken.FetchEvent) {
		select {
		case <-closed:
			t.Errorf("OnFetch after Close: %+v", e)
		default:
		}
		fetches.add(e)
	}
	a, err := New(cfg)
	require.NoError(t, err)
	waitFetches(t, &fetches, 3)
	require.NoError(t, a.Close())
	close(closed)
	n := len(fetches.all())
	time.Sleep(50 * time.Millisecond)
	assert.Len(t, fetches.all(), n)
	assert.NotContains(t, strings.Join(fetches.results(), ","), ssotoken.FetchCanceled)
}
