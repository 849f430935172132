package ssotoken

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// RefNoLen is the length of every TokenRefNo this package makes: 20 digits
// (until Unix second 10^10, in the year 2286).
const RefNoLen = 20

// Layout of a TokenRefNo: 10 digits of Unix seconds (the API document's
// sample starts the same way), then a 10-digit sequence. The sequence starts
// each second at a random point in [0, refSeqStartMax) and counts up, so
// that numbers from one generator are strictly increasing, and numbers from
// independent generators (other instances, with no coordination) are
// unique with high probability: two generators that each make n numbers in
// the same second collide with probability about (2n-1)/9e9, that is about
// 2 in 10^7 per pair of instances per second at 1,000 numbers per second
// each. A collision makes a shared replay store refuse the second token as
// used; it never lets one be used twice.
const (
	refSeqDigits   = 10
	refSeqMod      = 10_000_000_000 // 10^refSeqDigits
	refSeqStartMax = 9_000_000_000  // leaves 10^9 numbers of headroom per second
)

// RefNoGenerator makes TokenRefNo values: 20 ASCII digits, ordered by time
// (second resolution) and strictly increasing for one generator. The zero
// value is ready to use, with time.Now as its clock. It is safe for
// concurrent use.
type RefNoGenerator struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu  sync.Mutex
	sec int64  // second of the last number
	seq uint64 // sequence of the last number
}

// Next returns a new TokenRefNo.
func (g *RefNoGenerator) Next() string {
	var buf [RefNoLen]byte
	return string(g.append(buf[:0]))
}

func (g *RefNoGenerator) append(dst []byte) []byte {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	sec := now().Unix()

	g.mu.Lock()
	switch {
	case sec > g.sec:
		g.sec, g.seq = sec, rand.Uint64N(refSeqStartMax)
	case g.seq+1 < refSeqMod:
		g.seq++ // same second, or the clock went back: keep counting
	default:
		g.sec, g.seq = g.sec+1, rand.Uint64N(refSeqStartMax) // exhausted: borrow the next second
	}
	sec, seq := g.sec, g.seq
	g.mu.Unlock()

	dst = appendPadded(dst, uint64(sec), 10)
	return appendPadded(dst, seq, refSeqDigits)
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

// ValidRefNo reports whether s has the form of a TokenRefNo as the API
// document shows it: ASCII digits only, 15 to 20 of them.
func ValidRefNo(s string) bool {
	if len(s) < 15 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
