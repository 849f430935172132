package ssotoken

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Lengths of a TokenRefNo, and the largest fleet of issuers.
const (
	// RefNoLen is the length of a default TokenRefNo: 15 ASCII digits, the
	// 10-digit Unix second of issue and a 5-digit number, the shape of the
	// API document's sample ("173736XX8685878").
	RefNoLen = 15
	// WideRefNoLen is the length of a wide TokenRefNo (RefNoConfig.Wide,
	// SignerConfig.WideRefNo): the 10-digit second and a 10-digit number.
	WideRefNoLen = 20
	// MaxInstances is the largest RefNoConfig.Instances: every instance
	// must have at least one number a second.
	MaxInstances = 100_000
)

const (
	refSecDigits    = 10
	refNarrowDigits = 5
	refWideDigits   = 10
	refNarrowMod    = 100_000        // 10^refNarrowDigits
	refWideMod      = 10_000_000_000 // 10^refWideDigits
	refSecMax       = 10_000_000_000 // the first second with 11 digits, in the year 2286
)

// RefNoConfig configures a RefNoGenerator. The zero value is a generator
// of 15-digit references for a fleet of one.
type RefNoConfig struct {
	// Instance is this instance's number in its fleet, from 0 to
	// Instances-1. Every instance that issues at the same time must have
	// its own number: references are unique across the fleet because the
	// numbers are, not by chance.
	Instance int
	// Instances is the size of the fleet, at most MaxInstances; 0 means 1.
	// Every instance must be configured with the same Instances. To change
	// it, stop every instance of the old numbering before any of the new
	// starts: while both run, they can make the same reference.
	Instances int
	// Wide makes 20-digit references (WideRefNoLen): the second, then a
	// 10-digit number that starts each second at a random point, as the
	// 20-digit references of earlier versions did, partitioned by Instance
	// like the 5-digit one.
	Wide bool
	// Now is the clock; nil means time.Now. NewRefNoGenerator reads it for
	// the start-up second, Next for the issue time.
	Now func() time.Time

	// skipStart skips the start-up second on an injected clock too, as
	// on the real one: for the tests of that rule.
	skipStart bool
}

// RefNoGenerator makes TokenRefNo values. A reference is RefNoLen (15)
// ASCII digits: the Unix second of issue, 10 digits (until the year 2286),
// then 5 digits, seq*Instances + Instance, where seq counts 0, 1, 2, ...
// from the start of each second. So within a second an instance has
// PerSecond() = floor((100000-1-Instance)/Instances) + 1 numbers: 100,000
// a second for a fleet of one, 1,000 each for a fleet of 100, one each for
// the largest fleet, MaxInstances (100,000).
//
// A generator never repeats a reference, and no two instances of a fleet
// ever make the same one:
//
//   - The issue time never goes back: a clock that steps back keeps the
//     generator counting in the last second it used, so a reference's
//     second is always its token's "iat".
//   - When this instance's numbers of a second are used up, Next waits for
//     the next second rather than repeat a number or borrow a second that
//     has not come; ctx bounds the wait.
//   - On the real clock (RefNoConfig.Now nil) it does not issue in the
//     (partial) second in which it was created: a process that restarts
//     within a second cannot repeat the references its predecessor made in
//     that second. The first Next after start-up may therefore wait, at
//     most one second. An injected clock is a test's: the generator issues
//     at once, and a fixed clock can issue PerSecond references.
//
// What it cannot see it cannot prevent: two instances configured with the
// same Instance number, fleets of different Instances issuing at once, or
// a restart onto a clock that went back across the restart. A repeated
// reference is ambiguous in logs and support requests, but it never
// weakens single use, nor makes a Verifier refuse a fresh token: a
// ReplayStore is keyed by RedemptionID, a digest of the token.
//
// With Wide, a reference is WideRefNoLen (20) digits, the second and a
// 10-digit number seq*Instances + Instance; seq starts each second at a
// random point below 9/10 of the instance's range, as the 20-digit
// references of earlier versions did, so at least a tenth of the range
// (about 10^9/Instances numbers) is left in every second.
//
// A RefNoGenerator is safe for concurrent use; share one between all the
// Signers of a process (SignerConfig.RefNos). The zero value is
// NewRefNoGenerator(RefNoConfig{}) created at its first Next.
type RefNoGenerator struct {
	inst   uint64 // Instance
	stride uint64 // Instances
	limit  uint64 // seq values per second
	wide   bool
	now    func() time.Time
	// skipStart: the start-up second is used up (the real clock's rule;
	// see RefNoConfig.skipStart).
	skipStart bool
	// sleep waits for d or until ctx is done; nil means sleepCtx. Tests
	// replace it to drive a fake clock.
	sleep func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	started bool
	sec     int64     // the second of the last reference, or the start-up second
	seq     uint64    // the next seq in sec; limit when sec is used up
	last    time.Time // the issue time of the last reference (in sec), without monotonic reading
}

// NewRefNoGenerator returns a generator for cfg, or an error if cfg is not
// usable (an Instance outside [0, Instances), Instances outside [0,
// MaxInstances], or a clock outside the years 1970 to 2286).
func NewRefNoGenerator(cfg RefNoConfig) (*RefNoGenerator, error) {
	return newRefNoGenerator(cfg, "RefNoConfig")
}

// newRefNoGenerator is NewRefNoGenerator; its errors name the fields of
// cfgName, the configuration the caller was given.
func newRefNoGenerator(cfg RefNoConfig, cfgName string) (*RefNoGenerator, error) {
	g := &RefNoGenerator{now: cfg.Now, skipStart: cfg.Now == nil || cfg.skipStart}
	if err := g.configure(cfg, cfgName); err != nil {
		return nil, err
	}
	if err := g.start(g.clock(), cfgName+".Now"); err != nil {
		return nil, err
	}
	return g, nil
}

// configure sets g's partition up for cfg (but not its clock). Its errors
// name the fields of cfgName.
func (g *RefNoGenerator) configure(cfg RefNoConfig, cfgName string) error {
	n := cfg.Instances
	if n == 0 {
		n = 1
	}
	switch {
	case n < 0 || n > MaxInstances:
		return errors.New("ssotoken: " + cfgName + ".Instances must be between 0 and 100000")
	case cfg.Instance < 0 || cfg.Instance >= n:
		return errors.New("ssotoken: " + cfgName + ".Instance must be between 0 and Instances-1")
	}
	mod := uint64(refNarrowMod)
	if cfg.Wide {
		mod = refWideMod
	}
	g.inst, g.stride, g.wide = uint64(cfg.Instance), uint64(n), cfg.Wide
	g.limit = (mod-1-g.inst)/g.stride + 1
	return nil
}

// clock reads the generator's clock.
func (g *RefNoGenerator) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

// start makes the second of now the start-up second: used up on the real
// clock, so that a restarted process cannot repeat its predecessor's
// references; open on an injected clock, which is a test's (a fixed test
// clock must be able to issue). Its error names the clock clockName.
func (g *RefNoGenerator) start(now time.Time, clockName string) error {
	sec := now.Unix()
	if sec < 0 || sec >= refSecMax {
		return errors.New("ssotoken: " + clockName + " reads " + now.UTC().Format(time.RFC3339) + ", outside the years 1970 to 2286")
	}
	g.started, g.sec, g.seq, g.last = true, sec, 0, now.Round(0)
	if g.skipStart || g.now == nil {
		g.seq = g.limit
	}
	if g.wide && g.seq == 0 {
		g.seq = rand.Uint64N(g.wideStarts())
	}
	return nil
}

// PerSecond returns how many references the generator can make in one
// second: floor((10^5-1-Instance)/Instances)+1; with Wide, the fewest a
// second can have after its random start, about a tenth of
// floor((10^10-1-Instance)/Instances)+1.
func (g *RefNoGenerator) PerSecond() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.lazyConfigure()
	if g.wide {
		return int64(g.limit - g.wideStarts() + 1)
	}
	return int64(g.limit)
}

// wideStarts is the number of points a wide second may start at.
func (g *RefNoGenerator) wideStarts() uint64 { return g.limit * 9 / 10 }

// lazyConfigure makes a zero RefNoGenerator the default one; g.mu is held.
// The zero value's clock is time.Now, as g.now is nil.
func (g *RefNoGenerator) lazyConfigure() {
	if g.limit == 0 {
		_ = g.configure(RefNoConfig{}, "") // cannot fail
	}
}

// Next returns a new TokenRefNo and its issue time, whose Unix second is the
// reference's first ten digits: the time to put in the token. It waits
// when this instance's numbers of the second are used up, and on the real
// clock after start-up (see RefNoGenerator), until the next second; if ctx
// is done first, or its deadline comes before the next second, it fails
// with an ErrTimeout *Error at once. A clock more than 2 s behind the last
// second used (a step back) when that second is used up fails it at once
// with an ErrUpstream *Error, until the clock catches up. A
// clock that does not move while it waits (a fixed test clock that used up
// PerSecond references) fails it with an ErrUpstream *Error rather than
// make it wait for ever.
func (g *RefNoGenerator) Next(ctx context.Context) (ref string, issuedAt time.Time, err error) {
	var buf [WideRefNoLen]byte
	b, at, err := g.append(ctx, buf[:0])
	if err != nil {
		return "", time.Time{}, err
	}
	return string(b), at, nil
}

// maxClockBehind is how far the clock may be behind the last second a
// generator used (after a step back) for Next to wait for it to catch up;
// further behind, Next fails at once.
const maxClockBehind = 2 * time.Second

// errClockBehind is the cause of a Next whose clock stepped back further
// than maxClockBehind while the last second it used is exhausted.
var errClockBehind = errors.New("ssotoken: the TokenRefNo clock stepped back more than 2 s behind the last second used and that second's numbers are used up: no reference is issued (none may repeat) until the clock catches up")

// clockStillMax is how long a generator waits on a clock that reads the
// same instant before each wait and after it, before it gives up.
const clockStillMax = 100 * time.Millisecond

// errClockStill is the cause of a Next whose clock stands still.
var errClockStill = errors.New("ssotoken: the TokenRefNo clock stood still while Next waited for the next second: " +
	"a generator issues no more than PerSecond references in a second, so its clock must advance")

// append appends a new TokenRefNo to dst; see Next.
func (g *RefNoGenerator) append(ctx context.Context, dst []byte) ([]byte, time.Time, error) {
	var prev time.Time      // the clock's reading before the last wait
	var still time.Duration // how long the clock has read prev, waits summed
	for {
		// The clock is read under the lock: a reading taken before it
		// could be older than the second another goroutine has moved g on
		// to meanwhile (a goroutine descheduled for seconds on a loaded
		// machine), and would look like a clock that stepped back.
		g.mu.Lock()
		now := g.clock().Round(0) // the wall clock alone: it is what steps back
		if still >= clockStillMax && now.Equal(prev) {
			g.mu.Unlock()
			return dst, time.Time{}, NewError(ErrUpstream, CodeInternal, "internal error", errClockStill)
		}
		sec := now.Unix()

		if !g.started {
			g.lazyConfigure()
			if err := g.start(now, "time.Now"); err != nil {
				g.mu.Unlock()
				return dst, time.Time{}, NewError(ErrUpstream, CodeInternal, "internal error", err)
			}
		}
		if sec > g.sec {
			if sec >= refSecMax {
				g.mu.Unlock()
				return dst, time.Time{}, NewError(ErrUpstream, CodeInternal, "internal error", errors.New("ssotoken: the TokenRefNo clock is past the year 2286"))
			}
			g.sec, g.seq, g.last = sec, 0, now
			if g.wide {
				g.seq = rand.Uint64N(g.wideStarts())
			}
		}
		if g.seq < g.limit {
			if sec == g.sec && now.After(g.last) {
				g.last = now
			}
			sec, at, n, wide := g.sec, g.last, g.seq*g.stride+g.inst, g.wide
			g.seq++
			g.mu.Unlock()

			dst = appendPadded(dst, uint64(sec), refSecDigits)
			if wide {
				return appendPadded(dst, n, refWideDigits), at, nil
			}
			return appendPadded(dst, n, refNarrowDigits), at, nil
		}
		wake := time.Unix(g.sec+1, 0)
		sleep := g.sleep
		g.mu.Unlock()

		if err := ctx.Err(); err != nil {
			return dst, time.Time{}, Wrap(err)
		}
		d := wake.Sub(now)
		if d > maxClockBehind+time.Second {
			// The clock went back further than a wait is worth: fail now
			// and say so, rather than hold every request until its
			// deadline for as long as the step lasts.
			return dst, time.Time{}, NewError(ErrUpstream, CodeInternal, "internal error", errClockBehind)
		}
		if dl, ok := ctx.Deadline(); ok && dl.Before(time.Now().Add(d)) { // d is a real wait
			return dst, time.Time{}, Wrap(context.DeadlineExceeded) // the wait would outlast the request
		}
		if sleep == nil {
			sleep = sleepCtx
		}
		if err := sleep(ctx, d); err != nil {
			return dst, time.Time{}, Wrap(err)
		}
		if now.Equal(prev) {
			still += d
		} else {
			prev, still = now, d
		}
	}
}

// sleepCtx waits for d, or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// appendPadded appends v in decimal, zero-padded on the left to width digits.
func appendPadded(dst []byte, v uint64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// ValidRefNo reports whether s has the form of a TokenRefNo: 15 to 20
// characters, each an ASCII digit or an upper-case ASCII letter. That
// takes this package's references, 15 digits (RefNoLen) or 20
// (WideRefNoLen), and the API document's sample literally,
// "173736XX8685878", whose XX mask two digits.
func ValidRefNo(s string) bool {
	if len(s) < RefNoLen || len(s) > WideRefNoLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
