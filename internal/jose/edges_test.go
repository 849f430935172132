package jose

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoEndlessLoops runs the hand-written scans (split, stringEnd,
// loneSurrogate) over escapes and arrays within a deadline: a scan that
// steps the wrong way would loop for ever, and must fail here at once
// rather than when the tests time out. This file sorts before the
// package's other test files so that it runs first; it panics, which ends
// the test binary, because the looping goroutine cannot be stopped.
func TestNoEndlessLoops(t *testing.T) {
	for _, tt := range []struct {
		name string
		run  func()
	}{
		{"split over escapes and a flat array", func() {
			_, _ = split([]byte(`{"a":"x\"y\\","b":["\"]",1,"z"],"c":true}`), nil)
		}},
		{"Object over escapes and a flat array", func() {
			_ = Object([]byte(`{"a":"x\"y\\","b":["\"]",1,"z"]}`), nil, func(string, []byte) error { return nil })
		}},
		{"loneSurrogate over escapes", func() { _ = loneSurrogate([]byte(`"a\"b\\c\u0041\ud800\udc00"`)) }},
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			tt.run()
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			panic(tt.name + " did not return within 5 s: an endless loop")
		}
	}
}

// TestHex4: four hex digits of either case, and -1 for anything else,
// including too few bytes.
func TestHex4(t *testing.T) {
	for _, tt := range []struct {
		s    string
		i    int
		want int
	}{
		{"0000", 0, 0},
		{"0009", 0, 9},
		{"000a", 0, 10},
		{"000f", 0, 15},
		{"000A", 0, 10},
		{"000F", 0, 15},
		{"FfFf", 0, 0xffff},
		{"d800", 0, 0xd800},
		{"xd800", 1, 0xd800},
		{"d80", 0, -1},  // too short
		{"xd80", 1, -1}, // too short from i
		{"000/", 0, -1}, // '0'-1
		{"000:", 0, -1}, // '9'+1
		{"000`", 0, -1}, // 'a'-1
		{"000g", 0, -1}, // 'f'+1
		{"000@", 0, -1}, // 'A'-1
		{"000G", 0, -1}, // 'F'+1
		{"", 0, -1},
	} {
		assert.Equal(t, tt.want, hex4([]byte(tt.s), tt.i), "hex4(%q, %d)", tt.s, tt.i)
	}
}

// TestLoneSurrogateEdges: the surrogate ranges to their last code point,
// and text that ends inside an escape (never passed in, since callers
// pass validated JSON, but never a panic).
func TestLoneSurrogateEdges(t *testing.T) {
	for v, want := range map[string]bool{
		`\ud7ff`:       false, // below the high surrogates
		`\ud800`:       true,  // the first high surrogate, at the very end
		`\udbff`:       true,
		`\udc00`:       true,  // the first low surrogate, at the very end
		`\udfff`:       true,  // the last
		`\ue000`:       false, // above the low surrogates
		`\ud800\udc00`: false,
		`\udbff\udfff`: false,
		`\ud800\ue000`: true, // a high surrogate, then no low half
		`\ud800\udbff`: true,
		`\ud800\udc0`:  true, // the low half cut short
		`\ud800\`:      true,
		`\`:            false,
		`\u`:           false,
		`\ud8`:         false,
	} {
		assert.Equal(t, want, loneSurrogate([]byte(v)), "%s", v)
	}
}

func TestSkipSpace(t *testing.T) {
	for _, tt := range []struct {
		s       string
		i, want int
	}{
		{"", 0, 0},
		{"  ", 0, 2},
		{" \t\r\n", 0, 4},
		{" \t\r\nx", 0, 4},
		{"x ", 1, 2},
		{"x y", 1, 2},
		{"\v", 0, 0}, // not JSON white space
		{"\u00a0", 0, 0},
	} {
		assert.Equal(t, tt.want, SkipSpace([]byte(tt.s), tt.i), "SkipSpace(%q, %d)", tt.s, tt.i)
	}
}

// TestValueEdges: the last digit and the latest date, and empty values.
func TestValueEdges(t *testing.T) {
	for raw, want := range map[string]int64{
		`9`:              9,
		`0`:              0,
		`253402300799.0`: MaxSeconds, // a fraction: the float path, at its bound
		`253402300798.5`: MaxSeconds - 1,
	} {
		got, err := Seconds([]byte(raw))
		require.NoError(t, err, raw)
		assert.Equal(t, want, got, raw)
	}
	for _, raw := range []string{``, `253402300799.5`, `:`, `/`} {
		_, err := Seconds([]byte(raw))
		assert.ErrorIs(t, err, ErrType, "%q", raw)
	}
	for _, raw := range []string{``, `x`} {
		_, err := Audience([]byte(raw))
		assert.ErrorIs(t, err, ErrType, "Audience(%q)", raw)
		_, err = Strings([]byte(raw))
		assert.ErrorIs(t, err, ErrType, "Strings(%q)", raw)
		_, err = String([]byte(raw))
		assert.ErrorIs(t, err, ErrType, "String(%q)", raw)
	}
}

// TestCompactEdges: each end of each range of the alphabet, and the byte
// beside it.
func TestCompactEdges(t *testing.T) {
	assert.True(t, Compact("az.AZ.09-_"))
	for _, c := range "`{@[/:" {
		tok := "a." + string(c) + ".b"
		assert.False(t, Compact(tok), "%q", tok)
	}
}

// TestObjectNested: names are checked for duplicates in every object,
// after nested values too, and in each object on its own.
func TestObjectNested(t *testing.T) {
	nop := func(string, []byte) error { return nil }
	for raw, want := range map[string]error{
		`{"a":{"x":{"y":1},"z":1,"z":2}}`:     ErrDuplicate,
		`{"a":{"x":[1,{"y":1}],"z":1,"z":2}}`: ErrDuplicate,
		`{"a":[{"x":1},{"x":1}]}`:             nil,
		`{"a":{"x":{"x":1}}}`:                 nil,
		`{"a":{"x":1},"b":{"x":1}}`:           nil,
	} {
		assert.Equal(t, want, Object([]byte(raw), nil, nop), raw)
	}
}

// TestObjectCaseVariantNotASCII: a name of non-ASCII letters that fold to
// a known name's ASCII ones ("ſ" to "s", the Kelvin sign to "k") is a
// case variant, though its length differs.
func TestObjectCaseVariantNotASCII(t *testing.T) {
	nop := func(string, []byte) error { return nil }
	assert.ErrorIs(t, Object([]byte(`{"ſK":1}`), []string{"sk"}, nop), ErrCaseVariant)
	assert.ErrorIs(t, Object([]byte(`{"ſ":1}`), []string{"s"}, nop), ErrCaseVariant)
	assert.NoError(t, Object([]byte(`{"ſK":1}`), []string{"ski"}, nop))
}

// TestCheckHeaderSize: a header segment of exactly MaxHeaderBytes is read;
// the next longer one (two more: no base64url text has a length of 4n+1)
// is refused before decoding.
func TestCheckHeaderSize(t *testing.T) {
	header := func(n int) string { // a header segment of n base64url characters
		for pad := 0; ; pad++ {
			seg := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"` + strings.Repeat("k", pad) + `"}`))
			if len(seg) == n {
				return seg
			}
			require.Less(t, len(seg), n, "no header of %d characters", n)
		}
	}
	p := jwt.NewParser()
	for _, tt := range []struct {
		n    int
		want error
	}{{MaxHeaderBytes, nil}, {MaxHeaderBytes + 2, ErrSyntax}} {
		tok := &jwt.Token{Raw: header(tt.n) + ".e30.sig"}
		h, err := CheckHeader(p, tok)
		assert.Equal(t, tt.want, err, "a header of %d characters", tt.n)
		if tt.want == nil {
			assert.Equal(t, "RS256", h.Alg)
		}
	}
}

// TestClaimNamesManyOwn: a class may have more names of its own than the
// registered ones.
func TestClaimNamesManyOwn(t *testing.T) {
	var own []string
	for i := range 3 * len(registeredNames) {
		own = append(own, fmt.Sprintf("c%d", i))
	}
	names := ClaimNames(own...)
	assert.Equal(t, append(append([]string(nil), registeredNames...), own...), names)
}
