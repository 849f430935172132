// Package jose is the module's one path to golang-jwt/jwt/v5: the parser
// options every token class shares, the key lookup that checks the header
// first, signing with a pre-encoded header, and the one JSON policy that
// every header and claim set passes (the Cognito token, TokenNo, the SSO
// cookie and the exchanged JWT alike).
//
// The policy, on top of encoding/json: the text is valid UTF-8 and exactly
// one JSON object; no member name appears twice in any object; no member's
// name differs from a known header parameter or claim only by case (claim
// names are case-sensitive, RFC 7519 section 4, so "EXP" or "lobid" is an
// attempt to confuse, not a variant); the registered members have their
// JSON types. golang-jwt decodes headers into a map and claims with
// encoding/json, where a duplicate's last copy silently wins and a
// case-variant name may fill a field: the header passes the policy in the
// key lookup, before any key is used, and the claims (see Registered)
// before the validator reads one.
package jose

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Errors of the policy. Callers map them to their own codes with
// errors.Is.
var (
	ErrSyntax      = errors.New("jose: not one JSON object")
	ErrInvalidUTF8 = errors.New("jose: invalid UTF-8")
	ErrDuplicate   = errors.New("jose: a member name appears twice")
	ErrCaseVariant = errors.New("jose: a member name differs from a known one only by case")
	ErrType        = errors.New("jose: a registered member has the wrong JSON type")
	ErrTooDeep     = errors.New("jose: nested too deep")
	ErrEmbeddedKey = errors.New("jose: the header carries a key (jwk, jku, x5u or x5c)")
	ErrCrit        = errors.New("jose: the header has crit")
)

// IsPolicy reports whether err is (or wraps) one of the policy's errors.
func IsPolicy(err error) bool {
	for _, e := range []error{ErrSyntax, ErrInvalidUTF8, ErrDuplicate, ErrCaseVariant, ErrType, ErrTooDeep, ErrEmbeddedKey, ErrCrit} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// maxDepth bounds the nesting of a header or claim set.
const maxDepth = 32

// Object walks the JSON object raw under the policy and calls member with
// each top-level member's name and raw value, in order. known are the
// member names the caller reads (the registered claims and its own):
// another name equal to one of them but for case is refused. Nested
// objects are checked for duplicate names too. The first error is
// returned: a policy error, or member's. A value may share raw's memory:
// member must not keep it (a name it may).
//
// encoding/json judges the text: json.Valid, and for anything but the
// common shape, its Decoder token by token. The common shape (every name
// ASCII without an escape, every value a scalar or an array of scalars:
// every header and Cognito claim set) is then only cut into members on
// the text json.Valid accepted, which is about a quarter of the
// Decoder's cost on the cold path of a Cognito token (BenchmarkObject);
// FuzzObjectSplit holds the two to the same calls and errors.
func Object(raw []byte, known []string, member func(name string, value []byte) error) error {
	if !utf8.Valid(raw) {
		return ErrInvalidUTF8
	}
	var m [maxSplit]span
	if spans, ok := split(raw, m[:0]); ok {
		return walkSplit(raw, spans, known, member)
	}
	return objectDecoder(raw, known, member)
}

// maxSplit is the most members split takes: beyond, the Decoder walks
// (and names.add's map bounds a large object's cost).
const maxSplit = 32

// span is one top-level member of a split object: raw[name0:name1] is the
// name between its quotes, raw[val0:val1] its value.
type span struct{ name0, name1, val0, val1 int }

// split cuts raw, an object in the common shape, into its members. It
// reports false, having judged nothing, for any other text (invalid JSON,
// not an object, a name that is not plain ASCII, a nested object, an
// array holding an array or object, more than maxSplit members): the
// Decoder then walks it.
func split(raw []byte, spans []span) ([]span, bool) {
	if !json.Valid(raw) {
		return nil, false
	}
	// Valid: from here on every string is terminated, every bracket
	// matched, and members are separated by ',' and ':' as JSON says.
	i := SkipSpace(raw, 0)
	if raw[i] != '{' {
		return nil, false
	}
	i = SkipSpace(raw, i+1)
	if raw[i] == '}' {
		return spans, true
	}
	for {
		// A name: plain ASCII, no escape.
		n0 := i + 1
		i = n0
		for raw[i] != '"' {
			if raw[i] == '\\' || raw[i] >= utf8.RuneSelf {
				return nil, false
			}
			i++
		}
		n1 := i
		i = SkipSpace(raw, i+1) // at ':'
		v0 := SkipSpace(raw, i+1)
		v1, ok := valueEnd(raw, v0)
		if !ok || len(spans) == maxSplit {
			return nil, false
		}
		spans = append(spans, span{n0, n1, v0, v1})
		i = SkipSpace(raw, v1) // at ',' or '}'
		if raw[i] == '}' {
			return spans, true
		}
		i = SkipSpace(raw, i+1) // at the next name's quote
	}
}

// valueEnd returns the end of the value that starts at raw[i] in text
// json.Valid accepted, or false for an object or an array that holds an
// array or object.
func valueEnd(raw []byte, i int) (int, bool) {
	switch raw[i] {
	case '"':
		return stringEnd(raw, i), true
	case '{':
		return 0, false
	case '[':
		for i++; raw[i] != ']'; i++ {
			switch raw[i] {
			case '"':
				i = stringEnd(raw, i) - 1
			case '[', '{':
				return 0, false
			}
		}
		return i + 1, true
	}
	for i < len(raw) { // a number, true, false or null
		switch raw[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, true
		}
		i++
	}
	return i, true
}

// stringEnd returns the index after the closing quote of the string that
// starts at raw[i].
func stringEnd(raw []byte, i int) int {
	for i++; raw[i] != '"'; i++ {
		if raw[i] == '\\' {
			i++ // the escaped character
		}
	}
	return i + 1
}

// SkipSpace returns the index of the first byte at or after i that is not
// JSON white space (space, tab, line feed, carriage return), or len(raw).
func SkipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// walkSplit is Object's walk of the members split found: the same checks
// in the same order as objectDecoder's, without a Decoder. A name is a
// known name's string when it is one (no allocation).
func walkSplit(raw []byte, spans []span, known []string, member func(name string, value []byte) error) error {
	for i, sp := range spans {
		b := raw[sp.name0:sp.name1]
		for _, prev := range spans[:i] {
			if string(raw[prev.name0:prev.name1]) == string(b) {
				return ErrDuplicate
			}
		}
		name := ""
		for _, k := range known {
			switch {
			case k == string(b):
				name = k
			case len(k) == len(b) && strings.EqualFold(k, string(b)):
				return ErrCaseVariant
			}
		}
		if name == "" {
			name = string(b)
		}
		v := raw[sp.val0:sp.val1]
		if v[0] == '[' && !flatArray(v) { // a bracket in a string; split let no object through
			if err := noDuplicates(v); err != nil {
				return err
			}
		}
		if err := member(name, v); err != nil {
			return err
		}
	}
	return nil
}

// objectDecoder is Object's walk with encoding/json's Decoder, token by
// token, for any text split does not take.
func objectDecoder(raw []byte, known []string, member func(name string, value []byte) error) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ErrSyntax
	}
	var seen names
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ErrSyntax
		}
		name := t.(string) // an object's member name
		if !seen.add(name) {
			return ErrDuplicate
		}
		if err := checkName(name, raw); err != nil {
			return err
		}
		ascii := isASCII(name)
		for _, k := range known {
			// Unicode's simple folding, as encoding/json's field matching:
			// "ſub" (U+017F) is a case variant of "sub". An ASCII name
			// folds only to a name of its own length.
			if (!ascii || len(k) == len(name)) && k != name && strings.EqualFold(k, name) {
				return ErrCaseVariant
			}
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ErrSyntax
		}
		if (v[0] == '{' || v[0] == '[') && !flatArray(v) {
			if err := noDuplicates(v); err != nil {
				return err
			}
		}
		if err := member(name, v); err != nil {
			return err
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return ErrSyntax
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrSyntax // trailing data
	}
	return nil
}

// names is a set of member names: a slice while small, a map beyond, so
// that a claim set of thousands of members costs linear time.
type names struct {
	few  []string
	many map[string]bool
}

// add adds name and reports whether it was new.
func (n *names) add(name string) bool {
	if n.many != nil {
		if n.many[name] {
			return false
		}
		n.many[name] = true
		return true
	}
	for _, s := range n.few {
		if s == name {
			return false
		}
	}
	if len(n.few) < 16 {
		n.few = append(n.few, name)
		return true
	}
	n.many = make(map[string]bool, 64)
	for _, s := range n.few {
		n.many[s] = true
	}
	n.many[name] = true
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// replaced reports whether decoding raw into s replaced an escaped lone
// surrogate ("\ud800") with U+FFFD, so that two different names or values
// on the wire would read the same. Only a decoded U+FFFD makes it look at
// the escapes, which decide: "\ufffd\ud800" is replaced too.
func replaced(s string, raw []byte) bool {
	return strings.ContainsRune(s, utf8.RuneError) && loneSurrogate(raw)
}

// loneSurrogate reports whether the JSON string v (validated by a JSON
// decoder, so every \u escape has four hex digits) holds an escaped
// surrogate that is not half of a pair, which a decoder replaces with
// U+FFFD.
func loneSurrogate(v []byte) bool {
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			continue
		}
		i++ // the escaped character; the loop steps past it
		if i >= len(v) || v[i] != 'u' {
			continue
		}
		r := hex4(v, i+1)
		i += 4
		switch {
		case r >= 0xdc00 && r < 0xe000:
			return true // a low surrogate alone
		case r >= 0xd800 && r < 0xdc00:
			if i+6 < len(v) && v[i+1] == '\\' && v[i+2] == 'u' {
				if lo := hex4(v, i+3); lo >= 0xdc00 && lo < 0xe000 {
					i += 6
					continue
				}
			}
			return true // a high surrogate without its low half
		}
	}
	return false
}

// hex4 returns the value of the four hex digits at b[i:], or -1.
func hex4(b []byte, i int) int {
	if i+4 > len(b) {
		return -1
	}
	n := 0
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		n = n<<4 | int(c)
	}
	return n
}

// checkName refuses a member name that encoding/json rewrote (see
// replaced); raw is the text it came from.
func checkName(name string, raw []byte) error {
	if replaced(name, raw) {
		return ErrInvalidUTF8
	}
	return nil
}

// flatArray reports whether v is an array with no array or object in it
// (roles, groups, aud): it has no names to repeat and no depth to bound.
func flatArray(v []byte) bool {
	return v[0] == '[' && bytes.IndexByte(v[1:], '[') < 0 && bytes.IndexByte(v, '{') < 0
}

// noDuplicates checks the objects nested in v (an object or array) for
// duplicate member names.
func noDuplicates(v []byte) error {
	dec := json.NewDecoder(bytes.NewReader(v))
	type frame struct {
		names     map[string]bool // nil for an array
		expectKey bool            // in an object: the next token is a member name
	}
	var stack []frame
	for {
		t, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ErrSyntax
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = &stack[n-1]
		}
		if d, ok := t.(json.Delim); ok {
			if top != nil && top.names != nil {
				top.expectKey = true // a nested value starts or ends; a name comes next
			}
			switch d {
			case '{':
				if len(stack) == maxDepth {
					return ErrTooDeep
				}
				stack = append(stack, frame{names: map[string]bool{}, expectKey: true})
			case '[':
				if len(stack) == maxDepth {
					return ErrTooDeep
				}
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if top == nil || top.names == nil {
			continue // an array element
		}
		if top.expectKey {
			name := t.(string) // the decoder returns member names as strings
			if top.names[name] {
				return ErrDuplicate
			}
			if err := checkName(name, v); err != nil {
				return err
			}
			top.names[name] = true
		}
		top.expectKey = !top.expectKey
	}
}

// Header is what the key lookup reads of a JOSE header.
type Header struct {
	Alg, Kid, Typ  string
	HasKid, HasTyp bool
}

// MaxHeaderBytes bounds a JOSE header segment: real headers are under 200
// bytes, and the header is decoded before any signature is checked.
const MaxHeaderBytes = 1 << 10

// knownHeader are the header parameters of RFC 7515 section 4.1 and RFC
// 7519 section 5.
var knownHeader = []string{"alg", "kid", "typ", "cty", "crit", "jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"}

// ParseHeader decodes a JOSE header under the policy. It refuses a key
// carried in the header (jwk, jku, x5u, x5c: keys come from configuration,
// never from the token), crit (no extension is understood), and alg, kid
// or typ that are not strings.
func ParseHeader(raw []byte) (Header, error) {
	var h Header
	err := Object(raw, knownHeader, func(name string, v []byte) error {
		var err error
		switch name {
		case "alg":
			h.Alg, err = String(v)
		case "kid":
			h.Kid, err = String(v)
			h.HasKid = true
		case "typ":
			h.Typ, err = String(v)
			h.HasTyp = true
		case "jwk", "jku", "x5u", "x5c":
			return ErrEmbeddedKey
		case "crit":
			return ErrCrit
		}
		return err
	})
	return h, err
}

// String decodes v, which must be a JSON string.
func String(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return "", ErrType
	}
	if bytes.IndexByte(v, '\\') < 0 {
		// No escape: the text between the quotes is the string (v is a
		// value the decoder validated, as valid UTF-8).
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", ErrType
	}
	if replaced(s, v) {
		return "", ErrInvalidUTF8
	}
	return s, nil
}

// Strings decodes v, which must be a JSON array of strings (not null, and
// no null element).
func Strings(v []byte) ([]string, error) {
	if len(v) == 0 || v[0] != '[' {
		return nil, ErrType
	}
	var ps []*string // a null element stays nil, to be refused
	if err := json.Unmarshal(v, &ps); err != nil {
		return nil, ErrType
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		if p == nil {
			return nil, ErrType
		}
		if replaced(*p, v) {
			return nil, ErrInvalidUTF8
		}
		s[i] = *p
	}
	return s, nil
}

// Audience decodes an "aud" claim: a string or an array of strings (RFC
// 7519 section 4.1.3).
func Audience(v []byte) ([]string, error) {
	switch {
	case len(v) > 0 && v[0] == '"':
		s, err := String(v)
		return []string{s}, err
	case len(v) > 0 && v[0] == '[':
		return Strings(v)
	}
	return nil, ErrType
}

// Seconds decodes a NumericDate (RFC 7519 section 2): a JSON number of
// seconds since the epoch, never a string. A fraction is rounded down, the
// stricter way for "exp" (as golang-jwt's own NumericDate compares it).
func Seconds(v []byte) (int64, error) {
	return seconds(v, math.Floor)
}

// SecondsUp is Seconds with a fraction rounded up, the stricter way for
// "nbf" and "iat".
func SecondsUp(v []byte) (int64, error) {
	return seconds(v, math.Ceil)
}

// MaxSeconds is the latest NumericDate accepted: 9999-12-31T23:59:59Z.
// A later one (or one before 1970) is a type error: time.Unix and
// golang-jwt's comparisons would overflow on it and read a date far in
// the future as one in the past.
const MaxSeconds = 253402300799

func seconds(v []byte, round func(float64) float64) (int64, error) {
	if len(v) == 0 || v[0] < '0' || v[0] > '9' {
		return 0, ErrType // a string, null, or a negative number
	}
	if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		if i > MaxSeconds {
			return 0, ErrType
		}
		return i, nil // the common case: whole seconds
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, ErrType
	}
	f, err := n.Float64()
	if err != nil || f > MaxSeconds {
		return 0, ErrType
	}
	return int64(round(f)), nil
}

// Compact reports whether token is made of three base64url segments and
// nothing else: the alphabet A-Z a-z 0-9 - _ and two dots. golang-jwt's
// strict decoding still skips CR and LF (as encoding/base64 does), so
// without this check "sig\nnature" would verify as "signature": another
// spelling of the same token.
func Compact(token string) bool {
	dots := 0
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return dots == 2
}

// Parser returns golang-jwt's parser with the options every token class
// shares: the algorithms the caller's keys use, strict base64url (no
// padding, no stray bits), "exp" required, "iat" not in the future, the
// leeway and the clock. extra adds a class's own, such as WithIssuer.
func Parser(methods []string, leeway time.Duration, now func() time.Time, extra ...jwt.ParserOption) *jwt.Parser {
	opts := append([]jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithStrictDecoding(),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	}, extra...)
	return jwt.NewParser(opts...)
}

// Keyfunc returns a golang-jwt Keyfunc that decodes the token's header
// under the policy and asks lookup for the key. known, when not nil, is
// asked first with the raw header segment: a header the module produced
// itself, or one that passed the policy in a verified token, needs no
// second decoding (the same bytes pass the same policy), but known must
// look its key up as lookup would.
func Keyfunc(p *jwt.Parser, known func(segment string) (any, bool), lookup func(Header) (any, error)) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		seg, _, _ := strings.Cut(t.Raw, ".")
		if known != nil {
			if k, ok := known(seg); ok {
				return k, nil
			}
		}
		h, err := CheckHeader(p, t)
		if err != nil {
			return nil, err
		}
		return lookup(h)
	}
}

// HeaderSegment returns the base64url segment of the JOSE header
// {"alg":alg,"typ":"JWT"[,"kid":kid]}, with its trailing '.', to sign
// with.
func HeaderSegment(alg, kid string) string {
	h := struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid,omitempty"`
	}{alg, "JWT", kid}
	b, _ := json.Marshal(h) // strings only: cannot fail
	return (*jwt.Token)(nil).EncodeSegment(b) + "."
}

// Sign returns the compact JWS of payload (a JSON object) under header, a
// HeaderSegment, signed by method with key.
func Sign(method jwt.SigningMethod, key any, header string, payload []byte) (string, error) {
	var enc jwt.Token
	input := header + enc.EncodeSegment(payload)
	sig, err := method.Sign(input, key)
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeSegment(sig), nil
}

// CheckHeader decodes t's header under the policy (see ParseHeader), for a
// golang-jwt Keyfunc that needs the token itself, such as keyfunc's.
func CheckHeader(p *jwt.Parser, t *jwt.Token) (Header, error) {
	seg, _, _ := strings.Cut(t.Raw, ".")
	if len(seg) > MaxHeaderBytes {
		return Header{}, ErrSyntax
	}
	raw, err := p.DecodeSegment(seg)
	if err != nil {
		return Header{}, ErrSyntax
	}
	return ParseHeader(raw)
}

// registeredNames are the registered claims of RFC 7519 section 4.1.
var registeredNames = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

// Registered are a claim set's registered claims (RFC 7519 section 4.1),
// with golang-jwt's jwt.Claims methods. A token class embeds it, calls
// Init with its own claims, and golang-jwt's parser fills it: the payload
// is only kept when golang-jwt decodes it, and decoded under the policy on
// the first question the validator asks, which comes after the signature,
// so a forgery is reported as one whatever its claims hold.
type Registered struct {
	Issuer, Subject, ID            string
	Audience                       []string
	AudienceString                 bool  // "aud" was one string, not an array
	ExpiresAt, NotBefore, IssuedAt int64 // Unix seconds
	HasExp, HasNbf, HasIat         bool

	raw     []byte
	decoded bool
	err     error
	known   []string
	member  func(name string, v []byte) error
}

// ClaimNames returns the registered claim names and the class's own, for
// Init; a class computes it once.
func ClaimNames(class ...string) []string {
	return append(append(make([]string, 0, len(registeredNames)+len(class)), registeredNames...), class...)
}

// Init sets the claim names the policy knows (from ClaimNames) and the
// function that decodes the class's own claims; member may be nil.
func (r *Registered) Init(names []string, member func(name string, v []byte) error) {
	r.known, r.member = names, member
}

// UnmarshalJSON keeps a copy of the payload; Decode reads it.
func (r *Registered) UnmarshalJSON(raw []byte) error {
	r.raw = append(r.raw[:0], raw...)
	r.decoded = false
	return nil
}

// Raw returns the payload as golang-jwt decoded it from base64url.
func (r *Registered) Raw() []byte { return r.raw }

// Decode reads the payload once, under the policy, and returns the first
// error, every later call the same.
func (r *Registered) Decode() error {
	if r.decoded {
		return r.err
	}
	r.decoded = true
	if r.known == nil {
		r.known = registeredNames
	}
	r.err = Object(r.raw, r.known, func(name string, v []byte) (err error) {
		switch name {
		case "iss":
			r.Issuer, err = String(v)
		case "sub":
			r.Subject, err = String(v)
		case "jti":
			r.ID, err = String(v)
		case "aud":
			r.Audience, err = Audience(v)
			r.AudienceString = len(v) > 0 && v[0] == '"'
		case "exp":
			r.ExpiresAt, err = Seconds(v)
			r.HasExp = true
		case "nbf":
			r.NotBefore, err = SecondsUp(v)
			r.HasNbf = true
		case "iat":
			r.IssuedAt, err = SecondsUp(v)
			r.HasIat = true
		default:
			if r.member != nil {
				err = r.member(name, v)
			}
		}
		return err
	})
	return r.err
}

func numericDate(set bool, sec int64) *jwt.NumericDate {
	if !set {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(sec, 0))
}

// GetExpirationTime implements jwt.Claims.
func (r *Registered) GetExpirationTime() (*jwt.NumericDate, error) {
	err := r.Decode()
	return numericDate(err == nil && r.HasExp, r.ExpiresAt), err
}

// GetIssuedAt implements jwt.Claims.
func (r *Registered) GetIssuedAt() (*jwt.NumericDate, error) {
	err := r.Decode()
	return numericDate(err == nil && r.HasIat, r.IssuedAt), err
}

// GetNotBefore implements jwt.Claims.
func (r *Registered) GetNotBefore() (*jwt.NumericDate, error) {
	err := r.Decode()
	return numericDate(err == nil && r.HasNbf, r.NotBefore), err
}

// GetIssuer implements jwt.Claims.
func (r *Registered) GetIssuer() (string, error) {
	err := r.Decode()
	return r.Issuer, err
}

// GetSubject implements jwt.Claims.
func (r *Registered) GetSubject() (string, error) {
	err := r.Decode()
	return r.Subject, err
}

// GetAudience implements jwt.Claims.
func (r *Registered) GetAudience() (jwt.ClaimStrings, error) {
	err := r.Decode()
	return r.Audience, err
}
