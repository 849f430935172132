package ssotoken

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"time"
)

// ReplayStore remembers which tokens were redeemed, so that a Verifier can
// accept each token once. Implementations are safe for concurrent use and
// atomic: of any number of concurrent Redeem calls for one id, exactly one
// reports true.
//
// Redeem records id as used until expiresAt and reports whether this was
// its first redemption. A Verifier's id is the token's RedemptionID: 43
// characters of base64url. An error means the store could not answer; the
// Verifier then rejects the token (it fails closed).
type ReplayStore interface {
	Redeem(ctx context.Context, id string, expiresAt time.Time) (first bool, err error)
}

// RedemptionIDLen is the length of a RedemptionID.
const RedemptionIDLen = 43

// RedemptionID returns the id under which a Verifier redeems token in its
// ReplayStore: the SHA-256 of the token's JWS signing input, its header and
// payload segments and the '.' between them exactly as received (all of
// token before its last '.'; all of it if it has none), in base64url
// without padding, RedemptionIDLen (43) characters.
//
// The digest is of what was signed, so every token has one, with or
// without "jti", and tokens that share a TokenRefNo but differ in any byte
// have different ones. It is not of the whole token, because a signature
// can have a twin that verifies just as well: an ECDSA signature (r, s) and
// (r, n-s) sign the same input, and a digest of the whole token would let
// an ES256 token be redeemed once under each. Two tokens with the same
// signing input are one token and redeem once between them: the same
// header and claims, as the same request issued twice in one millisecond
// gets without SignerConfig.IncludeJTI.
func RedemptionID(token string) string {
	if i := strings.LastIndexByte(token, '.'); i >= 0 {
		token = token[:i]
	}
	sum := sha256.Sum256([]byte(token))
	var b [RedemptionIDLen]byte
	base64.RawURLEncoding.Encode(b[:], sum[:])
	return string(b[:])
}

// DefaultReplayEntries is the capacity of a MemoryReplayStore whose
// MaxEntries is zero.
const DefaultReplayEntries = 100_000

// MemoryReplayConfig configures a MemoryReplayStore.
type MemoryReplayConfig struct {
	// MaxEntries bounds the number of unexpired ids held. Zero means
	// DefaultReplayEntries. When the store is full of unexpired ids a
	// redemption fails (ErrUpstream, "replay_store_full") rather than
	// forget an id that could then be replayed: size it for the most
	// tokens redeemed within one token lifetime plus leeway.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MemoryReplayStore is a ReplayStore in process memory: bounded, each
// entry dropped once its token has expired. It serves one process; linked
// LOBs with several instances need a shared store. It is safe for
// concurrent use.
type MemoryReplayStore struct {
	max int
	now func() time.Time

	mu    sync.Mutex
	ids   map[string]int64 // id -> expiry, Unix nanoseconds
	order expiryHeap
}

var _ ReplayStore = (*MemoryReplayStore)(nil)

// NewMemoryReplayStore returns an empty store.
func NewMemoryReplayStore(cfg MemoryReplayConfig) *MemoryReplayStore {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultReplayEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryReplayStore{max: cfg.MaxEntries, now: cfg.Now, ids: make(map[string]int64)}
}

// CodeReplayStoreFull is the code of a redemption refused because a
// MemoryReplayStore is full of unexpired entries.
const CodeReplayStoreFull = "replay_store_full"

var errReplayFull = NewError(ErrUpstream, CodeReplayStoreFull, "too many tokens in flight", errors.New("memory replay store is full"))

// Redeem implements ReplayStore. It never waits, so ctx is not consulted.
func (s *MemoryReplayStore) Redeem(_ context.Context, id string, expiresAt time.Time) (bool, error) {
	now := s.now().UnixNano()
	exp := expiresAt.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 && s.order[0].exp <= now {
		e := heap.Pop(&s.order).(expiryEntry)
		if s.ids[e.id] == e.exp {
			delete(s.ids, e.id)
		}
	}
	if _, ok := s.ids[id]; ok {
		return false, nil
	}
	if exp <= now {
		// Expired by this store's clock but accepted by the verifier's:
		// the clocks disagree. Remember the id for MaxLeeway rather than
		// not at all, so that single use still holds.
		exp = now + int64(MaxLeeway)
	}
	if len(s.ids) >= s.max {
		return false, errReplayFull
	}
	s.ids[id] = exp
	heap.Push(&s.order, expiryEntry{id: id, exp: exp})
	return true, nil
}

// Len returns the number of ids held, expired ones not yet dropped
// included.
func (s *MemoryReplayStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

type expiryEntry struct {
	id  string
	exp int64
}

// expiryHeap is a min-heap of entries by expiry.
type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
