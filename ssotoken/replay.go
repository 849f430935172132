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

// CallerReplayStore is a ReplayStore that also accounts each id to the
// caller its token was issued for, so that it can bound what one caller
// holds: MemoryReplayStore is one. A Verifier whose store implements it
// calls RedeemFor, with the token's CIINo as caller, instead of Redeem.
type CallerReplayStore interface {
	ReplayStore
	// RedeemFor is Redeem for a token of caller. A store that refuses
	// caller another id returns an error of kind ErrRateLimited.
	RedeemFor(ctx context.Context, caller, id string, expiresAt time.Time) (first bool, err error)
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

// DefaultReplayEntriesPerCaller is the share of one caller in a
// MemoryReplayStore whose MaxEntriesPerCaller is zero: no person hands
// over to one LOB a thousand times within a token's lifetime (an hour by
// default), and it takes a hundred callers at that bound to fill the
// default DefaultReplayEntries.
const DefaultReplayEntriesPerCaller = 1_000

// MemoryReplayConfig configures a MemoryReplayStore.
type MemoryReplayConfig struct {
	// MaxEntries bounds the number of unexpired ids held. Zero means
	// DefaultReplayEntries. When the store is full of unexpired ids a
	// redemption fails (ErrUpstream, "replay_store_full") rather than
	// forget an id that could then be replayed: size it for the most
	// tokens redeemed within one token lifetime plus leeway.
	MaxEntries int
	// MaxEntriesPerCaller bounds the unexpired ids held for one caller
	// (the CIINo a Verifier passes to RedeemFor), so that no caller's
	// volume fills the store for the others: past it, that caller's next
	// token is refused (ErrRateLimited, "too_many_tokens", with the time
	// until its oldest id expires as RetryAfter) and everyone else's is
	// still redeemed. Zero means DefaultReplayEntriesPerCaller; it is at
	// most MaxEntries. Size both together: MaxEntries / MaxEntriesPerCaller
	// callers at their bound fill the store. A caller at the issuing limit
	// of ssoserver (60 a minute, a burst of 20) reaches the default in
	// about 16 minutes, and is refused by this LOB until its ids expire.
	// Redeem, without a caller, is not bounded per caller.
	MaxEntriesPerCaller int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MemoryReplayStore is a CallerReplayStore in process memory: bounded in
// all and per caller, each entry dropped once its token has expired (the
// expired ones go before anything is refused). It serves one process;
// linked LOBs with several instances need a shared store. It is safe for
// concurrent use.
type MemoryReplayStore struct {
	max, perCaller int
	now            func() time.Time

	mu      sync.Mutex
	ids     map[string]int64      // id -> expiry, Unix nanoseconds
	callers map[string]*int64Heap // caller -> the expiries of its ids
	order   expiryHeap
}

var _ CallerReplayStore = (*MemoryReplayStore)(nil)

// NewMemoryReplayStore returns an empty store.
func NewMemoryReplayStore(cfg MemoryReplayConfig) *MemoryReplayStore {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultReplayEntries
	}
	if cfg.MaxEntriesPerCaller <= 0 {
		cfg.MaxEntriesPerCaller = DefaultReplayEntriesPerCaller
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryReplayStore{
		max:       cfg.MaxEntries,
		perCaller: min(cfg.MaxEntriesPerCaller, cfg.MaxEntries),
		now:       cfg.Now,
		ids:       make(map[string]int64),
		callers:   make(map[string]*int64Heap),
	}
}

// CodeReplayStoreFull is the code of a redemption refused because a
// MemoryReplayStore is full of unexpired entries.
const CodeReplayStoreFull = "replay_store_full"

// CodeTooManyTokens is the code of a redemption refused because its
// caller already holds MemoryReplayConfig.MaxEntriesPerCaller unexpired
// ids (ErrRateLimited: 429 through httpadapter).
const CodeTooManyTokens = "too_many_tokens"

var (
	errReplayFull    = NewError(ErrUpstream, CodeReplayStoreFull, "too many tokens in flight", errors.New("memory replay store is full"))
	errCallerTooMany = NewError(ErrRateLimited, CodeTooManyTokens, "too many tokens redeemed for this user; try again later", nil)
)

// Redeem implements ReplayStore, for an id of no particular caller. It
// never waits, so ctx is not consulted.
func (s *MemoryReplayStore) Redeem(ctx context.Context, id string, expiresAt time.Time) (bool, error) {
	return s.RedeemFor(ctx, "", id, expiresAt)
}

// RedeemFor implements CallerReplayStore: caller may hold at most
// MaxEntriesPerCaller unexpired ids ("" is no caller, and unbounded but
// for MaxEntries). It never waits, so ctx is not consulted.
func (s *MemoryReplayStore) RedeemFor(_ context.Context, caller, id string, expiresAt time.Time) (bool, error) {
	now := s.now().UnixNano()
	exp := expiresAt.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 && s.order[0].exp <= now {
		s.drop(heap.Pop(&s.order).(expiryEntry))
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
	held := s.callers[caller]
	if caller != "" && held != nil && held.Len() >= s.perCaller {
		// Until the caller's first id expires.
		return false, errCallerTooMany.WithRetryAfter(time.Duration((*held)[0] - now))
	}
	s.ids[id] = exp
	if caller != "" {
		if held == nil {
			held = new(int64Heap)
			s.callers[caller] = held
		}
		heap.Push(held, exp)
	}
	heap.Push(&s.order, expiryEntry{id: id, caller: caller, exp: exp})
	return true, nil
}

// drop forgets an expired entry.
func (s *MemoryReplayStore) drop(e expiryEntry) {
	if s.ids[e.id] != e.exp {
		return
	}
	delete(s.ids, e.id)
	if e.caller == "" {
		return
	}
	// Entries leave in order of expiry, so e's is the least of its
	// caller's.
	held := s.callers[e.caller]
	heap.Pop(held)
	if held.Len() == 0 {
		delete(s.callers, e.caller)
	}
}

// Len returns the number of ids held, expired ones not yet dropped
// included.
func (s *MemoryReplayStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

type expiryEntry struct {
	id, caller string
	exp        int64
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

// int64Heap is a min-heap of expiries.
type int64Heap []int64

func (h int64Heap) Len() int           { return len(h) }
func (h int64Heap) Less(i, j int) bool { return h[i] < h[j] }
func (h int64Heap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *int64Heap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *int64Heap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
