package jose

import (
	"encoding/base64"
	"errors"
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

// TestRegistered decodes the registered claims through golang-jwt's
// jwt.Claims methods, once, as every token class does.
func TestRegistered(t *testing.T) {
	unmarshal := func(t *testing.T, raw string) *Registered {
		t.Helper()
		r := new(Registered)
		require.NoError(t, r.UnmarshalJSON([]byte(raw)))
		return r
	}
	t.Run("every claim", func(t *testing.T) {
		var own []string
		r := unmarshal(t, `{"iss":"i","sub":"s","jti":"j","aud":"a","exp":300,"nbf":100.5,"iat":99.5,"x":"y"}`)
		r.Init(ClaimNames("x"), func(name string, v []byte) error { own = append(own, name+"="+string(v)); return nil })
		exp, err := r.GetExpirationTime()
		require.NoError(t, err)
		assert.Equal(t, int64(300), exp.Unix())
		nbf, err := r.GetNotBefore()
		require.NoError(t, err)
		assert.Equal(t, int64(101), nbf.Unix(), "rounded up")
		iat, err := r.GetIssuedAt()
		require.NoError(t, err)
		assert.Equal(t, int64(100), iat.Unix(), "rounded up")
		iss, err := r.GetIssuer()
		require.NoError(t, err)
		assert.Equal(t, "i", iss)
		sub, err := r.GetSubject()
		require.NoError(t, err)
		assert.Equal(t, "s", sub)
		aud, err := r.GetAudience()
		require.NoError(t, err)
		assert.Equal(t, jwt.ClaimStrings{"a"}, aud)
		assert.True(t, r.AudienceString)
		assert.Equal(t, "j", r.ID)
		assert.True(t, r.HasExp && r.HasNbf && r.HasIat)
		assert.Equal(t, []string{`x="y"`}, own, "the class's member, once: Decode runs once")
		assert.Equal(t, []byte(`{"iss":"i","sub":"s","jti":"j","aud":"a","exp":300,"nbf":100.5,"iat":99.5,"x":"y"}`), r.Raw())
	})
	t.Run("absent times", func(t *testing.T) {
		r := unmarshal(t, `{"aud":["a","b"]}`)
		for _, get := range []func() (*jwt.NumericDate, error){r.GetExpirationTime, r.GetNotBefore, r.GetIssuedAt} {
			d, err := get()
			require.NoError(t, err)
			assert.Nil(t, d)
		}
		assert.False(t, r.AudienceString)
		assert.Equal(t, []string{"a", "b"}, r.Audience)
	})
	t.Run("a policy error, every time", func(t *testing.T) {
		r := unmarshal(t, `{"exp":1,"exp":2}`)
		for range 2 {
			d, err := r.GetExpirationTime()
			assert.ErrorIs(t, err, ErrDuplicate)
			assert.Nil(t, d, "no date from a claim set that failed")
		}
		_, err := r.GetIssuer()
		assert.ErrorIs(t, err, ErrDuplicate)
	})
	t.Run("a wrong type", func(t *testing.T) {
		for _, raw := range []string{`{"exp":"1"}`, `{"nbf":null}`, `{"iat":true}`, `{"iss":1}`, `{"sub":[]}`, `{"jti":{}}`, `{"aud":1}`} {
			r := unmarshal(t, raw)
			assert.ErrorIs(t, r.Decode(), ErrType, raw)
		}
	})
	t.Run("the class's member fails", func(t *testing.T) {
		r := unmarshal(t, `{"x":1}`)
		bad := errors.New("bad")
		r.Init(ClaimNames("x"), func(string, []byte) error { return bad })
		assert.ErrorIs(t, r.Decode(), bad)
	})
	t.Run("no Init: the registered names only", func(t *testing.T) {
		r := unmarshal(t, `{"EXP":1}`)
		assert.ErrorIs(t, r.Decode(), ErrCaseVariant)
	})
}
