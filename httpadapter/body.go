package httpadapter

import (
	"encoding/json"

	"github.com/ssokit/ssokit/ssotoken"
)

// unmarshalRequest decodes a GenerateSSOToken body. The common form (one
// object of the three fields, in any order, with printable ASCII string
// values without escapes) is read by a small scanner without reflection;
// anything else (escapes, other fields, other types, repeated fields,
// non-ASCII) goes to encoding/json, whose answer is the reference. The
// fast path only ever accepts bodies encoding/json decodes the same way
// (FuzzUnmarshalRequest checks it).
func unmarshalRequest(b []byte, req *ssotoken.Request) error {
	if fastRequest(b, req) {
		return nil
	}
	*req = ssotoken.Request{}
	return json.Unmarshal(b, req)
}

// fastRequest reports whether it decoded b, the common form of the body.
func fastRequest(b []byte, req *ssotoken.Request) bool {
	var seen [3]bool
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return false // empty object: let encoding/json answer
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		val, j, ok := plainString(b, skipSpace(b, i+1))
		if !ok {
			return false
		}
		var field *string
		var n int
		switch string(key) {
		case "CIINo":
			field, n = &req.CIINo, 0
		case "LOBId":
			field, n = &req.LOBId, 1
		case "Functionality":
			field, n = &req.Functionality, 2
		default:
			return false
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		*field = string(val)
		i = skipSpace(b, j)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
}

// plainString reads a JSON string at b[i] made only of printable ASCII
// without escapes, and returns its contents and the index after it.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, i, false
		}
	}
	return nil, i, false
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
