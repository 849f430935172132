// Package jsonx holds the module's allocation-free JSON encoding helpers.
package jsonx

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string (RFC 8259 section 7).
// Invalid UTF-8 becomes U+FFFD, as encoding/json does; U+2028 and U+2029
// are escaped so the output is also safe inside JavaScript.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start, run := 0, 0 // run: plain ASCII bytes in a row
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				// After a few plain bytes, eight at a time while none
				// needs a look: the common string (a token, an id) is
				// plain throughout, and text dense with escapes or
				// non-ASCII letters never pays for the attempt.
				if run++; run >= 4 {
					for i+8 <= len(s) && plain8(s[i:i+8]) {
						i += 8
					}
					run = 0
				}
				continue
			}
			run = 0
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		run = 0
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Word masks for plain8.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 reports whether the eight bytes of s are all printable ASCII
// other than '"' and '\\', which AppendString copies as they are. It tests
// the eight at once (the "has zero byte" and "has byte less than"
// word tricks, exact for these constants): a byte of 0x80 or more, a byte
// under 0x20, or a '"' or '\\' sets the high bit of its lane.
func plain8(s string) bool {
	_ = s[7]
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	control := (w - ones*0x20) & ^w
	quote := w ^ (ones * '"')
	backslash := w ^ (ones * '\\')
	return (w|control|(quote-ones)&^quote|(backslash-ones)&^backslash)&highs == 0
}
