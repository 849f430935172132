package ssotoken

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refnoSeedTime is the issue time of the API document's sample TokenNo.
var refnoSeedTime = time.Date(2025, 1, 20, 8, 49, 46, 756e6, time.UTC)

// refnoClockSeq returns a clock that answers the given times in turn and
// then keeps answering the last one. It is safe for concurrent use.
func refnoClockSeq(times ...time.Time) func() time.Time {
	var i atomic.Int64
	return func() time.Time {
		n := int(i.Add(1)) - 1
		if n >= len(times) {
			n = len(times) - 1
		}
		return times[n]
	}
}

// refnoParts splits a TokenRefNo into its seconds and its sequence.
func refnoParts(t testing.TB, ref string) (sec, seq uint64) {
	t.Helper()
	require.Len(t, ref, RefNoLen)
	sec, err := strconv.ParseUint(ref[:10], 10, 64)
	require.NoError(t, err)
	seq, err = strconv.ParseUint(ref[10:], 10, 64)
	require.NoError(t, err)
	return sec, seq
}

// refnoASCIIDigits reports whether s is made of ASCII digits only.
func refnoASCIIDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func TestRefNoFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		now  time.Time
		want string // the first 10 digits
	}{
		{name: "API document's sample second", now: refnoSeedTime, want: "1737362986"},
		{name: "sub-second part ignored", now: time.Unix(1737362986, 999_999_999), want: "1737362986"},
		{name: "one second after the epoch is zero padded", now: time.Unix(1, 0), want: "0000000001"},
		{name: "largest 10-digit second", now: time.Unix(9_999_999_999, 0), want: "9999999999"},
		{name: "another time zone, same instant", now: refnoSeedTime.In(time.FixedZone("IST", 5*3600+1800)), want: "1737362986"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &RefNoGenerator{Now: func() time.Time { return tt.now }}
			for range 100 {
				ref := g.Next()
				require.Len(t, ref, RefNoLen)
				assert.True(t, refnoASCIIDigits(ref), "%q is not 20 ASCII digits", ref)
				assert.True(t, ValidRefNo(ref), "%q does not pass ValidRefNo", ref)
				assert.Equal(t, tt.want, ref[:10])
			}
		})
	}
}

func TestRefNoZeroValueUsesTimeNow(t *testing.T) {
	t.Parallel()
	var g RefNoGenerator
	before := time.Now().Unix()
	ref := g.Next()
	after := time.Now().Unix()

	sec, _ := refnoParts(t, ref)
	assert.True(t, ValidRefNo(ref))
	assert.GreaterOrEqual(t, int64(sec), before)
	assert.LessOrEqual(t, int64(sec), after)
}

func TestRefNoStrictlyIncreasing(t *testing.T) {
	t.Parallel()
	t0 := refnoSeedTime
	sec := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Second) }
	tests := []struct {
		name  string
		times []time.Time
		// wantSec is the seconds part of each number, as an offset from t0:
		// a clock that goes back keeps the last second seen.
		wantSec []int
	}{
		{
			name:    "same second",
			times:   []time.Time{sec(0), sec(0), sec(0), sec(0)},
			wantSec: []int{0, 0, 0, 0},
		},
		{
			name:    "same second, different sub-second instants",
			times:   []time.Time{t0.Truncate(time.Second), t0, t0.Truncate(time.Second).Add(999 * time.Millisecond)},
			wantSec: []int{0, 0, 0},
		},
		{
			name:    "clock advances",
			times:   []time.Time{sec(0), sec(1), sec(2), sec(10), sec(3600)},
			wantSec: []int{0, 1, 2, 10, 3600},
		},
		{
			name:    "clock goes back one second",
			times:   []time.Time{sec(0), sec(-1), sec(-1), sec(0), sec(1)},
			wantSec: []int{0, 0, 0, 0, 1},
		},
		{
			name:    "clock goes back an hour and recovers",
			times:   []time.Time{sec(5), sec(-3600), sec(-3599), sec(4), sec(5), sec(6)},
			wantSec: []int{5, 5, 5, 5, 5, 6},
		},
		{
			name:    "clock jumps to the epoch",
			times:   []time.Time{sec(0), time.Unix(0, 0), time.Unix(-1, 0), sec(1)},
			wantSec: []int{0, 0, 0, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Len(t, tt.wantSec, len(tt.times))
			g := &RefNoGenerator{Now: refnoClockSeq(tt.times...)}
			prev := ""
			var prevSec, prevSeq uint64
			for i, want := range tt.wantSec {
				ref := g.Next()
				assert.True(t, ValidRefNo(ref), "%q", ref)
				gotSec, gotSeq := refnoParts(t, ref)
				assert.Equal(t, uint64(t0.Unix()+int64(want)), gotSec, "number %d: %s", i, ref)
				if i > 0 {
					assert.Greater(t, ref, prev, "number %d is not above the one before", i)
					if gotSec == prevSec {
						assert.Equal(t, prevSeq+1, gotSeq, "number %d: same second counts up by one", i)
					}
				}
				prev, prevSec, prevSeq = ref, gotSec, gotSeq
			}
		})
	}
}

func TestRefNoNewSecondStartsRandomSequence(t *testing.T) {
	t.Parallel()
	const seconds = 50
	times := make([]time.Time, 0, 2*seconds)
	for i := range seconds {
		s := refnoSeedTime.Add(time.Duration(i) * time.Second)
		times = append(times, s, s) // two numbers per second
	}
	g := &RefNoGenerator{Now: refnoClockSeq(times...)}

	starts := make(map[uint64]bool)
	var prevSeq uint64
	for i := range seconds {
		first, second := g.Next(), g.Next()
		sec1, seq1 := refnoParts(t, first)
		sec2, seq2 := refnoParts(t, second)
		assert.Equal(t, uint64(refnoSeedTime.Unix())+uint64(i), sec1)
		assert.Equal(t, sec1, sec2)
		assert.Equal(t, seq1+1, seq2, "the second number of a second follows the first")
		assert.Less(t, seq1, uint64(refSeqStartMax), "a second starts below refSeqStartMax, leaving headroom")
		if i > 0 {
			// A start that happened to continue the last sequence has a
			// probability of 1 in 9*10^9 per second.
			assert.NotEqual(t, prevSeq+1, seq1, "second %d continued the sequence instead of starting anew", i)
		}
		starts[seq1] = true
		prevSeq = seq2
	}
	// 50 draws from 9*10^9 values: a repeat has a probability of about
	// 50^2/2 / 9e9 = 1.4e-7.
	assert.Len(t, starts, seconds, "each second starts at its own random point")
}

// TestRefNoExhaustedSecondBorrowsNext covers a generator that runs out of
// sequence numbers within one second: it moves on to the next second
// rather than wrap around or grow past 20 digits.
func TestRefNoExhaustedSecondBorrowsNext(t *testing.T) {
	t.Parallel()
	now := refnoSeedTime
	g := &RefNoGenerator{Now: func() time.Time { return now }}
	first := g.Next()
	g.mu.Lock()
	g.seq = refSeqMod - 3
	g.mu.Unlock()

	refs := []string{first}
	for range 5 {
		refs = append(refs, g.Next())
	}
	base := uint64(now.Unix())
	for i, ref := range refs {
		assert.True(t, ValidRefNo(ref), "%q", ref)
		if i > 0 {
			assert.Greater(t, ref, refs[i-1])
		}
	}
	sec, seq := refnoParts(t, refs[2])
	assert.Equal(t, base, sec)
	assert.Equal(t, uint64(refSeqMod-1), seq, "the last sequence number of the second")
	for _, ref := range refs[3:] {
		sec, _ := refnoParts(t, ref)
		assert.Equal(t, base+1, sec, "%s: the next second is borrowed", ref)
	}

	// When the clock catches up with the borrowed second, numbers keep
	// counting in it; one second later a new sequence starts.
	now = now.Add(time.Second)
	caught := g.Next()
	assert.Greater(t, caught, refs[len(refs)-1])
	sec, _ = refnoParts(t, caught)
	assert.Equal(t, base+1, sec)
	now = now.Add(time.Second)
	next := g.Next()
	assert.Greater(t, next, caught)
	sec, _ = refnoParts(t, next)
	assert.Equal(t, base+2, sec)
}

// TestRefNoConcurrentNoDuplicates draws 1,000,000 numbers from one
// generator in 8 goroutines. Each goroutine's numbers must be strictly
// increasing, and all of them distinct.
func TestRefNoConcurrentNoDuplicates(t *testing.T) {
	t.Parallel()
	const (
		workers   = 8
		perWorker = 125_000
	)
	tests := []struct {
		name string
		now  func() time.Time
	}{
		// One second for all: the sequence must count 10^6 steps without
		// repeating (it starts below 9*10^9, so it never has to borrow).
		{name: "fixed clock", now: func() time.Time { return refnoSeedTime }},
		// The real clock, so the run may cross seconds.
		{name: "time.Now", now: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &RefNoGenerator{Now: tt.now}
			out := make([][]string, workers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					refs := make([]string, perWorker)
					<-start
					for i := range refs {
						refs[i] = g.Next()
					}
					out[w] = refs
				}()
			}
			close(start)
			wg.Wait()

			seen := make(map[string]struct{}, workers*perWorker)
			for w, refs := range out {
				require.Len(t, refs, perWorker)
				decreasing := 0
				for i, ref := range refs {
					if len(ref) != RefNoLen || !refnoASCIIDigits(ref) {
						t.Fatalf("worker %d, number %d: %q is not 20 digits", w, i, ref)
					}
					if i > 0 && ref <= refs[i-1] {
						decreasing++
					}
					seen[ref] = struct{}{}
				}
				assert.Zero(t, decreasing, "worker %d: numbers not strictly increasing", w)
			}
			assert.Len(t, seen, workers*perWorker, "duplicates among %d numbers", workers*perWorker)
		})
	}
}

// TestRefNoIndependentGeneratorsRarelyCollide runs two generators (two
// instances, no coordination) on the same fixed second. Each starts at an
// independent uniform point of [0, 9*10^9) and counts n = 10,000 numbers,
// so their ranges overlap only if the starts are less than n apart:
// P = (2n-1)/9e9 ≈ 2.2e-6 per run. That is the whole flake rate of this
// test.
func TestRefNoIndependentGeneratorsRarelyCollide(t *testing.T) {
	t.Parallel()
	const n = 10_000
	clock := func() time.Time { return refnoSeedTime }
	a := &RefNoGenerator{Now: clock}
	b := &RefNoGenerator{Now: clock}
	seen := make(map[string]struct{}, 2*n)
	for range n {
		seen[a.Next()] = struct{}{}
		seen[b.Next()] = struct{}{}
	}
	assert.Len(t, seen, 2*n)
}

func TestValidRefNo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{name: "15 digits", in: "173736298685878", want: true},
		{name: "16 digits", in: "1737362986858781", want: true},
		{name: "17 digits", in: "17373629868587812", want: true},
		{name: "18 digits", in: "173736298685878123", want: true},
		{name: "19 digits", in: "1737362986858781234", want: true},
		{name: "20 digits", in: "17373629868587812345", want: true},
		{name: "all zeros", in: "00000000000000000000", want: true},
		{name: "all nines", in: "99999999999999999999", want: true},
		{name: "generated", in: (&RefNoGenerator{}).Next(), want: true},

		{name: "empty", in: "", want: false},
		{name: "14 digits", in: "17373629868587", want: false},
		{name: "21 digits", in: "173736298685878123456", want: false},
		{name: "API document's sample with XX", in: "173736XX8685878", want: false},
		{name: "lower-case letter", in: "1737362986858781234a", want: false},
		{name: "leading plus", in: "+1737362986858781234", want: false},
		{name: "leading minus", in: "-1737362986858781234", want: false},
		{name: "leading space", in: " 1737362986858781234", want: false},
		{name: "trailing newline", in: "1737362986858781234\n", want: false},
		{name: "NUL", in: "17373629868587\x0081234", want: false},
		{name: "decimal point", in: "1737362986.858781234", want: false},
		{name: "exponent", in: "17373629868587812e34", want: false},
		{name: "arabic-indic digit (16 bytes)", in: "17373629868587\u0663", want: false},
		{name: "fullwidth digit (16 bytes)", in: "1737362986858\uff11", want: false},
		{name: "devanagari digits only", in: "\u0967\u0968\u0969\u096a\u096b\u096c", want: false},
		{name: "invalid UTF-8", in: "1737362986858781\xff\xfe", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, ValidRefNo(tt.in), "ValidRefNo(%q)", tt.in)
		})
	}
}

// refnoSink keeps the benchmarks' results alive, so that the string each
// Next returns is really made.
var refnoSink atomic.Pointer[string]

func BenchmarkRefNoNext(b *testing.B) {
	var g RefNoGenerator
	var ref string
	b.ReportAllocs()
	for b.Loop() {
		ref = g.Next()
	}
	refnoSink.Store(&ref)
}

func BenchmarkRefNoNextParallel(b *testing.B) {
	var g RefNoGenerator
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ref string
		for pb.Next() {
			ref = g.Next()
		}
		refnoSink.Store(&ref)
	})
}
