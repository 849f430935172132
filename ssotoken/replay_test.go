package ssotoken

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replayT0 is the time the replay tests start at.
var replayT0 = time.Date(2025, 1, 20, 8, 49, 46, 756e6, time.UTC)

var replaySecret = []byte("the replay tests' secret, 32 bytes or more")

var replayReq = Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}

// replayStoreFunc adapts a function to ReplayStore.
type replayStoreFunc func(ctx context.Context, id string, expiresAt time.Time) (bool, error)

func (f replayStoreFunc) Redeem(ctx context.Context, id string, expiresAt time.Time) (bool, error) {
	return f(ctx, id, expiresAt)
}

// replayRecorder is a ReplayStore in front of a MemoryReplayStore that
// records every call.
type replayRecorder struct {
	next ReplayStore

	mu    sync.Mutex
	ids   []string
	exps  []time.Time
	calls int
}

func (r *replayRecorder) Redeem(ctx context.Context, id string, expiresAt time.Time) (bool, error) {
	r.mu.Lock()
	r.ids, r.exps, r.calls = append(r.ids, id), append(r.exps, expiresAt), r.calls+1
	r.mu.Unlock()
	return r.next.Redeem(ctx, id, expiresAt)
}

func (r *replayRecorder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func replayHMACKey(t testing.TB) *Key {
	t.Helper()
	k, err := NewHMACKey("", replaySecret)
	require.NoError(t, err)
	return k
}

// replaySetup returns a default Signer (tokens without jti, as in the API
// document) and a single-use Verifier for LOB 01 that share key and
// clock; the Signer's start-up second is over at the clock's time.
func replaySetup(t testing.TB, key *Key, store ReplayStore, clock *testClock) (*Signer, *Verifier) {
	t.Helper()
	ring, err := NewKeyring(key)
	require.NoError(t, err)
	s := newTestSignerOn(t, SignerConfig{Keys: ring}, clock)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Replay: store, Now: clock.Now})
	require.NoError(t, err)
	return s, v
}

// replayCIINo numbers the requests of replayIssue.
var replayCIINo atomic.Int64

// replayIssue issues a token for replayReq with a CIINo of its own: the
// same request issued twice in one millisecond is the same token (see
// TestVerifierReplaySameRequestSameMillisecond).
func replayIssue(t testing.TB, s *Signer) Response {
	t.Helper()
	req := replayReq
	req.CIINo = strconv.FormatInt(10001004+replayCIINo.Add(1), 10)
	resp, err := s.Issue(context.Background(), req)
	require.NoError(t, err)
	return resp
}

// replayMint signs c with key through the Signer's own code path; jti, when
// not nil, is written as the "jti" claim in place of c.ID.
func replayMint(t testing.TB, key *Key, c Claims, jti []byte) string {
	t.Helper()
	b := bufPool.Get().(*tokenBuf)
	defer bufPool.Put(b)
	tok, err := sign(b, key, &c, time.Time{}, jti)
	require.NoError(t, err)
	return tok
}

// replayClaims are valid claims for LOB 01, issued at at.
func replayClaims(at time.Time, jti string) Claims {
	return Claims{
		CIINo: "10001004", LOBId: "01", Functionality: "D", Date: at.UTC().Format(DateLayout),
		IssuedAt: at.Unix(), ExpiresAt: at.Unix() + 3600, ID: jti,
	}
}

// replayAltEncodings returns the other spellings of the base64url segment
// seg that a lenient decoder reads as the same bytes: its last character
// with different unused (padding) bits. A segment whose length is a
// multiple of 4 has none.
func replayAltEncodings(t testing.TB, seg string) []string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	require.NoError(t, err)
	var out []string
	for _, c := range alphabet {
		alt := seg[:len(seg)-1] + string(c)
		if alt == seg {
			continue
		}
		if got, err := base64.RawURLEncoding.DecodeString(alt); err == nil && bytes.Equal(got, raw) {
			out = append(out, alt)
		}
	}
	return out
}

func TestMemoryReplayStoreRedeemOnce(t *testing.T) {
	t.Parallel()
	clock := newTestClock(replayT0)
	s := NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})
	ctx := context.Background()
	exp := replayT0.Add(time.Hour)

	tests := []struct {
		name      string
		id        string
		expiresAt time.Time
		want      bool
		wantLen   int
	}{
		{name: "first redemption", id: "17373629860000000001", expiresAt: exp, want: true, wantLen: 1},
		{name: "second redemption", id: "17373629860000000001", expiresAt: exp, want: false, wantLen: 1},
		{name: "second redemption with a later expiry", id: "17373629860000000001", expiresAt: exp.Add(time.Hour), want: false, wantLen: 1},
		{name: "second redemption with an expiry already past", id: "17373629860000000001", expiresAt: replayT0.Add(-time.Hour), want: false, wantLen: 1},
		{name: "another id", id: "17373629860000000002", expiresAt: exp, want: true, wantLen: 2},
		{name: "an id that differs only in case is another id", id: "a", expiresAt: exp, want: true, wantLen: 3},
		{name: "upper case", id: "A", expiresAt: exp, want: true, wantLen: 4},
		{name: "empty id is an id like any other", id: "", expiresAt: exp, want: true, wantLen: 5},
		{name: "empty id again", id: "", expiresAt: exp, want: false, wantLen: 5},
	}
	// The steps share one store, so they run in order.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Redeem(ctx, tt.id, tt.expiresAt)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantLen, s.Len())
		})
	}
}

func TestMemoryReplayStoreExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		advance time.Duration // from replayT0, before "probe" is redeemed
		// wantA is what a second redemption of "a" (expiring at +10 s)
		// reports after the advance; wantLen is Len after it.
		wantA   bool
		wantLen int
	}{
		{name: "long before expiry", advance: time.Second, wantA: false, wantLen: 3},
		{name: "one nanosecond before expiry", advance: 10*time.Second - time.Nanosecond, wantA: false, wantLen: 3},
		{name: "at expiry the id is dropped", advance: 10 * time.Second, wantA: true, wantLen: 3},
		{name: "past both expiries", advance: 25 * time.Second, wantA: true, wantLen: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(replayT0)
			s := NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})
			for id, ttl := range map[string]time.Duration{"a": 10 * time.Second, "b": 20 * time.Second} {
				first, err := s.Redeem(ctx, id, replayT0.Add(ttl))
				require.NoError(t, err)
				require.True(t, first)
			}
			require.Equal(t, 2, s.Len())

			clock.Advance(tt.advance)
			// Len counts expired ids until a Redeem drops them.
			assert.Equal(t, 2, s.Len(), "expired ids are dropped by Redeem, not by the clock")

			first, err := s.Redeem(ctx, "probe", clock.Now().Add(time.Hour))
			require.NoError(t, err)
			require.True(t, first)

			// "a" is forgotten once expired, so it redeems again (a verifier
			// would have rejected its token as expired before asking).
			again, err := s.Redeem(ctx, "a", clock.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.Equal(t, tt.wantA, again)
			assert.Equal(t, tt.wantLen, s.Len())
		})
	}
}

// TestMemoryReplayStoreAlreadyExpired: an id whose expiry has passed by
// the store's clock (a verifier whose clock lags the store's still
// accepted it) is remembered for MaxLeeway, not forgotten, so that single
// use holds whatever the two clocks say.
func TestMemoryReplayStoreAlreadyExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name      string
		expiresAt time.Time
	}{
		{name: "expires now", expiresAt: replayT0},
		{name: "expired a nanosecond ago", expiresAt: replayT0.Add(-time.Nanosecond)},
		{name: "expired an hour ago", expiresAt: replayT0.Add(-time.Hour)},
		{name: "zero time", expiresAt: time.Time{}},
		{name: "Unix epoch", expiresAt: time.Unix(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(replayT0)
			s := NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})
			first, err := s.Redeem(ctx, "id", tt.expiresAt)
			require.NoError(t, err)
			assert.True(t, first)
			again, err := s.Redeem(ctx, "id", tt.expiresAt)
			require.NoError(t, err)
			assert.False(t, again, "the id is remembered")
			assert.Equal(t, 1, s.Len())

			clock.Set(replayT0.Add(MaxLeeway))
			first, err = s.Redeem(ctx, "id", tt.expiresAt)
			require.NoError(t, err)
			assert.True(t, first, "forgotten after MaxLeeway")
		})
	}
}

func TestMemoryReplayStoreClockAheadOfVerifier(t *testing.T) {
	// The verifier runs on the API document's date; the store on the wall
	// clock, years later. Single use must hold anyway.
	ring := testRing(t, testSecret)
	s, _ := newTestSigner(t, SignerConfig{Keys: ring}, seedTime)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: fixedClock(seedTime), Replay: NewMemoryReplayStore(MemoryReplayConfig{})})
	require.NoError(t, err)
	resp, err := s.Issue(context.Background(), Request{CIINo: "1", LOBId: "01", Functionality: "D"})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), resp.TokenNo)
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), resp.TokenNo)
	assert.Equal(t, CodeTokenReplayed, CodeOf(err))
}

func TestMemoryReplayStoreCapacity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newTestClock(replayT0)
	s := NewMemoryReplayStore(MemoryReplayConfig{MaxEntries: 3, Now: clock.Now})

	// Three ids, expiring at +10 s, +20 s and +30 s.
	for i := 1; i <= 3; i++ {
		first, err := s.Redeem(ctx, "id"+strconv.Itoa(i), replayT0.Add(time.Duration(i)*10*time.Second))
		require.NoError(t, err)
		require.True(t, first)
	}

	full := func(t *testing.T, id string) {
		t.Helper()
		first, err := s.Redeem(ctx, id, clock.Now().Add(time.Hour))
		require.Error(t, err)
		assert.False(t, first)
		assert.ErrorIs(t, err, ErrUpstream)
		assert.Equal(t, CodeReplayStoreFull, CodeOf(err))
		assert.Equal(t, ErrUpstream, KindOf(err))
		var e *Error
		if assert.ErrorAs(t, err, &e) {
			assert.Equal(t, CodeReplayStoreFull, e.Code())
		}
	}
	remembered := func(t *testing.T, id string) {
		t.Helper()
		first, err := s.Redeem(ctx, id, clock.Now().Add(time.Hour))
		require.NoError(t, err, "a known id is answered even when the store is full")
		assert.False(t, first, "%s was forgotten", id)
	}

	t.Run("full of unexpired ids refuses new ones", func(t *testing.T) {
		full(t, "id4")
		full(t, "id4") // and keeps refusing, without storing it
		assert.Equal(t, 3, s.Len())
	})
	t.Run("nothing is forgotten when full", func(t *testing.T) {
		remembered(t, "id1")
		remembered(t, "id2")
		remembered(t, "id3")
		assert.Equal(t, 3, s.Len())
	})
	t.Run("an already expired id still needs room", func(t *testing.T) {
		_, err := s.Redeem(ctx, "late", clock.Now().Add(-time.Second))
		assert.Equal(t, CodeReplayStoreFull, CodeOf(err))
	})
	t.Run("one expiry frees one slot", func(t *testing.T) {
		clock.Set(replayT0.Add(10 * time.Second))
		first, err := s.Redeem(ctx, "id4", clock.Now().Add(time.Hour))
		require.NoError(t, err)
		assert.True(t, first)
		full(t, "id5")
		remembered(t, "id2")
		remembered(t, "id3")
		remembered(t, "id4")
	})
	t.Run("all expired frees all", func(t *testing.T) {
		clock.Set(replayT0.Add(2 * time.Hour))
		for _, id := range []string{"id5", "id6", "id7"} {
			first, err := s.Redeem(ctx, id, clock.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.True(t, first, id)
		}
		assert.Equal(t, 3, s.Len())
		full(t, "id8")
	})
}

func TestMemoryReplayStoreDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     MemoryReplayConfig
		wantMax int
	}{
		{name: "zero config", cfg: MemoryReplayConfig{}, wantMax: DefaultReplayEntries},
		{name: "negative MaxEntries", cfg: MemoryReplayConfig{MaxEntries: -1}, wantMax: DefaultReplayEntries},
		{name: "explicit MaxEntries", cfg: MemoryReplayConfig{MaxEntries: 7}, wantMax: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewMemoryReplayStore(tt.cfg)
			assert.Equal(t, tt.wantMax, s.max)
			// A nil Now is time.Now: an id expiring in an hour is kept.
			first, err := s.Redeem(context.Background(), "live", time.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.True(t, first)
			first, err = s.Redeem(context.Background(), "live", time.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.False(t, first)
			assert.Equal(t, 1, s.Len())
		})
	}
}

func TestMemoryReplayStoreIgnoresDoneContext(t *testing.T) {
	t.Parallel()
	// Redeem never waits, so a done context does not make it fail.
	s := NewMemoryReplayStore(MemoryReplayConfig{Now: newTestClock(replayT0).Now})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	first, err := s.Redeem(ctx, "id", replayT0.Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, first)
}

func TestMemoryReplayStoreConcurrentSameID(t *testing.T) {
	t.Parallel()
	const (
		rounds     = 20
		goroutines = 50
	)
	clock := newTestClock(replayT0)
	s := NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})
	for round := range rounds {
		id := "round-" + strconv.Itoa(round)
		var wins, errs atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				first, err := s.Redeem(context.Background(), id, replayT0.Add(time.Hour))
				if err != nil {
					errs.Add(1)
				}
				if first {
					wins.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load(), "round %d", round)
		assert.Zero(t, errs.Load(), "round %d", round)
	}
	assert.Equal(t, rounds, s.Len())
}

// TestMemoryReplayStoreConcurrentManyIDs redeems many ids from many
// goroutines while the clock moves and expired ids are swept: every
// private id redeems once, every shared id exactly once over all
// goroutines.
func TestMemoryReplayStoreConcurrentManyIDs(t *testing.T) {
	t.Parallel()
	const (
		workers   = 8
		perWorker = 1000
		shared    = 100
	)
	clock := newTestClock(replayT0)
	s := NewMemoryReplayStore(MemoryReplayConfig{MaxEntries: workers*perWorker + shared, Now: clock.Now})
	ctx := context.Background()
	sharedWins := make([]atomic.Int32, shared)
	var privateFails, errs atomic.Int32

	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() { // the clock moves by up to 100 s while the workers run
		for i := 0; i < 1000; i++ {
			select {
			case <-done:
				return
			default:
				clock.Advance(100 * time.Millisecond)
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				// Private ids expire within seconds, so sweeps happen
				// throughout; shared ids outlive the run.
				id := fmt.Sprintf("w%d-%d", w, i)
				first, err := s.Redeem(ctx, id, replayT0.Add(time.Duration(i%20)*time.Second))
				if err != nil {
					errs.Add(1)
				}
				if !first {
					privateFails.Add(1)
				}
				k := (w*perWorker + i) % shared
				first, err = s.Redeem(ctx, "shared-"+strconv.Itoa(k), replayT0.Add(24*time.Hour))
				if err != nil {
					errs.Add(1)
				}
				if first {
					sharedWins[k].Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(done)

	assert.Zero(t, errs.Load())
	assert.Zero(t, privateFails.Load())
	for k := range sharedWins {
		assert.Equal(t, int32(1), sharedWins[k].Load(), "shared id %d", k)
	}
	assert.LessOrEqual(t, s.Len(), workers*perWorker+shared)
	assert.GreaterOrEqual(t, s.Len(), shared)
}

func TestVerifierReplaySingleUse(t *testing.T) {
	t.Parallel()
	clock := newTestClock(replayT0)
	store := NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})
	s, v := replaySetup(t, replayHMACKey(t), store, clock)
	ctx := context.Background()

	tok := replayIssue(t, s)
	other := replayIssue(t, s)

	c, err := v.Verify(ctx, tok.TokenNo)
	require.NoError(t, err)
	assert.Empty(t, c.ID, "the API document's tokens carry no jti")
	assert.Equal(t, tok.TokenRefNo[:10], strconv.FormatInt(c.IssuedAt, 10))

	for i := range 3 {
		c, err = v.Verify(ctx, tok.TokenNo)
		assert.Nil(t, c)
		assert.ErrorIs(t, err, ErrUnauthorized, "replay %d", i)
		assert.Equal(t, CodeTokenReplayed, CodeOf(err), "replay %d", i)
		assert.NotContains(t, err.Error(), tok.TokenNo)
	}

	// Another token is not affected.
	_, err = v.Verify(ctx, other.TokenNo)
	assert.NoError(t, err)
	assert.Equal(t, 2, store.Len())
}

// TestVerifierReplayParallel: one token presented 50
// times at once verifies exactly once.
func TestVerifierReplayParallel(t *testing.T) {
	t.Parallel()
	const (
		rounds     = 5
		goroutines = 50
	)
	clock := newTestClock(replayT0)
	store := NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})
	s, v := replaySetup(t, replayHMACKey(t), store, clock)
	for round := range rounds {
		tok := replayIssue(t, s).TokenNo
		var ok, replayed, other atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := v.Verify(context.Background(), tok)
				switch {
				case err == nil:
					ok.Add(1)
				case CodeOf(err) == CodeTokenReplayed && errors.Is(err, ErrUnauthorized):
					replayed.Add(1)
				default:
					other.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int32(1), ok.Load(), "round %d: successes", round)
		assert.Equal(t, int32(goroutines-1), replayed.Load(), "round %d: replays", round)
		assert.Zero(t, other.Load(), "round %d: other failures", round)
	}
}

// TestVerifierReplayAlternateEncoding: the same token
// spelled differently (a base64url last character with other unused
// bits, which a lenient decoder reads as the same bytes) is rejected, and
// the original still redeems exactly once.
func TestVerifierReplayAlternateEncoding(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	hsNoKid := replayHMACKey(t)
	hsKid, err := NewHMACKey("k1", replaySecret)
	require.NoError(t, err)
	es, err := NewSigningKey("es", ES256, ecKey)
	require.NoError(t, err)
	ed, err := NewSigningKey("ed", EdDSA, edKey)
	require.NoError(t, err)

	tests := []struct {
		name string
		key  *Key
	}{
		{name: "HS256 without kid", key: hsNoKid},
		{name: "HS256 with kid", key: hsKid},
		{name: "ES256", key: es},
		{name: "EdDSA", key: ed},
	}
	// What a re-spelled segment fails with: every segment is decoded
	// strictly (and the payload is covered by the signature as it is
	// spelled besides), so none of them reaches the replay store, whose
	// id is a digest of the header and payload as received.
	segCode := [3]string{CodeTokenMalformed, CodeTokenMalformed, CodeTokenMalformed}
	segName := [3]string{"header", "payload", "signature"}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(replayT0)
			store := NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})
			s, v := replaySetup(t, tt.key, store, clock)
			ctx := context.Background()
			tok := replayIssue(t, s).TokenNo
			parts := strings.Split(tok, ".")
			require.Len(t, parts, 3)

			type variant struct{ token, code, what string }
			var alts []variant
			for i, seg := range parts {
				segAlts := replayAltEncodings(t, seg)
				if i == 2 {
					// 32- and 64-byte signatures always leave unused bits.
					require.NotEmpty(t, segAlts, "signature %q has no alternate spelling", seg)
				}
				for _, alt := range segAlts {
					p := append([]string(nil), parts...)
					p[i] = alt
					alts = append(alts, variant{strings.Join(p, "."), segCode[i], segName[i] + " " + alt[len(alt)-1:]})
				}
			}

			check := func(phase string) {
				for _, alt := range alts {
					c, err := v.Verify(ctx, alt.token)
					assert.Nil(t, c)
					assert.ErrorIs(t, err, ErrUnauthorized, "%s: %s", phase, alt.what)
					assert.Equal(t, alt.code, CodeOf(err), "%s: %s", phase, alt.what)
				}
			}
			check("before the original")
			assert.Zero(t, store.Len(), "rejected spellings must not be redeemed")

			_, err := v.Verify(ctx, tok)
			require.NoError(t, err, "the original verifies once")
			_, err = v.Verify(ctx, tok)
			assert.Equal(t, CodeTokenReplayed, CodeOf(err))
			check("after the original")
			assert.Equal(t, 1, store.Len())
		})
	}
}

// TestVerifierReplayECDSAMalleability: an ES256 signature (r, s) has a
// twin (r, n-s) that is just as valid, so the same token can be presented
// under a second, genuinely different signature. Replay is keyed on the
// signing input, not on the whole token, so the twin (of a token without
// jti, as the API document's are) is caught whichever is presented first.
func TestVerifierReplayECDSAMalleability(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	key, err := NewSigningKey("es", ES256, ecKey)
	require.NoError(t, err)

	twin := func(t *testing.T, tok string) string {
		i := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
		require.NoError(t, err)
		require.Len(t, sig, 64)
		n := elliptic.P256().Params().N
		s := new(big.Int).SetBytes(sig[32:])
		out := append([]byte(nil), sig[:32]...)
		out = append(out, new(big.Int).Sub(n, s).FillBytes(make([]byte, 32))...)
		require.NotEqual(t, sig, out)
		return tok[:i+1] + base64.RawURLEncoding.EncodeToString(out)
	}

	t.Run("without single use both signatures verify", func(t *testing.T) {
		t.Parallel()
		clock := newTestClock(replayT0)
		s, v := replaySetup(t, key, nil, clock)
		tok := replayIssue(t, s).TokenNo
		_, err := v.Verify(context.Background(), tok)
		require.NoError(t, err)
		_, err = v.Verify(context.Background(), twin(t, tok))
		assert.NoError(t, err, "ECDSA twin signature")
	})
	for _, twinFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("single use, twin first %v", twinFirst), func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(replayT0)
			store := NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})
			s, v := replaySetup(t, key, store, clock)
			tok := replayIssue(t, s).TokenNo
			require.NotContains(t, string(segment(t, tok, 1)), `"jti"`)
			first, second := tok, twin(t, tok)
			require.NotEqual(t, first, second, "two spellings of the token")
			assert.Equal(t, RedemptionID(first), RedemptionID(second), "one redemption id")
			if twinFirst {
				first, second = second, first
			}
			_, err := v.Verify(context.Background(), first)
			require.NoError(t, err)
			_, err = v.Verify(context.Background(), second)
			assert.ErrorIs(t, err, ErrUnauthorized)
			assert.Equal(t, CodeTokenReplayed, CodeOf(err))
		})
	}
}

func TestVerifierReplayStoreFailures(t *testing.T) {
	t.Parallel()
	errRedis := errors.New("redis: connection refused")
	blockTimeout := 50 * time.Millisecond

	tests := []struct {
		name     string
		store    replayStoreFunc
		timeout  time.Duration // of the Verify context; 0 means none
		kind     Kind
		code     string
		wantWrap error // also found in the chain, when set
	}{
		{
			name:  "arbitrary error",
			store: func(context.Context, string, time.Time) (bool, error) { return false, errRedis },
			kind:  ErrUpstream, code: CodeReplayStore, wantWrap: errRedis,
		},
		{
			name:  "error that claims first redemption fails closed",
			store: func(context.Context, string, time.Time) (bool, error) { return true, errRedis },
			kind:  ErrUpstream, code: CodeReplayStore, wantWrap: errRedis,
		},
		{
			name: "wrapped arbitrary error",
			store: func(context.Context, string, time.Time) (bool, error) {
				return false, fmt.Errorf("store: %w", errRedis)
			},
			kind: ErrUpstream, code: CodeReplayStore, wantWrap: errRedis,
		},
		{
			name:  "deadline exceeded",
			store: func(context.Context, string, time.Time) (bool, error) { return false, context.DeadlineExceeded },
			kind:  ErrTimeout, code: CodeDeadlineExceeded, wantWrap: context.DeadlineExceeded,
		},
		{
			name: "wrapped deadline exceeded",
			store: func(context.Context, string, time.Time) (bool, error) {
				return false, fmt.Errorf("redis: i/o: %w", context.DeadlineExceeded)
			},
			kind: ErrTimeout, code: CodeDeadlineExceeded, wantWrap: context.DeadlineExceeded,
		},
		{
			name:  "canceled",
			store: func(context.Context, string, time.Time) (bool, error) { return false, context.Canceled },
			kind:  ErrTimeout, code: CodeCanceled, wantWrap: context.Canceled,
		},
		{
			name: "blocks until the context is done",
			store: func(ctx context.Context, _ string, _ time.Time) (bool, error) {
				select {
				case <-ctx.Done():
					return false, ctx.Err()
				case <-time.After(10 * time.Second):
					return false, errors.New("test store: the context was never done")
				}
			},
			timeout: blockTimeout,
			kind:    ErrTimeout, code: CodeDeadlineExceeded, wantWrap: context.DeadlineExceeded,
		},
		{
			name: "blocks, then says first after the deadline",
			store: func(ctx context.Context, _ string, _ time.Time) (bool, error) {
				<-ctx.Done()
				return true, ctx.Err()
			},
			timeout: blockTimeout,
			kind:    ErrTimeout, code: CodeDeadlineExceeded, wantWrap: context.DeadlineExceeded,
		},
		{
			name: "store's own *Error passes through",
			store: func(context.Context, string, time.Time) (bool, error) {
				return false, errReplayFull
			},
			kind: ErrUpstream, code: CodeReplayStoreFull,
		},
		{
			name:  "not first",
			store: func(context.Context, string, time.Time) (bool, error) { return false, nil },
			kind:  ErrUnauthorized, code: CodeTokenReplayed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(replayT0)
			s, v := replaySetup(t, replayHMACKey(t), tt.store, clock)
			tok := replayIssue(t, s).TokenNo

			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			c, err := v.Verify(ctx, tok)
			elapsed := time.Since(start)

			require.Error(t, err, "a failing store must not let the token through")
			assert.Nil(t, c)
			assert.ErrorIs(t, err, tt.kind)
			assert.Equal(t, tt.kind, KindOf(err))
			assert.Equal(t, tt.code, CodeOf(err))
			var e *Error
			assert.ErrorAs(t, err, &e)
			if tt.wantWrap != nil {
				assert.ErrorIs(t, err, tt.wantWrap)
			}
			assert.NotContains(t, err.Error(), tok)
			assert.NotContains(t, err.Error(), string(replaySecret))
			assert.NotContains(t, MessageOf(err), "redis")
			assert.Less(t, elapsed, 5*time.Second, "Verify must return once its context is done")
		})
	}
}

// TestVerifierReplayRedeemArguments checks what the Verifier asks the
// store: the token's jti, kept until exp plus leeway.
func TestVerifierReplayRedeemArguments(t *testing.T) {
	t.Parallel()
	ring, err := NewKeyring(replayHMACKey(t))
	require.NoError(t, err)
	s, clock := newTestSigner(t, SignerConfig{Keys: ring, TTL: 10 * time.Minute}, replayT0)
	rec := &replayRecorder{next: NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})}
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Replay: rec, Now: clock.Now, Leeway: 30 * time.Second})
	require.NoError(t, err)

	resp := replayIssue(t, s)
	_, err = v.Verify(context.Background(), resp.TokenNo)
	require.NoError(t, err)
	require.Equal(t, 1, rec.Calls())
	// The id is the SHA-256 of the signing input, header.payload as
	// received, in base64url without padding.
	input := resp.TokenNo[:strings.LastIndexByte(resp.TokenNo, '.')]
	sum := sha256.Sum256([]byte(input))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), rec.ids[0])
	assert.Equal(t, RedemptionID(resp.TokenNo), rec.ids[0])
	assert.Len(t, rec.ids[0], RedemptionIDLen)
	assert.True(t, rec.exps[0].Equal(time.Unix(replayT0.Unix(), 0).Add(10*time.Minute+30*time.Second)), "expiresAt %v", rec.exps[0])

	// Within leeway after exp the token still verifies, so the store must
	// still remember it then.
	clock.Set(time.Unix(replayT0.Unix(), 0).Add(10*time.Minute + 29*time.Second))
	_, err = v.Verify(context.Background(), resp.TokenNo)
	assert.Equal(t, CodeTokenReplayed, CodeOf(err))
}

// TestVerifierReplayOnlyAfterAllChecks: the store is asked only for a
// token that passed every other check, so a forged, expired or misdirected
// token cannot burn the genuine one, not even a forgery of its very claims
// (the same signing input, so the same RedemptionID).
func TestVerifierReplayOnlyAfterAllChecks(t *testing.T) {
	t.Parallel()
	const jti = "17373629860000000042"
	key := replayHMACKey(t)
	otherKey, err := NewHMACKey("", []byte("a different secret, also 32 bytes long"))
	require.NoError(t, err)

	withLOB := replayClaims(replayT0, jti)
	withLOB.LOBId = "02"
	withIss := replayClaims(replayT0, jti)
	withIss.Issuer = "somebody else"

	tests := []struct {
		name  string
		token string
		code  string
	}{
		{name: "forged signature", token: replayMint(t, otherKey, replayClaims(replayT0, jti), nil), code: CodeBadSignature},
		{name: "expired", token: replayMint(t, key, replayClaims(replayT0.Add(-2*time.Hour), jti), nil), code: CodeTokenExpired},
		{name: "not yet valid", token: replayMint(t, key, replayClaims(replayT0.Add(time.Hour), jti), nil), code: CodeTokenNotYetValid},
		{name: "other LOB", token: replayMint(t, key, withLOB, nil), code: CodeWrongLOB},
		{name: "other issuer", token: replayMint(t, key, withIss, nil), code: CodeWrongIssuer},
	}

	clock := newTestClock(replayT0)
	rec := &replayRecorder{next: NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})}
	ring, err := NewKeyring(key)
	require.NoError(t, err)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Replay: rec, Now: clock.Now})
	require.NoError(t, err)
	vIss, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Issuer: "ssokit", Replay: rec, Now: clock.Now})
	require.NoError(t, err)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier := v
			if tt.code == CodeWrongIssuer {
				verifier = vIss
			}
			_, err := verifier.Verify(context.Background(), tt.token)
			assert.ErrorIs(t, err, ErrUnauthorized)
			assert.Equal(t, tt.code, CodeOf(err))
		})
	}
	assert.Zero(t, rec.Calls(), "the store was asked about a token that failed a check")

	genuine := replayMint(t, key, replayClaims(replayT0, jti), nil)
	c, err := v.Verify(context.Background(), genuine)
	require.NoError(t, err)
	assert.Equal(t, jti, c.ID)
	assert.Equal(t, 1, rec.Calls())
}

// TestVerifierReplayWithoutJTI: single use holds for any token, with or
// without jti: the API document's own tokens, which carry none, are
// accepted once and refused the second time.
func TestVerifierReplayWithoutJTI(t *testing.T) {
	t.Parallel()
	key := replayHMACKey(t)
	tests := []struct {
		name string
		jti  []byte // nil: no jti claim at all
	}{
		{name: "no jti claim, as in the API document", jti: nil},
		{name: "empty jti", jti: []byte{}},
		{name: "a jti", jti: []byte("173736298600000")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := replayMint(t, key, replayClaims(replayT0, ""), tt.jti)
			payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
			require.NoError(t, err)
			switch {
			case tt.jti == nil:
				require.NotContains(t, string(payload), `"jti"`)
			case len(tt.jti) == 0:
				require.Contains(t, string(payload), `"jti":""`)
			}

			clock := newTestClock(replayT0)
			rec := &replayRecorder{next: NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})}
			_, single := replaySetup(t, key, rec, clock)
			c, err := single.Verify(context.Background(), tok)
			require.NoError(t, err)
			assert.Equal(t, string(tt.jti), c.ID)
			for range 2 {
				c, err := single.Verify(context.Background(), tok)
				assert.Nil(t, c)
				assert.ErrorIs(t, err, ErrUnauthorized)
				assert.ErrorIs(t, err, ErrTokenReplayed)
				assert.Equal(t, CodeTokenReplayed, CodeOf(err))
			}
			assert.Equal(t, 3, rec.Calls())
			assert.Equal(t, []string{RedemptionID(tok), RedemptionID(tok), RedemptionID(tok)}, rec.ids)

			// Without single use the same token is acceptable again and again.
			_, multi := replaySetup(t, key, nil, clock)
			for range 2 {
				_, err = multi.Verify(context.Background(), tok)
				assert.NoError(t, err)
			}
		})
	}
}

// TestVerifierReplaySeedShapedToken: a token of the API document's sample,
// exactly (its payload byte for byte, signed with the LOB's key), is
// accepted once.
func TestVerifierReplaySeedShapedToken(t *testing.T) {
	t.Parallel()
	ring := testRing(t, testSecret)
	s, clock := newTestSigner(t, SignerConfig{Keys: ring}, seedTime)
	resp, err := s.Issue(context.Background(), Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
	require.NoError(t, err)
	require.Equal(t, seedPayload, string(segment(t, resp.TokenNo, 1)))
	require.Equal(t, seedHeader, string(segment(t, resp.TokenNo, 0)))

	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: clock.Now, Replay: NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})})
	require.NoError(t, err)
	c, err := v.Verify(context.Background(), resp.TokenNo)
	require.NoError(t, err)
	assert.Equal(t, "10001004", c.CIINo)
	_, err = v.Verify(context.Background(), resp.TokenNo)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, CodeTokenReplayed, CodeOf(err))
}

// TestVerifierReplaySameTokenRefNo: two instances that chose the same
// TokenRefNo (misconfigured with the same Instance number, say) still
// issue two tokens, and each is accepted once: single use is keyed by
// what was signed, not by the reference.
func TestVerifierReplaySameTokenRefNo(t *testing.T) {
	t.Parallel()
	key := replayHMACKey(t)
	ring, err := NewKeyring(key)
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  SignerConfig
		reqB Request
	}{
		{name: "another user, no jti", reqB: Request{CIINo: "10001005", LOBId: "01", Functionality: "D"}},
		{name: "another functionality, no jti", reqB: Request{CIINo: "10001004", LOBId: "01", Functionality: "E"}},
		{name: "another user, the same jti", cfg: SignerConfig{IncludeJTI: true}, reqB: Request{CIINo: "10001005", LOBId: "01", Functionality: "D"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.Keys = ring
			a, clock := newTestSigner(t, cfg, replayT0)
			b, _ := newTestSigner(t, cfg, replayT0) // the same Instance: 0 of 1
			v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: clock.Now, Replay: NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})})
			require.NoError(t, err)

			ra, err := a.Issue(context.Background(), replayReq)
			require.NoError(t, err)
			rb, err := b.Issue(context.Background(), tt.reqB)
			require.NoError(t, err)
			require.Equal(t, ra.TokenRefNo, rb.TokenRefNo, "the same reference")
			require.NotEqual(t, ra.TokenNo, rb.TokenNo, "two tokens")

			for _, tok := range []string{ra.TokenNo, rb.TokenNo} {
				_, err := v.Verify(context.Background(), tok)
				require.NoError(t, err, "a fresh token is accepted")
			}
			for _, tok := range []string{ra.TokenNo, rb.TokenNo} {
				_, err := v.Verify(context.Background(), tok)
				assert.Equal(t, CodeTokenReplayed, CodeOf(err))
			}
		})
	}
}

// TestVerifierReplaySameRequestSameMillisecond: the API document's claims
// carry nothing unique but the millisecond, and HS256 is deterministic, so
// the same request issued twice within a millisecond is one token, byte
// for byte, under two TokenRefNo values; it is accepted once. With
// IncludeJTI the two are distinct tokens, each accepted once.
func TestVerifierReplaySameRequestSameMillisecond(t *testing.T) {
	t.Parallel()
	for _, jti := range []bool{false, true} {
		t.Run("jti "+strconv.FormatBool(jti), func(t *testing.T) {
			t.Parallel()
			ring, err := NewKeyring(replayHMACKey(t))
			require.NoError(t, err)
			s, clock := newTestSigner(t, SignerConfig{Keys: ring, IncludeJTI: jti}, replayT0)
			v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: clock.Now, Replay: NewMemoryReplayStore(MemoryReplayConfig{Now: clock.Now})})
			require.NoError(t, err)
			r1, err := s.Issue(context.Background(), replayReq)
			require.NoError(t, err)
			r2, err := s.Issue(context.Background(), replayReq)
			require.NoError(t, err)
			assert.NotEqual(t, r1.TokenRefNo, r2.TokenRefNo)

			_, err = v.Verify(context.Background(), r1.TokenNo)
			require.NoError(t, err)
			_, err = v.Verify(context.Background(), r2.TokenNo)
			if jti {
				assert.NotEqual(t, r1.TokenNo, r2.TokenNo)
				assert.NoError(t, err)
			} else {
				assert.Equal(t, r1.TokenNo, r2.TokenNo)
				assert.Equal(t, CodeTokenReplayed, CodeOf(err))
			}
		})
	}
}

// TestVerifierReplayStoreFull goes through the Verifier: a full store
// refuses new tokens with an ErrUpstream (not a 401), still rejects the
// replay of a token it holds, and takes new tokens once old ones expire.
func TestVerifierReplayStoreFull(t *testing.T) {
	t.Parallel()
	clock := newTestClock(replayT0)
	store := NewMemoryReplayStore(MemoryReplayConfig{MaxEntries: 2, Now: clock.Now})
	s, v := replaySetup(t, replayHMACKey(t), store, clock)
	ctx := context.Background()

	t1, t2, t3 := replayIssue(t, s).TokenNo, replayIssue(t, s).TokenNo, replayIssue(t, s).TokenNo
	for _, tok := range []string{t1, t2} {
		_, err := v.Verify(ctx, tok)
		require.NoError(t, err)
	}
	c, err := v.Verify(ctx, t3)
	assert.Nil(t, c)
	assert.ErrorIs(t, err, ErrUpstream)
	assert.NotErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, CodeReplayStoreFull, CodeOf(err))

	_, err = v.Verify(ctx, t1)
	assert.Equal(t, CodeTokenReplayed, CodeOf(err), "a full store still remembers")

	// An hour later t1..t3 have expired and their slots are free.
	clock.Advance(time.Hour)
	_, err = v.Verify(ctx, t3)
	assert.Equal(t, CodeTokenExpired, CodeOf(err))
	fresh := replayIssue(t, s).TokenNo
	_, err = v.Verify(ctx, fresh)
	assert.NoError(t, err)
	_, err = v.Verify(ctx, fresh)
	assert.Equal(t, CodeTokenReplayed, CodeOf(err))
	assert.Equal(t, 1, store.Len())
}

func TestRedemptionID(t *testing.T) {
	t.Parallel()
	digest := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	input := seedTokenNo[:strings.LastIndexByte(seedTokenNo, '.')]
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{name: "the API document's sample", token: seedTokenNo, want: "BCZ9KCqXk39m_JfPVIfxZtu9sC5V5_Tao01gKrGQQk4"},
		{name: "the signing input of the sample", token: seedTokenNo, want: digest(input)},
		{name: "another signature, the same input", token: input + ".AAAA", want: digest(input)},
		{name: "no signature", token: input + ".", want: digest(input)},
		{name: "another payload", token: strings.Replace(seedTokenNo, ".eyJ", ".eyK", 1), want: digest(strings.Replace(input, ".eyJ", ".eyK", 1))},
		{name: "no dot: all of it", token: "abc", want: digest("abc")},
		{name: "empty", token: "", want: digest("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := RedemptionID(tt.token)
			assert.Equal(t, tt.want, got)
			assert.Len(t, got, RedemptionIDLen)
		})
	}
	assert.NotEqual(t, RedemptionID(seedTokenNo), digest(seedTokenNo), "not a digest of the whole token")
}

func TestMemoryReplayStorePerCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newTestClock(replayT0)
	s := NewMemoryReplayStore(MemoryReplayConfig{MaxEntries: 10, MaxEntriesPerCaller: 3, Now: clock.Now})

	redeem := func(caller, id string, ttl time.Duration) (bool, error) {
		return s.RedeemFor(ctx, caller, id, clock.Now().Add(ttl))
	}
	// mallory redeems three ids, expiring at +10 s, +30 s and +20 s.
	for i, ttl := range []time.Duration{10 * time.Second, 30 * time.Second, 20 * time.Second} {
		first, err := redeem("mallory", "m"+strconv.Itoa(i), ttl)
		require.NoError(t, err)
		require.True(t, first)
	}

	tests := []struct {
		name           string
		caller, id     string
		wantFirst      bool
		wantCode       string
		wantRetryAfter time.Duration
	}{
		{name: "a caller at its bound is refused, until its first id expires", caller: "mallory", id: "m3", wantCode: CodeTooManyTokens, wantRetryAfter: 10 * time.Second},
		{name: "a known id of that caller is still answered", caller: "mallory", id: "m0", wantFirst: false},
		{name: "another caller is redeemed", caller: "victim", id: "v0", wantFirst: true},
		{name: "no caller is bounded only by MaxEntries", caller: "", id: "n0", wantFirst: true},
		{name: "Redeem of another's id is a replay", caller: "victim", id: "m1", wantFirst: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, err := redeem(tt.caller, tt.id, time.Hour)
			assert.Equal(t, tt.wantFirst, first)
			if tt.wantCode == "" {
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrRateLimited)
			assert.Equal(t, tt.wantCode, CodeOf(err))
			assert.Equal(t, tt.wantRetryAfter, RetryAfterOf(err))
		})
	}
	assert.Equal(t, 5, s.Len())

	// The first of mallory's ids expires: room for exactly one more, and
	// the next refusal waits for the id expiring at +20 s.
	clock.Advance(10 * time.Second)
	first, err := redeem("mallory", "m3", time.Hour)
	require.NoError(t, err)
	assert.True(t, first)
	_, err = redeem("mallory", "m4", time.Hour)
	assert.Equal(t, CodeTooManyTokens, CodeOf(err))
	assert.Equal(t, 10*time.Second, RetryAfterOf(err))

	// Once all of them have expired the caller starts afresh, and the
	// store holds no bookkeeping for callers without ids.
	clock.Advance(2 * time.Hour)
	first, err = redeem("mallory", "m5", time.Hour)
	require.NoError(t, err)
	assert.True(t, first)
	s.mu.Lock()
	assert.Len(t, s.callers, 1)
	assert.Equal(t, 1, s.callers["mallory"].Len())
	s.mu.Unlock()
}

func TestMemoryReplayStorePerCallerDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		cfg           MemoryReplayConfig
		wantPerCaller int
	}{
		{name: "zero", cfg: MemoryReplayConfig{}, wantPerCaller: DefaultReplayEntriesPerCaller},
		{name: "negative", cfg: MemoryReplayConfig{MaxEntriesPerCaller: -1}, wantPerCaller: DefaultReplayEntriesPerCaller},
		{name: "explicit", cfg: MemoryReplayConfig{MaxEntriesPerCaller: 5}, wantPerCaller: 5},
		{name: "at most MaxEntries", cfg: MemoryReplayConfig{MaxEntries: 4, MaxEntriesPerCaller: 5}, wantPerCaller: 4},
		{name: "default over a small store", cfg: MemoryReplayConfig{MaxEntries: 50}, wantPerCaller: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.wantPerCaller, NewMemoryReplayStore(tt.cfg).perCaller)
		})
	}
}

// TestVerifierFloodLeavesOthersAlone replays an attack at a reduced scale:
// one signed-in caller mints and redeems far more TokenNos than a person
// would, to fill the LOB's replay store. Its own tokens are refused once it
// holds its share (429 too_many_tokens, not 502), and a victim's fresh
// token is still accepted, once.
func TestVerifierFloodLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	clock := newTestClock(replayT0)
	const maxEntries, perCaller, flood = 100, 10, 1_000 // the flood is 10x the whole store
	store := NewMemoryReplayStore(MemoryReplayConfig{MaxEntries: maxEntries, MaxEntriesPerCaller: perCaller, Now: clock.Now})
	s, v := replaySetup(t, replayHMACKey(t), store, clock)
	ctx := context.Background()

	issue := func(ciino string, i int) string {
		resp, err := s.Issue(ctx, Request{CIINo: ciino, LOBId: "01", Functionality: "D" + strconv.Itoa(i)})
		require.NoError(t, err)
		return resp.TokenNo
	}
	var accepted, limited int
	for i := range flood {
		_, err := v.Verify(ctx, issue("66600001", i))
		switch {
		case err == nil:
			accepted++
		case CodeOf(err) == CodeTooManyTokens:
			limited++
			require.Positive(t, RetryAfterOf(err))
		default:
			require.NoError(t, err)
		}
	}
	assert.Equal(t, perCaller, accepted)
	assert.Equal(t, flood-perCaller, limited)

	victim := issue("10001004", 0)
	c, err := v.Verify(ctx, victim)
	require.NoError(t, err, "the flood must not refuse another caller's fresh token")
	assert.Equal(t, "10001004", c.CIINo)
	_, err = v.Verify(ctx, victim)
	assert.Equal(t, CodeTokenReplayed, CodeOf(err), "and the victim's token is still single use")
	assert.Equal(t, VerifierStats{Accepted: perCaller + 1, Replayed: 1, CallerLimited: flood - perCaller}, v.Stats())
}
