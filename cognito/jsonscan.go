package cognito

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A small strict JSON reader for the two flat objects of a JWS: the header
// and the claim set. It accepts exactly RFC 8259 JSON (valid UTF-8, no
// trailing data, nesting at most maxDepth deep) and reports positions into
// its input, so that unescaped strings need no copy. Escaped strings are
// decoded by encoding/json, so their meaning is exactly encoding/json's.

const maxDepth = 32

type scanner struct {
	b   []byte
	pos int
}

func (s *scanner) ws() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// consume skips white space and then c, and reports whether c was there.
func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.pos < len(s.b) && s.b[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos < len(s.b) {
		return s.b[s.pos]
	}
	return 0
}

// str reads a string at s.pos and returns the bounds of its contents
// (without quotes) and whether it holds escapes.
func (s *scanner) str() (start, end int, esc, ok bool) {
	if s.pos >= len(s.b) || s.b[s.pos] != '"' {
		return 0, 0, false, false
	}
	start = s.pos + 1
	nonASCII := false
	for i := start; i < len(s.b); {
		c := s.b[i]
		switch {
		case c == '"':
			if nonASCII && !utf8.Valid(s.b[start:i]) {
				return 0, 0, false, false
			}
			s.pos = i + 1
			return start, i, esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(s.b) {
				return 0, 0, false, false
			}
			switch s.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.b) || !isHex4(s.b[i+2:i+6]) {
					return 0, 0, false, false
				}
				i += 6
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		default:
			if c >= utf8.RuneSelf {
				nonASCII = true
			}
			i++
		}
	}
	return 0, 0, false, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// unescape decodes the string whose contents are s.b[start:end], which
// holds escapes (str has validated it).
func (s *scanner) unescape(start, end int) (string, bool) {
	var v string
	err := json.Unmarshal(s.b[start-1:end+1], &v)
	return v, err == nil
}

// num reads a number at s.pos and returns its bounds and whether it is an
// integer (no fraction, no exponent).
func (s *scanner) num() (start, end int, isInt, ok bool) {
	b, i := s.b, s.pos
	start = i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0, 0, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, 0, false, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, 0, false, false
		}
	}
	s.pos = i
	return start, i, isInt, true
}

// skip reads and discards one value of any type.
func (s *scanner) skip(depth int) bool {
	switch s.peek() {
	case '"':
		_, _, _, ok := s.str()
		return ok
	case '{':
		if depth >= maxDepth {
			return false
		}
		s.pos++
		if s.consume('}') {
			return true
		}
		for {
			s.ws()
			if _, _, _, ok := s.str(); !ok || !s.consume(':') || !s.skip(depth+1) {
				return false
			}
			if s.consume(',') {
				continue
			}
			return s.consume('}')
		}
	case '[':
		if depth >= maxDepth {
			return false
		}
		s.pos++
		if s.consume(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.consume(',') {
				continue
			}
			return s.consume(']')
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case 0:
		return false
	}
	_, _, _, ok := s.num()
	return ok
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.pos >= len(lit) && string(s.b[s.pos:s.pos+len(lit)]) == lit {
		s.pos += len(lit)
		return true
	}
	return false
}

// key reads an object member's name and the colon after it. The name is a
// substring of src (which holds the same bytes as s.b) unless escaped.
func (s *scanner) key(src string) (string, bool) {
	s.ws()
	start, end, esc, ok := s.str()
	if !ok || !s.consume(':') {
		return "", false
	}
	if esc {
		return s.unescape(start, end)
	}
	return src[start:end], true
}

// parseError tells a syntax error (the token is not JSON) from a claim of
// the wrong type.
type parseError uint8

const (
	parseOK parseError = iota
	parseSyntax
	parseType
)

// header is what the JOSE header says that matters here.
type header struct {
	alg, kid       string
	hasAlg, hasKID bool
	embeddedKey    bool // "jwk", "jku", "x5u" or "x5c"
	crit           bool // "crit": extensions that must be understood
}

// parseHeader reads a JOSE header. alg and kid are substrings of src,
// which holds the bytes of b (src may alias b: the caller keeps it only as
// long as b is unchanged).
func parseHeader(b []byte, src string, h *header) parseError {
	s := scanner{b: b}
	if !s.consume('{') {
		return parseSyntax
	}
	if !s.consume('}') {
		for {
			k, ok := s.key(src)
			if !ok {
				return parseSyntax
			}
			switch k {
			case "alg", "kid":
				if s.peek() != '"' {
					if !s.skip(1) {
						return parseSyntax
					}
					return parseType
				}
				start, end, esc, ok := s.str()
				if !ok {
					return parseSyntax
				}
				v := src[start:end]
				if esc {
					if v, ok = s.unescape(start, end); !ok {
						return parseSyntax
					}
				}
				if k == "alg" {
					if h.hasAlg {
						return parseType
					}
					h.alg, h.hasAlg = v, true
				} else {
					if h.hasKID {
						return parseType
					}
					h.kid, h.hasKID = v, true
				}
			case "jwk", "jku", "x5u", "x5c":
				h.embeddedKey = true
				if !s.skip(1) {
					return parseSyntax
				}
			case "crit":
				h.crit = true
				if !s.skip(1) {
					return parseSyntax
				}
			default:
				if !s.skip(1) {
					return parseSyntax
				}
			}
			if s.consume(',') {
				continue
			}
			if !s.consume('}') {
				return parseSyntax
			}
			break
		}
	}
	s.ws()
	if s.pos != len(b) {
		return parseSyntax
	}
	return parseOK
}

// numericDate is a JWT NumericDate (RFC 7519 section 2).
type numericDate struct {
	t   time.Time
	set bool
}

// maxNumericDate bounds NumericDates (about 31 million years), so that
// every accepted value is exact in a time.Time.
const maxNumericDate = 1e15

// claims are the claims of a Cognito token that are checked or returned.
// Strings are substrings of the payload string they were parsed from.
type claims struct {
	exp, nbf, iat   numericDate
	iss, sub, aud   string
	username        string
	cognitoUsername string
	clientID        string
	tokenUse        string
	scope           string
	groups          []string
	hasGroups       bool
	attrs           map[string]string
}

// Bits of claims seen, to refuse a claim that appears twice: JSON parsers
// disagree about duplicate names (RFC 8259 section 4), so none is trusted.
const (
	seenExp = 1 << iota
	seenNbf
	seenIat
	seenIss
	seenSub
	seenAud
	seenUsername
	seenCognitoUsername
	seenClientID
	seenTokenUse
	seenScope
	seenGroups
)

// parseClaims reads a Cognito claim set. src holds the same bytes as b;
// the strings of c are substrings of src.
func parseClaims(b []byte, src string, c *claims) parseError {
	s := scanner{b: b}
	if !s.consume('{') {
		return parseSyntax
	}
	var seen uint32
	if !s.consume('}') {
		for {
			k, ok := s.key(src)
			if !ok {
				return parseSyntax
			}
			var bit uint32
			var str *string
			var date *numericDate
			switch k {
			case "exp":
				bit, date = seenExp, &c.exp
			case "nbf":
				bit, date = seenNbf, &c.nbf
			case "iat":
				bit, date = seenIat, &c.iat
			case "iss":
				bit, str = seenIss, &c.iss
			case "sub":
				bit, str = seenSub, &c.sub
			case "aud":
				bit, str = seenAud, &c.aud
			case "username":
				bit, str = seenUsername, &c.username
			case "cognito:username":
				bit, str = seenCognitoUsername, &c.cognitoUsername
			case "client_id":
				bit, str = seenClientID, &c.clientID
			case "token_use":
				bit, str = seenTokenUse, &c.tokenUse
			case "scope":
				bit, str = seenScope, &c.scope
			case "cognito:groups":
				bit = seenGroups
			}
			if seen&bit != 0 {
				return parseType
			}
			seen |= bit
			var perr parseError
			switch {
			case date != nil:
				perr = s.date(date)
			case str != nil:
				perr = s.stringValue(src, str)
			case bit == seenGroups:
				perr = s.stringArray(src, c)
			case strings.HasPrefix(k, "custom:") && s.peek() == '"':
				var v string
				if perr = s.stringValue(src, &v); perr == parseOK {
					if _, dup := c.attrs[k]; dup {
						return parseType
					}
					if c.attrs == nil {
						c.attrs = make(map[string]string, 4)
					}
					c.attrs[k] = v
				}
			default:
				if !s.skip(1) {
					perr = parseSyntax
				}
			}
			if perr != parseOK {
				return perr
			}
			if s.consume(',') {
				continue
			}
			if !s.consume('}') {
				return parseSyntax
			}
			break
		}
	}
	s.ws()
	if s.pos != len(b) {
		return parseSyntax
	}
	return parseOK
}

// stringValue reads a string into *dst; any other type is a type error.
func (s *scanner) stringValue(src string, dst *string) parseError {
	if s.peek() != '"' {
		if !s.skip(1) {
			return parseSyntax
		}
		return parseType
	}
	start, end, esc, ok := s.str()
	if !ok {
		return parseSyntax
	}
	if !esc {
		*dst = src[start:end]
		return parseOK
	}
	if *dst, ok = s.unescape(start, end); !ok {
		return parseSyntax
	}
	return parseOK
}

// stringArray reads "cognito:groups": an array of strings.
func (s *scanner) stringArray(src string, c *claims) parseError {
	if s.peek() != '[' {
		if !s.skip(1) {
			return parseSyntax
		}
		return parseType
	}
	s.pos++
	c.hasGroups = true
	if s.consume(']') {
		return parseOK
	}
	for {
		var v string
		if perr := s.stringValue(src, &v); perr != parseOK {
			return perr
		}
		c.groups = append(c.groups, v)
		if s.consume(',') {
			continue
		}
		if !s.consume(']') {
			return parseSyntax
		}
		return parseOK
	}
}

// date reads a NumericDate: a JSON number of seconds since the epoch,
// possibly fractional, within maxNumericDate.
func (s *scanner) date(d *numericDate) parseError {
	switch c := s.peek(); {
	case c == '-' || '0' <= c && c <= '9':
	default:
		if !s.skip(1) {
			return parseSyntax
		}
		return parseType
	}
	start, end, isInt, ok := s.num()
	if !ok {
		return parseSyntax
	}
	digits := s.b[start:end]
	if isInt && len(digits) <= 16 {
		var n int64
		neg := digits[0] == '-'
		if neg {
			digits = digits[1:]
		}
		for _, c := range digits {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		if n > maxNumericDate || n < -maxNumericDate {
			return parseType
		}
		d.t, d.set = time.Unix(n, 0), true
		return parseOK
	}
	f, err := strconv.ParseFloat(string(digits), 64)
	if err != nil || math.IsNaN(f) || f > maxNumericDate || f < -maxNumericDate {
		return parseType
	}
	sec := math.Floor(f)
	d.t, d.set = time.Unix(int64(sec), int64((f-sec)*1e9)), true
	return parseOK
}
