package ssotoken

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestAppendPadded checks the zero padding of the TokenRefNo's parts, each
// call within 5 s: a padding loop that never ends (a bound turned
// round, a counter that runs the wrong way) fails here at once, instead of
// appending zeros until the tests time out or run out of memory. This file
// sorts before the package's other tests on purpose, so that it runs
// before any test that issues a token, all of which would hang in such a
// loop; and it then panics, which ends the test binary: the looping
// goroutine cannot be stopped, and the examples, which -failfast does not
// skip, would hang in it too.
func TestAppendPadded(t *testing.T) {
	for _, tt := range []struct {
		v     uint64
		width int
		want  string
	}{
		{v: 0, width: 5, want: "00000"},
		{v: 7, width: 5, want: "00007"},
		{v: 12345, width: 5, want: "12345"},
		{v: 123456, width: 5, want: "123456"}, // wider than width: never cut
		{v: 0, width: 10, want: "0000000000"},
		{v: 1737362986, width: 10, want: "1737362986"},
		{v: 99, width: 0, want: "99"},
		{v: math.MaxUint64, width: 20, want: "18446744073709551615"},
	} {
		done := make(chan string, 1)
		go func() { done <- string(appendPadded([]byte("x"), tt.v, tt.width)) }()
		select {
		case got := <-done:
			assert.Equal(t, "x"+tt.want, got, "appendPadded(%d, %d)", tt.v, tt.width)
		case <-time.After(5 * time.Second):
			panic(fmt.Sprintf("appendPadded(%d, %d) did not return within 5 s: an endless loop", tt.v, tt.width))
		}
	}
}
