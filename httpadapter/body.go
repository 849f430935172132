package httpadapter

import (
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssotoken"
)

// requestNames are the body's member names, exactly as the
// GenerateSSOToken document spells them.
var requestNames = []string{"CIINo", "LOBId", "Functionality"}

// unmarshalRequest decodes a GenerateSSOToken body to the letter of the
// document: one JSON object, valid UTF-8, whose members CIINo, LOBId and
// Functionality are JSON strings (or null, read as absent), named exactly
// so. A name that differs from one of them only by case ("ciino"), a name
// that appears twice, invalid UTF-8 and an escaped lone surrogate
// ("\ud800") are refused, where encoding/json would match the name
// case-insensitively, keep the last copy, or read U+FFFD. Other members
// are ignored.
//
// The common form (one object of the three names, each at most once, with
// printable ASCII string values without escapes) is read by a small
// scanner without reflection; anything else goes to decodeRequest, the
// module's JSON policy (internal/jose), whose answer is the reference. The
// fast path never refuses a body, and only ever accepts bodies that
// decodeRequest decodes the same way, so the verdict does not depend on
// the path (FuzzUnmarshalRequest and FuzzDecodeRequest check it).
func unmarshalRequest(b []byte, req *ssotoken.Request) error {
	if fastRequest(b, req) {
		return nil
	}
	return decodeRequest(b, req)
}

// decodeRequest is the general path of unmarshalRequest: the body under
// jose.Object's policy (valid UTF-8, exactly one object, no name twice in
// any object, no case variant of a known name), the three members read
// with jose.String.
func decodeRequest(b []byte, req *ssotoken.Request) error {
	*req = ssotoken.Request{}
	return jose.Object(b, requestNames, func(name string, v []byte) error {
		var field *string
		switch name {
		case "CIINo":
			field = &req.CIINo
		case "LOBId":
			field = &req.LOBId
		case "Functionality":
			field = &req.Functionality
		default:
			return nil // another member: ignored, it never reaches the token
		}
		if string(v) == "null" {
			return nil // absent, as encoding/json reads it: Validate names the field missing
		}
		s, err := jose.String(v)
		*field = s
		return err
	})
}

// fastRequest reports whether it decoded b, the common form of the body:
// the three names spelled exactly, each at most once, printable ASCII
// string values without escapes. It never refuses: anything else is left
// to decodeRequest.
func fastRequest(b []byte, req *ssotoken.Request) bool {
	var seen [3]bool
	i := jose.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = jose.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return false // empty object: let decodeRequest answer
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = jose.SkipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		val, j, ok := plainString(b, jose.SkipSpace(b, i+1))
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
		i = jose.SkipSpace(b, j)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return jose.SkipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = jose.SkipSpace(b, i+1)
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
