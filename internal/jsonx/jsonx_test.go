package jsonx

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `q"uote`, `back\slash`, "\x00\x01\x1f", "tab\tnl\nret\r",
		"<html>&", "é世界", "\u2028\u2029", "bad\xffutf8", "\x7f",
	} {
		var back string
		require.NoError(t, json.Unmarshal(AppendString(nil, s), &back), "%q", s)
		std, _ := json.Marshal(s)
		var stdBack string
		require.NoError(t, json.Unmarshal(std, &stdBack))
		assert.Equal(t, stdBack, back, "%q decodes as encoding/json's output does", s)
	}
}

// plain8 agrees with the byte-by-byte test for every byte value at every
// lane, over plain and random neighbours, and for random words.
func TestPlain8(t *testing.T) {
	plain := func(s string) bool {
		for i := range len(s) {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	rng := rand.New(rand.NewPCG(3, 4))
	random := func() []byte {
		b := make([]byte, 8)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, background := range [][]byte{[]byte("abcdefgh"), []byte("        "), []byte("~~~~~~~~"), []byte("!!!!!!!!"), random(), random()} {
		for lane := range 8 {
			for c := range 256 {
				b := append([]byte(nil), background...)
				b[lane] = byte(c)
				require.Equal(t, plain(string(b)), plain8(string(b)), "%q", b)
			}
		}
	}
	for range 200000 {
		b := random()
		for i := range b { // mostly printable, so that both answers occur
			if rng.IntN(4) != 0 {
				b[i] = byte(0x20 + rng.IntN(0x60))
			}
		}
		require.Equal(t, plain(string(b)), plain8(string(b)), "%q", b)
	}
}

// FuzzAppendString: the output is one JSON string that decodes to what
// encoding/json's output decodes to.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "a token.with.dots-and_underscores", `q"uote\`, "\x00\x1f\x7f", "é世界\u2028", "bad\xffutf8", "12345678\"12345678\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString([]byte("x"), s)
		require.Equal(t, byte('x'), out[0])
		var back string
		require.NoError(t, json.Unmarshal(out[1:], &back), "%q", s)
		std, err := json.Marshal(s)
		require.NoError(t, err)
		var stdBack string
		require.NoError(t, json.Unmarshal(std, &stdBack))
		require.Equal(t, stdBack, back, "%q", s)
	})
}

// BenchmarkAppendString is a TokenNo's worth of base64url beside
// encoding/json's encoding of the same string,
// and, so that the fast path costs the other strings nothing, a string
// dense with escapes and one of non-ASCII text.
func BenchmarkAppendString(b *testing.B) {
	for _, in := range []struct{ name, s string }{
		{"token", strings.Repeat("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 9)},
		{"escapes", strings.Repeat("a\"b\\c\n", 30)},
		{"devanagari", strings.Repeat("नमस्ते दुनिया ", 12)},
	} {
		b.Run(in.name+"/jsonx", func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			b.SetBytes(int64(len(in.s)))
			for b.Loop() {
				buf = AppendString(buf[:0], in.s)
			}
		})
		b.Run(in.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.s)))
			for b.Loop() {
				_, _ = json.Marshal(in.s)
			}
		})
	}
}
