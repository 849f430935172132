package ssotoken

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testClock is a settable clock, safe for concurrent use. Its Sleep stands
// for a real wait: it moves the clock on at once, so that a generator that
// waits for the next second takes no real time.
type testClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps atomic.Int64 // Sleep calls that moved the clock
	slept  atomic.Int64 // their durations, summed
}

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.Set(t)
	return c
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC().Round(0)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Sleep advances the clock by d, or fails with ctx's error if ctx is done.
// A generator only ever waits forward (until its next second) and briefly,
// so a wait that is not forward, or that brings this clock's waits past
// testClockMaxSlept, fails with errTestClockStuck: a generator that never
// stops waiting would otherwise spin for ever on a clock whose waits take
// no real time, and its test would hang instead of failing.
func (c *testClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if slept := time.Duration(c.slept.Load()); d <= 0 || slept+d > testClockMaxSlept {
		return fmt.Errorf("%w: a wait of %v after %v of waits", errTestClockStuck, d, slept)
	}
	c.sleeps.Add(1)
	c.slept.Add(int64(d))
	c.Advance(d)
	return nil
}

// testClockMaxSlept bounds the waits of one testClock: far more than any
// test waits.
const testClockMaxSlept = time.Hour

// errTestClockStuck is the error of a testClock's Sleep that no generator
// should ask for.
var errTestClockStuck = errors.New("testClock: a generator waits backwards, not at all, or for ever")

// newTestSigner returns a Signer for cfg on a testClock that reads at from
// its first Issue on. The Signer was started the second before, so its
// start-up second (in which it issues nothing) is over; its waits advance
// the clock.
func newTestSigner(t testing.TB, cfg SignerConfig, at time.Time) (*Signer, *testClock) {
	t.Helper()
	clock := newTestClock(at)
	return newTestSignerOn(t, cfg, clock), clock
}

// newTestSignerOn is newTestSigner on clock, from the time it reads.
func newTestSignerOn(t testing.TB, cfg SignerConfig, clock *testClock) *Signer {
	t.Helper()
	at := clock.Now()
	clock.Set(at.Add(-time.Second))
	cfg.Now = clock.Now
	s, err := NewSigner(cfg)
	require.NoError(t, err)
	s.refNos.sleep = clock.Sleep
	clock.Set(at)
	return s
}

// newTestGenerator returns a generator for cfg on a testClock that reads at
// from its first Next on, started the second before; its waits advance
// the clock.
func newTestGenerator(t testing.TB, cfg RefNoConfig, at time.Time) (*RefNoGenerator, *testClock) {
	t.Helper()
	clock := newTestClock(at.Add(-time.Second))
	cfg.Now = clock.Now
	g, err := NewRefNoGenerator(cfg)
	require.NoError(t, err)
	g.sleep = clock.Sleep
	clock.Set(at)
	return g, clock
}
