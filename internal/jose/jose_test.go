package jose

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObject(t *testing.T) {
	known := []string{"exp", "LOBId", "roles"}
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	var many []string
	for i := range 40 {
		many = append(many, `"m`+strconv.Itoa(i)+`":1`)
	}
	for _, tt := range []struct {
		name, raw string
		known     []string
		want      error
		members   string
	}{
		{name: "plain", raw: `{"exp":1,"LOBId":"01","x":{"y":[1,{"z":2}]}}`, members: "exp,LOBId,x"},
		{name: "empty", raw: `{}`},
		{name: "spaces", raw: " { \"exp\" : 1 } \n", members: "exp"},
		{name: "duplicate", raw: `{"exp":1,"exp":2}`, want: ErrDuplicate},
		{name: "duplicate through an escape", raw: `{"exp":1,"\u0065xp":2}`, want: ErrDuplicate},
		{name: "duplicate unknown member", raw: `{"a":1,"a":1}`, want: ErrDuplicate},
		{name: "duplicate in a nested object", raw: `{"x":{"y":1,"y":2}}`, want: ErrDuplicate},
		{name: "duplicate in an object in an array", raw: `{"x":[{"y":1},{"y":1,"y":2}]}`, want: ErrDuplicate},
		{name: "same name in sibling objects", raw: `{"x":{"y":1},"z":{"y":1}}`, members: "x,z"},
		{name: "same name at two depths", raw: `{"y":{"y":{"y":1}}}`, members: "y"},
		{name: "name after a nested value", raw: `{"x":{"a":{"b":1},"a2":[1,2],"b":1,"b2":2}}`, members: "x"},
		{name: "case variant", raw: `{"EXP":1}`, want: ErrCaseVariant},
		{name: "case variant of a claim", raw: `{"lobid":"01"}`, want: ErrCaseVariant},
		{name: "case variant beside the name", raw: `{"roles":[],"ROLES":["Use API"]}`, want: ErrCaseVariant},
		{name: "case variant by Unicode folding (long s)", raw: `{"roleſ":["Use API"]}`, want: ErrCaseVariant},
		{name: "case variant by Unicode folding, escaped", raw: `{"\u017Fub":"x","exp":1}`, known: []string{"sub"}, want: ErrCaseVariant},
		{name: "case variant by the Kelvin sign", raw: `{"\u212Aid":"x"}`, known: []string{"kid"}, want: ErrCaseVariant},
		{name: "a lone surrogate in a name", raw: `{"\ud800":1,"\udbff":2}`, want: ErrInvalidUTF8},
		{name: "a lone surrogate in a nested name", raw: `{"x":{"\ud800":1}}`, want: ErrInvalidUTF8},
		{name: "a lone surrogate beside an escaped U+FFFD", raw: `{"\ufffd\ud800":1}`, want: ErrInvalidUTF8},
		{name: "U+FFFD written as is", raw: `{"x\ufffd":1,"y�":2}`, members: "x�,y�"},
		{name: "a surrogate pair", raw: `{"\ud83d\ude00":1}`, members: "😀"},
		{name: "invalid UTF-8", raw: "{\"x\":\"\xff\"}", want: ErrInvalidUTF8},
		{name: "invalid UTF-8 in a name", raw: "{\"\xc3\":1}", want: ErrInvalidUTF8},
		{name: "array", raw: `[1]`, want: ErrSyntax},
		{name: "string", raw: `"x"`, want: ErrSyntax},
		{name: "two objects", raw: `{}{}`, want: ErrSyntax},
		{name: "trailing garbage", raw: `{"exp":1} x`, want: ErrSyntax},
		{name: "unterminated", raw: `{"exp":1`, want: ErrSyntax},
		{name: "not JSON", raw: `{exp:1}`, want: ErrSyntax},
		{name: "empty input", raw: ``, want: ErrSyntax},
		{name: "too deep", raw: `{"x":` + deep + `}`, want: ErrTooDeep},
		{name: "40 members", raw: "{" + strings.Join(many, ",") + "}", members: strings.NewReplacer(`"`, "", ":1", "").Replace(strings.Join(many, ","))},
		{name: "a duplicate after the sixteenth member", raw: "{" + strings.Join(many, ",") + `,"m3":2}`, want: ErrDuplicate},
		{name: "a duplicate among the first members", raw: "{" + strings.Join(many[:5], ",") + `,"m3":2}`, want: ErrDuplicate},
		{name: "arrays too deep", raw: `{"x":` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `}`, want: ErrTooDeep},
		{name: "a flat array", raw: `{"roles":["a","b"],"x":[1,"[",{"y":[2]}]}`, members: "roles,x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			err := Object([]byte(tt.raw), append(tt.known, known...), func(name string, v []byte) error {
				names = append(names, name)
				assert.True(t, json.Valid(v), "member %s's value is one JSON value", name)
				return nil
			})
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.members, strings.Join(names, ","))
		})
	}

	stop := errors.New("stop")
	err := Object([]byte(`{"a":1,"b":2}`), nil, func(name string, _ []byte) error {
		if name == "a" {
			return stop
		}
		t.Fatal("called after an error")
		return nil
	})
	assert.ErrorIs(t, err, stop, "the callback's error is returned at once")
}

func TestParseHeader(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want Header
		err  error
	}{
		{raw: `{"alg":"HS256","typ":"JWT"}`, want: Header{Alg: "HS256", Typ: "JWT", HasTyp: true}},
		{raw: `{"alg":"HS256","typ":""}`, want: Header{Alg: "HS256", HasTyp: true}},
		{raw: `{"kid":"k1","alg":"RS256"}`, want: Header{Alg: "RS256", Kid: "k1", HasKid: true}},
		{raw: `{"kid":"","alg":"RS256"}`, want: Header{Alg: "RS256", HasKid: true}},
		{raw: `{"alg":"HS256","x-custom":{"a":1}}`, want: Header{Alg: "HS256"}},
		{raw: `{"ALG":"HS256","TYP":"JWT"}`, err: ErrCaseVariant},
		{raw: `{"alg":"none","alg":"HS256"}`, err: ErrDuplicate},
		{raw: `{"alg":"HS256","Kid":"k1"}`, err: ErrCaseVariant},
		{raw: `{"alg":256}`, err: ErrType},
		{raw: `{"alg":"RS256","kid":7}`, err: ErrType},
		{raw: `{"alg":"RS256","kid":["a"]}`, err: ErrType},
		{raw: `{"alg":"RS256","kid":null}`, err: ErrType},
		{raw: `{"alg":"RS256","jwk":{"kty":"RSA"}}`, err: ErrEmbeddedKey},
		{raw: `{"alg":"RS256","jku":"https://evil.example/jwks"}`, err: ErrEmbeddedKey},
		{raw: `{"alg":"RS256","x5u":"https://evil.example/cert"}`, err: ErrEmbeddedKey},
		{raw: `{"alg":"RS256","x5c":["MII..."]}`, err: ErrEmbeddedKey},
		{raw: `{"alg":"RS256","crit":["exp"],"exp":1}`, err: ErrCrit},
	} {
		h, err := ParseHeader([]byte(tt.raw))
		if tt.err != nil {
			assert.ErrorIs(t, err, tt.err, tt.raw)
			continue
		}
		require.NoError(t, err, tt.raw)
		assert.Equal(t, tt.want, h, tt.raw)
	}
}

func TestValues(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want int64
		err  bool
		name string
	}{
		{raw: `1737362986`, want: 1737362986},
		{raw: `0`, want: 0},
		{raw: `1737362986.75`, want: 1737362986},
		{raw: `253402300799`, want: MaxSeconds},
		{raw: `253402300800`, err: true},
		{raw: `5000000000000000000`, err: true, name: "would overflow time.Unix's nanoseconds"},
		{raw: `9223372036854775807`, err: true},
		{raw: `4.7e18`, err: true},
		{raw: `-5`, err: true, name: "before 1970"},
		{raw: `-1.5`, err: true},
		{raw: `1.7e9`, want: 1700000000},
		{raw: `"1737362986"`, err: true},
		{raw: `null`, err: true},
		{raw: `true`, err: true},
		{raw: `[1]`, err: true},
		{raw: `1e300`, err: true},
	} {
		got, err := Seconds([]byte(tt.raw))
		if tt.err {
			assert.ErrorIs(t, err, ErrType, tt.raw)
			continue
		}
		require.NoError(t, err, tt.raw)
		assert.Equal(t, tt.want, got, tt.raw)
	}

	up, err := SecondsUp([]byte(`1737362986.25`))
	assert.NoError(t, err)
	assert.Equal(t, int64(1737362987), up, "nbf and iat round up")

	s, err := String([]byte(`"a\u0062c"`))
	assert.NoError(t, err)
	assert.Equal(t, "abc", s)
	_, err = String([]byte(`"a\ud800"`))
	assert.ErrorIs(t, err, ErrInvalidUTF8, "a lone surrogate would read as U+FFFD")
	_, err = String([]byte(`"\ufffd\ud800"`))
	assert.ErrorIs(t, err, ErrInvalidUTF8, "an escaped U+FFFD beside a lone surrogate hides nothing")
	_, err = Strings([]byte(`["ok","\udfff"]`))
	assert.ErrorIs(t, err, ErrInvalidUTF8)
	s, err = String([]byte(`"\uFFFD"`))
	assert.NoError(t, err, "U+FFFD itself is a character like any other")
	assert.Equal(t, "\uFFFD", s)
	for _, raw := range []string{`1`, `null`, `["a"]`, `{}`} {
		_, err := String([]byte(raw))
		assert.ErrorIs(t, err, ErrType, raw)
	}

	aud, err := Audience([]byte(`"api"`))
	assert.NoError(t, err)
	assert.Equal(t, []string{"api"}, aud)
	aud, err = Audience([]byte(`["a","b"]`))
	assert.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, aud)
	for _, raw := range []string{`1`, `null`, `["a",1]`, `{"a":1}`} {
		_, err := Audience([]byte(raw))
		assert.ErrorIs(t, err, ErrType, raw)
	}
	roles, err := Strings([]byte(`["Use API"]`))
	assert.NoError(t, err)
	assert.Equal(t, []string{"Use API"}, roles)
	_, err = Strings([]byte(`"Use API"`))
	assert.ErrorIs(t, err, ErrType)
	_, err = Strings([]byte(`null`))
	assert.ErrorIs(t, err, ErrType, "null is not an array")
	_, err = Strings([]byte(`["a",null]`))
	assert.ErrorIs(t, err, ErrType)
}

// testClaims are a claim set decoded under the policy, as each token class
// does it.
type testClaims struct {
	Sub string
	Exp int64
}

func (c *testClaims) UnmarshalJSON(raw []byte) error {
	return Object(raw, []string{"sub", "exp"}, func(name string, v []byte) (err error) {
		switch name {
		case "sub":
			c.Sub, err = String(v)
		case "exp":
			c.Exp, err = Seconds(v)
		}
		return err
	})
}

func (c *testClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.Exp, 0)), nil
}
func (c *testClaims) GetIssuedAt() (*jwt.NumericDate, error)  { return nil, nil }
func (c *testClaims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c *testClaims) GetIssuer() (string, error)              { return "", nil }
func (c *testClaims) GetSubject() (string, error)             { return c.Sub, nil }
func (c *testClaims) GetAudience() (jwt.ClaimStrings, error)  { return nil, nil }

func TestSignAndParse(t *testing.T) {
	secret := []byte("a test secret of thirty-two bytes!!")
	now := time.Unix(1737362986, 0)
	header := HeaderSegment("HS256", "")
	assert.Equal(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", header, `{"alg":"HS256","typ":"JWT"}`)
	tok, err := Sign(jwt.SigningMethodHS256, secret, header, []byte(`{"sub":"u1","exp":1737366586}`))
	require.NoError(t, err)

	p := Parser([]string{"HS256"}, 0, func() time.Time { return now })
	lookups := 0
	kf := Keyfunc(p, func(seg string) (any, bool) { return secret, seg+"." == header }, func(h Header) (any, error) {
		lookups++
		if h.Alg != "HS256" || h.HasKid {
			return nil, errors.New("no such key")
		}
		return secret, nil
	})
	var c testClaims
	_, err = p.ParseWithClaims(tok, &c, kf)
	require.NoError(t, err)
	assert.Equal(t, testClaims{Sub: "u1", Exp: 1737366586}, c)
	assert.Zero(t, lookups, "the module's own header is known without decoding")

	// Golang-jwt's own encoder gives the same token.
	gj, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": 1737366586, "sub": "u1"}).SignedString(secret)
	require.NoError(t, err)
	_, err = p.ParseWithClaims(gj, &c, kf)
	assert.NoError(t, err)

	// Any other header is decoded and checked.
	for _, tt := range []struct {
		header string
		want   error
	}{
		{`{"typ":"JWT","alg":"HS256"}`, nil},
		{`{"alg":"HS256","alg":"HS256"}`, ErrDuplicate},
		{`{"alg":"HS256","ALG":"none"}`, ErrCaseVariant},
		{`{"alg":"HS256","jku":"https://evil.example"}`, ErrEmbeddedKey},
	} {
		tok, err := Sign(jwt.SigningMethodHS256, secret, (*jwt.Token)(nil).EncodeSegment([]byte(tt.header))+".", []byte(`{"sub":"u1","exp":1737366586}`))
		require.NoError(t, err)
		_, err = p.ParseWithClaims(tok, &testClaims{}, kf)
		if tt.want == nil {
			assert.NoError(t, err, tt.header)
		} else {
			assert.ErrorIs(t, err, tt.want, tt.header)
			assert.ErrorIs(t, err, jwt.ErrTokenUnverifiable, tt.header)
		}
	}

	// The claims' policy errors surface through golang-jwt's.
	for payload, want := range map[string]error{
		`{"sub":"u1","exp":1737366586,"exp":1}`: ErrDuplicate,
		`{"sub":"u1","EXP":1737366586}`:         ErrCaseVariant,
		`{"sub":"u1","exp":"1737366586"}`:       ErrType,
	} {
		tok, err := Sign(jwt.SigningMethodHS256, secret, header, []byte(payload))
		require.NoError(t, err)
		_, err = p.ParseWithClaims(tok, &testClaims{}, kf)
		assert.ErrorIs(t, err, want, payload)
		assert.ErrorIs(t, err, jwt.ErrTokenMalformed, payload)
	}

	// Strict base64url: a changed unused bit in the last character of the
	// signature, and padding, are refused.
	last := tok[len(tok)-1]
	flipped := tok[:len(tok)-1] + string(last^1)
	_, err = p.ParseWithClaims(flipped, &testClaims{}, kf)
	assert.ErrorIs(t, err, jwt.ErrTokenMalformed, "a signature with stray bits")
	_, err = p.ParseWithClaims(tok+"=", &testClaims{}, kf)
	assert.Error(t, err)

	// exp is required, and past it the token is expired.
	noExp, err := Sign(jwt.SigningMethodHS256, secret, header, []byte(`{"sub":"u1"}`))
	require.NoError(t, err)
	_, err = p.ParseWithClaims(noExp, &nilExpClaims{}, kf)
	assert.ErrorIs(t, err, jwt.ErrTokenRequiredClaimMissing)
	late := Parser([]string{"HS256"}, 0, func() time.Time { return time.Unix(1737366586, 0) })
	_, err = late.ParseWithClaims(tok, &testClaims{}, Keyfunc(late, nil, func(Header) (any, error) { return secret, nil }))
	assert.ErrorIs(t, err, jwt.ErrTokenExpired, "exp equal to now is expired")

	// Only the listed methods.
	_, err = Parser([]string{"RS256"}, 0, time.Now).ParseWithClaims(tok, &testClaims{}, kf)
	assert.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid)
}

// nilExpClaims have no exp when the token has none.
type nilExpClaims struct{ testClaims }

func (c *nilExpClaims) GetExpirationTime() (*jwt.NumericDate, error) {
	if c.Exp == 0 {
		return nil, nil
	}
	return c.testClaims.GetExpirationTime()
}

// FuzzObject holds the policy against encoding/json: whatever Object
// accepts is one valid JSON object whose members encoding/json reads the
// same, with no name twice.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{"exp":1,"LOBId":"01"}`, `{"a":{"b":[1,{"c":2}]}}`, `{"a":1,"a":2}`, `{"EXP":1}`, "{\"\xff\":1}", `{}`, `[]`, `{"a":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := map[string]json.RawMessage{}
		err := Object(raw, []string{"exp", "LOBId"}, func(name string, v []byte) error {
			if _, dup := got[name]; dup {
				t.Fatalf("member %q twice", name)
			}
			got[name] = v
			return nil
		})
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			t.Fatalf("accepted %q, which encoding/json refuses", raw)
		}
		if len(m) != len(got) {
			t.Fatalf("accepted %q: %d members, encoding/json sees %d", raw, len(got), len(m))
		}
		for k, v := range got {
			if string(m[k]) != string(v) {
				t.Fatalf("member %q: %s, encoding/json reads %s", k, v, m[k])
			}
		}
	})
}

// cognitoPayload is an access token's claim set as Cognito issues it.
var cognitoPayload = []byte(`{"sub":"5b0a3c1e-0000-4000-8000-000000000001","cognito:groups":["Use API"],"iss":"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Bench0001","version":2,"client_id":"bench-app-client","origin_jti":"abc","event_id":"e1","token_use":"access","scope":"aws.cognito.signin.user.admin","auth_time":1737362986,"iat":1737362986,"exp":1737366586,"jti":"bench-jti","username":"bench-user"}`)

// BenchmarkObject is the policy's walk of a Cognito claim set, beside
// encoding/json decoding the same claims into a struct (no policy) and into
// a map.
func BenchmarkObject(b *testing.B) {
	known := ClaimNames("client_id", "token_use", "scope", "cognito:groups", "auth_time", "username")
	b.ReportAllocs()
	for b.Loop() {
		if err := Object(cognitoPayload, known, func(string, []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineStruct(b *testing.B) {
	var c struct {
		Sub, Iss, ClientID, TokenUse, Scope, Jti, Username string
		Groups                                             []string `json:"cognito:groups"`
		Exp, Iat, AuthTime                                 int64
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := json.Unmarshal(cognitoPayload, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaselineMap(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(cognitoPayload, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkObjectManyMembers walks a claim set of 1,000 members, the size
// a forger fits in a 16 KiB token: the walk is linear in the members.
func BenchmarkObjectManyMembers(b *testing.B) {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"m` + strconv.Itoa(i) + `":1`)
	}
	sb.WriteByte('}')
	raw := []byte(sb.String())
	known := ClaimNames("client_id", "token_use", "scope")
	b.ReportAllocs()
	for b.Loop() {
		if err := Object(raw, known, func(string, []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLoneSurrogate(t *testing.T) {
	for v, want := range map[string]bool{
		`"abc"`:                false,
		`"\ud800"`:             true,
		`"\uDBFF"`:             true,
		`"\udc00"`:             true,
		`"\ud800\udc00"`:       false,
		`"\ud800\ud800\udc00"`: true,
		`"\ud800\udc00\udc00"`: true,
		`"\\ud800"`:            false, // an escaped backslash, then text
		`"\\\ud800"`:           true,
		`"\ud800\n"`:           true,
		`"\ud800\u"`:           true, // not valid JSON; never passed in, but safe
		`"\u"`:                 false,
		`"x\u00e9\ufffd"`:      false,
	} {
		assert.Equal(t, want, loneSurrogate([]byte(v)), v)
	}
}

func TestCompact(t *testing.T) {
	for token, want := range map[string]bool{
		"eyJh.eyJD.g1wK":     true,
		"a-_9.B.c":           true,
		"a.b.c\nd":           false, // base64 decoding would skip the newline
		"a.b.c\rd":           false,
		"a.b.c=":             false,
		"a.b.c d":            false,
		"a.b":                false,
		"a.b.c.d":            false,
		"a+/.b.c":            false,
		"..":                 true, // three empty segments: golang-jwt refuses them
		"a.b.\u00e9":         false,
		"eyJh.eyJD.g1wK\x00": false,
	} {
		assert.Equal(t, want, Compact(token), "%q", token)
	}
}

// FuzzObjectSplit holds Object's split walk to the Decoder's walk it
// replaces for the common shape: for any text, the same members in the
// same order with the same values, and the same error. The member function
// fails on a member named "fail", so that its error's place in the order
// of checks is compared too.
func FuzzObjectSplit(f *testing.F) {
	for _, s := range []string{
		string(cognitoPayload),
		`{"exp":1,"LOBId":"01"}`, ` { "a" : [ "x" , 1 , null ] , "b":true } `, `{"a":["{\"x\"","]"]}`,
		`{"a":1,"a":2}`, `{"EXP":1}`, `{"Exp":1,"exp":2}`, `{"fail":1,"a":1,"a":2}`, `{"a":1,"fail":1}`,
		`{"a\u0062":1,"ab":2}`, `{"\u00e9":1}`, "{\"é\":1}", "{\"ſub\":1}", "{\"SUB\":1}", `{"a":{"b":1,"b":2}}`, `{"a":[["x"]]}`,
		`{"a":"\ud800"}`, `{"a":1}x`, `{"a":1,}`, `{}`, `[]`, `"x"`, ``, `{"a":-1.5e3}`,
	} {
		f.Add([]byte(s))
	}
	known := []string{"exp", "LOBId", "sub"}
	errFail := errors.New("member failed")
	walk := func(w func([]byte, []string, func(string, []byte) error) error, raw []byte) ([]string, error) {
		var calls []string
		err := w(raw, known, func(name string, v []byte) error {
			calls = append(calls, name+"="+string(v))
			if name == "fail" {
				return errFail
			}
			return nil
		})
		return calls, err
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !utf8.Valid(raw) {
			return // refused before either walk
		}
		got, gotErr := walk(Object, raw)
		want, wantErr := walk(objectDecoder, raw)
		if gotErr != wantErr {
			t.Fatalf("%q: error %v, the Decoder's walk %v", raw, gotErr, wantErr)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("%q: members %q, the Decoder's walk %q", raw, got, want)
		}
	})
}

// TestSplit: split takes the common shape, and only it; it cuts the
// members exactly (FuzzObjectSplit checks what Object makes of them).
func TestSplit(t *testing.T) {
	members := func(n int) string {
		var sb strings.Builder
		sb.WriteByte('{')
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`"m` + strconv.Itoa(i) + `":1`)
		}
		return sb.String() + "}"
	}
	for _, tt := range []struct {
		raw   string
		ok    bool
		names []string // when ok: each member's name=value
	}{
		{raw: `{}`, ok: true},
		{raw: " \t\r\n{ \n}\n ", ok: true},
		{raw: `{"a":1}`, ok: true, names: []string{"a=1"}},
		{raw: ` { "a" : "x\"y" , "b":[ "c" ,2,null] ,"c":-1.5e3,"d":true}  `, ok: true,
			names: []string{`a="x\"y"`, `b=[ "c" ,2,null]`, "c=-1.5e3", "d=true"}},
		{raw: `{"a":["]","[",{"x":1}]}`, ok: false},                        // an object in the array
		{raw: `{"a":["]","{"]}`, ok: true, names: []string{`a=["]","{"]`}}, // brackets in strings only
		{raw: `{"a":[[1]]}`, ok: false},
		{raw: `{"a":{}}`, ok: false},
		{raw: `{"a\u0062":1}`, ok: false}, // an escape in a name
		{raw: `{"a\\":1}`, ok: false},
		{raw: "{\"é\":1}", ok: false}, // not ASCII
		{raw: `{"a":1}x`, ok: false},  // not valid JSON
		{raw: `{"a":1,}`, ok: false},
		{raw: `[1]`, ok: false},
		{raw: `"x"`, ok: false},
		{raw: ``, ok: false},
		{raw: members(maxSplit), ok: true},
		{raw: members(maxSplit + 1), ok: false},
	} {
		spans, ok := split([]byte(tt.raw), nil)
		require.Equal(t, tt.ok, ok, "%q", tt.raw)
		if !ok {
			continue
		}
		if strings.HasPrefix(tt.raw, `{"m0"`) {
			require.Len(t, spans, maxSplit)
			continue
		}
		var got []string
		for _, sp := range spans {
			got = append(got, tt.raw[sp.name0:sp.name1]+"="+tt.raw[sp.val0:sp.val1])
		}
		assert.Equal(t, tt.names, got, "%q", tt.raw)
	}
}

// TestObjectAllocations: the common shape costs no Decoder: a Cognito
// claim set's walk allocates only the names that are not known ones.
func TestObjectAllocations(t *testing.T) {
	known := ClaimNames("client_id", "token_use", "scope", "cognito:groups", "auth_time", "username")
	allocs := testing.AllocsPerRun(100, func() {
		if err := Object(cognitoPayload, known, func(string, []byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 3.0, "version, origin_jti, event_id: the unknown names")
}
