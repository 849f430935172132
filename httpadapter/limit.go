package httpadapter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ssokit/ssokit/ssotoken"
)

// CodeRateLimited is the code of a GenerateSSOToken call refused because
// its caller was issued as many tokens as its limit allows (429, with
// Retry-After): an addition to the document's error table.
const CodeRateLimited = "rate_limited"

// A Limiter bounds how many tokens one caller is issued. The Handler asks
// it once per call that passed every other check, just before issuing,
// with the caller's key (see LimitKey). Implementations are safe for
// concurrent use: MemoryLimiter counts in this process, and
// httpadapter/redislimit shares one limit among every instance through
// Redis.
type Limiter interface {
	// Allow takes one call from key's allowance. When none is left it
	// returns false and how long until one is: the call is answered 429
	// rate_limited with that Retry-After. An error means the limiter could
	// not decide, and the call fails closed: 502, or 504 when ctx ended.
	Allow(ctx context.Context, key string) (allowed bool, retryAfter time.Duration, err error)
}

// RateLimit is an allowance per caller: Burst calls at once, refilled at
// Rate calls per Period, evenly (a token bucket; the generic cell rate
// algorithm in Redis).
type RateLimit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// DefaultIssueLimit is the issuing limit of a Handler whose Config sets
// no Limiter: 60 tokens a minute per caller, 20 at once. No person signing
// in to linked applications by hand reaches it; a script minting tokens in
// a loop does within seconds.
var DefaultIssueLimit = RateLimit{Rate: 60, Period: time.Minute, Burst: 20}

// Validate reports whether l is usable: Rate, Period and Burst positive.
func (l RateLimit) Validate() error {
	if l.Rate <= 0 || l.Period <= 0 || l.Burst <= 0 {
		return fmt.Errorf("httpadapter: a RateLimit needs a positive Rate, Period and Burst, got %s", l)
	}
	return nil
}

// String returns l as "60/1m0s, burst 20".
func (l RateLimit) String() string {
	return fmt.Sprintf("%d/%s, burst %d", l.Rate, l.Period, l.Burst)
}

// Interval is the time in which one call is refilled: Period / Rate.
func (l RateLimit) Interval() time.Duration { return l.Period / time.Duration(l.Rate) }

// LimitKey is the key under which the Handler counts a caller's tokens:
// the token's issuer, app client and subject, so that a user is one caller
// whichever LOB or x-lob-client-id it asks for, and two pools' users with
// the same subject are two.
func LimitKey(p *ssotoken.Principal) string {
	return p.Issuer + "\x00" + p.ClientID + "\x00" + p.Subject
}

// DefaultLimiterKeys is the number of callers a MemoryLimiter tracks when
// MemoryLimiterConfig.MaxKeys is zero.
const DefaultLimiterKeys = 100_000

// MemoryLimiterConfig configures a MemoryLimiter.
type MemoryLimiterConfig struct {
	// Limit is each caller's allowance. Required.
	Limit RateLimit
	// MaxKeys bounds the callers tracked at once. A caller whose
	// allowance is whole again takes no room (it is as if it was never
	// seen), so only callers that were issued a token within the last
	// Burst × Interval count. When MaxKeys of those are tracked, a new
	// caller is refused (it fails closed, for at most one Interval) rather
	// than let one forget another's count. Zero means DefaultLimiterKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MemoryLimiter is a Limiter in this process's memory, a token bucket per
// key (golang.org/x/time/rate). Each instance of a service counts on its
// own, so n instances behind a load balancer allow up to n times the
// limit; share one through Redis (httpadapter/redislimit) where that
// matters. It is safe for concurrent use.
type MemoryLimiter struct {
	limit   RateLimit
	every   rate.Limit
	maxKeys int
	now     func() time.Time

	mu        sync.Mutex
	keys      map[string]*rate.Limiter
	nextSweep time.Time
}

var _ Limiter = (*MemoryLimiter)(nil)

// NewMemoryLimiter returns a MemoryLimiter, or an error when cfg.Limit is
// not usable.
func NewMemoryLimiter(cfg MemoryLimiterConfig) (*MemoryLimiter, error) {
	if err := cfg.Limit.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxKeys < 0 {
		return nil, errors.New("httpadapter: MemoryLimiterConfig.MaxKeys must not be negative")
	}
	if cfg.MaxKeys == 0 {
		cfg.MaxKeys = DefaultLimiterKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryLimiter{
		limit:   cfg.Limit,
		every:   rate.Every(cfg.Limit.Interval()),
		maxKeys: cfg.MaxKeys,
		now:     cfg.Now,
		keys:    make(map[string]*rate.Limiter),
	}, nil
}

// Allow implements Limiter. It never waits and never fails.
func (m *MemoryLimiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	lim := m.keys[key]
	if lim == nil {
		if len(m.keys) >= m.maxKeys && !now.Before(m.nextSweep) {
			m.sweep(now)
		}
		if len(m.keys) >= m.maxKeys {
			return false, m.limit.Interval(), nil
		}
		lim = rate.NewLimiter(m.every, m.limit.Burst)
		m.keys[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused call takes nothing
		return false, d, nil
	}
	return true, 0, nil
}

// sweep forgets the callers whose allowance is whole again, at most once
// per Interval: a full table of active callers is not scanned on every
// new caller.
func (m *MemoryLimiter) sweep(now time.Time) {
	burst := float64(m.limit.Burst)
	for k, lim := range m.keys {
		if lim.TokensAt(now) >= burst {
			delete(m.keys, k)
		}
	}
	m.nextSweep = now.Add(m.limit.Interval())
}

// Len returns the number of callers tracked.
func (m *MemoryLimiter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// errRateLimited is the refusal of a call over its caller's limit; each
// refusal is a copy carrying its Retry-After.
var errRateLimited = ssotoken.NewError(ssotoken.ErrRateLimited, CodeRateLimited, "too many tokens requested; try again later", nil)

// CodeLimiterUnavailable is the code of a call that failed because its
// Limiter could not decide (a Redis that does not answer, say): 502.
const CodeLimiterUnavailable = "rate_limiter_unavailable"

// checkLimit asks the limiter for p's allowance.
func (h *Handler) checkLimit(ctx context.Context, p *ssotoken.Principal) error {
	if h.limiter == nil {
		return nil
	}
	ok, retryAfter, err := h.limiter.Allow(ctx, LimitKey(p))
	switch {
	case err != nil && ctx.Err() != nil:
		return ssotoken.Wrap(ctx.Err())
	case err != nil && ssotoken.KindOf(err) == ssotoken.ErrTimeout:
		return ssotoken.Wrap(err)
	case err != nil:
		return ssotoken.NewError(ssotoken.ErrUpstream, CodeLimiterUnavailable, "internal error", err)
	case !ok:
		return errRateLimited.WithRetryAfter(retryAfter)
	}
	return nil
}

// retryAfterValue is the Retry-After header's value for d: whole seconds,
// rounded up, at least 1.
func retryAfterValue(d time.Duration) string {
	return strconv.FormatInt(int64(max((d+time.Second-1)/time.Second, 1)), 10)
}
