package httpadapter

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssotoken"
)

// bodyCases are GenerateSSOToken bodies and how they decode: to the letter
// of the document's names, one object, valid UTF-8. refused is the policy
// error for a body that is malformed; fast tells whether the fast path
// reads the body itself (it never refuses one: it leaves it to the general
// path).
var bodyCases = []struct {
	name    string
	body    string
	refused error // nil: decoded to want
	want    ssotoken.Request
	fast    bool
}{
	{name: "the document's body", body: testBody, want: ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}, fast: true},
	{name: "any order, white space", body: " {\n\t\"LOBId\" : \"01\" ,\"Functionality\":\"D\", \"CIINo\":\"10001004\" }\r\n", want: ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}, fast: true},
	{name: "an escape", body: `{"CIINo":"\u0031\u0030001004","LOBId":"01","Functionality":"D"}`, want: ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}},
	{name: "unknown members are ignored", body: `{"CIINo":"10001004","LOBId":"01","Functionality":"D","exp":99,"x":{"y":[1,{"z":null}]}}`, want: ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}},
	{name: "null is absent", body: `{"CIINo":null,"LOBId":"01","Functionality":"D"}`, want: ssotoken.Request{LOBId: "01", Functionality: "D"}},
	{name: "a surrogate pair", body: `{"CIINo":"\ud83d\ude00","LOBId":"01","Functionality":"D"}`, want: ssotoken.Request{CIINo: "\U0001F600", LOBId: "01", Functionality: "D"}},
	{name: "U+FFFD sent as such", body: `{"CIINo":"\ufffd\\ud800` + "\uFFFD" + `","LOBId":"01","Functionality":"D"}`, want: ssotoken.Request{CIINo: "\uFFFD\\ud800\uFFFD", LOBId: "01", Functionality: "D"}},
	{name: "an empty object", body: `{}`},
	{name: "a space and a tilde inside a value", body: `{"CIINo":"1 2~","LOBId":"01","Functionality":"D"}`, want: ssotoken.Request{CIINo: "1 2~", LOBId: "01", Functionality: "D"}, fast: true},
	{name: "DEL inside a value (the general path reads it, Validate refuses it)", body: "{\"CIINo\":\"1\x7f\",\"LOBId\":\"01\",\"Functionality\":\"D\"}", want: ssotoken.Request{CIINo: "1\x7f", LOBId: "01", Functionality: "D"}},

	{name: "a case variant of CIINo", body: `{"ciino":"1","LOBId":"01","Functionality":"D"}`, refused: jose.ErrCaseVariant},
	{name: "case variants of every name", body: `{"ciino":"1","lobid":"01","functionality":"D"}`, refused: jose.ErrCaseVariant},
	{name: "a case variant beside the name", body: `{"CIINo":"1","LOBId":"01","Functionality":"D","lobid":"02"}`, refused: jose.ErrCaseVariant},
	{name: "CIINo twice", body: `{"CIINo":"1","CIINo":"2","LOBId":"01","Functionality":"D"}`, refused: jose.ErrDuplicate},
	{name: "Functionality twice, last", body: `{"CIINo":"1","LOBId":"01","Functionality":"D","Functionality":"E"}`, refused: jose.ErrDuplicate},
	{name: "an unknown member twice", body: `{"CIINo":"1","LOBId":"01","Functionality":"D","x":1,"x":2}`, refused: jose.ErrDuplicate},
	{name: "raw byte 0x80 in CIINo", body: "{\"CIINo\":\"1000\x801004\",\"LOBId\":\"01\",\"Functionality\":\"D\"}", refused: jose.ErrInvalidUTF8},
	{name: "raw byte 0xff in an unknown member", body: "{\"CIINo\":\"1\",\"LOBId\":\"01\",\"Functionality\":\"D\",\"x\":\"\xff\"}", refused: jose.ErrInvalidUTF8},
	{name: "a lone high surrogate escape", body: `{"CIINo":"\ud800","LOBId":"01","Functionality":"D"}`, refused: jose.ErrInvalidUTF8},
	{name: "a lone low surrogate escape", body: `{"CIINo":"1\udc00","LOBId":"01","Functionality":"D"}`, refused: jose.ErrInvalidUTF8},
	{name: "a lone surrogate after an escaped U+FFFD", body: `{"CIINo":"\ufffd\ud800","LOBId":"01","Functionality":"D"}`, refused: jose.ErrInvalidUTF8},
	{name: "a high surrogate before a non-surrogate escape", body: `{"CIINo":"\uD800\u0041","LOBId":"01","Functionality":"D"}`, refused: jose.ErrInvalidUTF8},
	{name: "text before the object", body: `x"CIINo":"1","LOBId":"01","Functionality":"D"}`, refused: jose.ErrSyntax},
	{name: "no comma between members", body: `{"CIINo":"1"x"LOBId":"01","Functionality":"D"}`, refused: jose.ErrSyntax},
	{name: "unterminated", body: `{"CIINo":"1","LOBId":"01","Functionality":"D"`, refused: jose.ErrSyntax},
	{name: "unterminated string", body: `{"CIINo":"1","LOBId":"01","Functionality":"D`, refused: jose.ErrSyntax},
	{name: "two objects", body: testBody + testBody, refused: jose.ErrSyntax},
	{name: "an array", body: `[` + testBody + `]`, refused: jose.ErrSyntax},
	{name: "null", body: `null`, refused: jose.ErrSyntax},
	{name: "empty", body: ``, refused: jose.ErrSyntax},
	{name: "CIINo a number", body: `{"CIINo":10001004,"LOBId":"01","Functionality":"D"}`, refused: jose.ErrType},
	{name: "LOBId an array", body: `{"CIINo":"1","LOBId":["01"],"Functionality":"D"}`, refused: jose.ErrType},
}

// TestUnmarshalRequest runs every body through both paths: the fast path
// reads only the common form and never refuses, the general path gives
// the verdict, and unmarshalRequest (the two together) gives the same.
func TestUnmarshalRequest(t *testing.T) {
	for _, tc := range bodyCases {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.body)
			var fast ssotoken.Request
			assert.Equal(t, tc.fast, fastRequest(b, &fast), "fast path")
			if tc.fast {
				assert.Equal(t, tc.want, fast)
			}

			var general, both ssotoken.Request
			gerr, err := decodeRequest(b, &general), unmarshalRequest(b, &both)
			if tc.refused != nil {
				assert.ErrorIs(t, gerr, tc.refused)
				assert.ErrorIs(t, err, tc.refused)
				return
			}
			require.NoError(t, gerr)
			require.NoError(t, err)
			assert.Equal(t, tc.want, general)
			assert.Equal(t, tc.want, both)

			var ref ssotoken.Request // what encoding/json reads: the general path is never looser
			require.NoError(t, json.Unmarshal(b, &ref))
			assert.Equal(t, ref, general)
		})
	}
}

// TestHandlerStrictBody: through the handler, every malformed body is 400
// malformed_body, whichever path read it.
func TestHandlerStrictBody(t *testing.T) {
	h, _ := newTestHandler(t, func(c *Config) { c.InsecureUnboundCIINo, c.CIINoClaim = true, "" })
	for _, tc := range bodyCases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(tc.body))
			env := decodeEnvelope(t, rec)
			switch {
			case tc.refused != nil:
				assert.Equal(t, http.StatusBadRequest, rec.Code)
				assert.Equal(t, CodeMalformedBody, env["ErrorCode"])
			case tc.want.Validate() != nil:
				assert.Equal(t, http.StatusBadRequest, rec.Code)
				assert.Equal(t, ssotoken.CodeOf(tc.want.Validate()), env["ErrorCode"])
			default:
				assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			}
		})
	}
}

// BenchmarkUnmarshalRequest is the body's decoding: the document's body,
// read by the fast path, and bodies the general path reads.
func BenchmarkUnmarshalRequest(b *testing.B) {
	for _, c := range []struct{ name, body string }{
		{"fast", testBody},
		{"escaped", `{"CIINo":"\u0031\u0030001004","LOBId":"01","Functionality":"D"}`},
		{"unknown_member", `{"CIINo":"10001004","LOBId":"01","Functionality":"D","client":"portal"}`},
		{"case_variant", `{"ciino":"10001004","LOBId":"01","Functionality":"D"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(c.body)
			var req ssotoken.Request
			b.ReportAllocs()
			for b.Loop() {
				_ = unmarshalRequest(body, &req)
			}
		})
	}
}
