package httpadapter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// FuzzCookie feeds arbitrary Cookie header lines to the exchange handler:
// it never panics, and answers a JWT, 400 or 401, never anything else. The
// corpus is in testdata/fuzz/FuzzCookie.
func FuzzCookie(f *testing.F) {
	h, _ := newCookieSetup(f, CookieExchangeOptions{})
	good := signedCookie(f, cookieSecret, time.Now().Add(time.Hour), "Use API")
	for _, s := range []string{
		"AnswerHubCookieSSO=" + good, "AnswerHubCookieSSO=a; AnswerHubCookieSSO=b", `AnswerHubCookieSSO="q"`, "AnswerHubCookieSSO=", "a=1;;;AnswerHubCookieSSO=x.y.z",
		"AnswerHubCookieSSO=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "AnswerHubCookieSSO=\x00", "=;=;AnswerHubCookieSSO",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r := httptest.NewRequest(http.MethodPost, CookieSSOPath, nil)
		r.Header["Cookie"] = []string{line}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case http.StatusOK:
			var resp CookieResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || strings.Count(resp.JWT, ".") != 2 {
				t.Fatalf("200 without a JWT for %q: %s", line, rec.Body.String())
			}
		case http.StatusBadRequest, http.StatusUnauthorized:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, line, rec.Body.String())
		}
	})
}

// FuzzBearerToken feeds arbitrary Authorization values to the parser: it
// never panics, failures are 401s without a token, and a token it returns
// is a non-empty part of the value without space or tab. The corpus is in
// testdata/fuzz/FuzzBearerToken.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  abc ", "abc.def.ghi", "Basic dXNlcjpw", "Bearer", "Bearer a b", "", "\x00", "Bearer\tabc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tok, err := parseAuthorization(v)
		if err != nil {
			if tok != "" {
				t.Fatalf("token %q with error %v", tok, err)
			}
			k := ssotoken.KindOf(err)
			if k != ssotoken.ErrUnauthorized {
				t.Fatalf("parseAuthorization(%q) kind %v", v, k)
			}
			return
		}
		if tok == "" || strings.ContainsAny(tok, " \t") || !strings.Contains(v, tok) {
			t.Fatalf("parseAuthorization(%q) = %q", v, tok)
		}
	})
}

// FuzzDecodeRequest feeds arbitrary bodies to the GenerateSSOToken
// handler: the answer is 200, 400, 403 or 413 and never 5xx; it is the
// general path's verdict (decodeRequest, which the handler's fast path
// must agree with): 400 malformed_body exactly when decodeRequest refuses
// the body, and a 200's token carries exactly the three fields
// decodeRequest reads, which encoding/json reads too. The corpus is in
// testdata/fuzz/FuzzDecodeRequest.
func FuzzDecodeRequest(f *testing.F) {
	ring := newTestRing(f)
	const maxBody = 1024
	h, _ := newTestHandler(f, func(c *Config) {
		c.Issuer = newTestSigner(f, ring)
		c.MaxBodyBytes = maxBody
		c.CIINoClaim, c.InsecureUnboundCIINo = "", true // any CIINo, so that bodies reach the issuer
		c.InsecureNoIssueLimit = true                   // and every one of them is issued: the limit would refuse the 21st
	})
	for _, s := range []string{
		testBody, `{}`, `[]`, `null`, `{"CIINo":1}`, testBody + testBody, `{"CIINo":"a","LOBId":"b","Functionality":"c","exp":1}`,
		`{"CIINo":"\u0000","LOBId":"b","Functionality":"c"}`, `{"ciino":"a","lobid":"b","functionality":"c"}`, strings.Repeat("[", 2000),
		`{"CIINo":"1","CIINo":"2","LOBId":"01","Functionality":"D"}`, "{\"CIINo\":\"1\x80\",\"LOBId\":\"01\",\"Functionality\":\"D\"}",
		`{"CIINo":"\ud800","LOBId":"01","Functionality":"D"}`, `{"CIINo":"1"x"LOBId":"01","Functionality":"D"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest(string(body)))
		var general ssotoken.Request
		gerr := decodeRequest(body, &general)
		code := ""
		if rec.Code != http.StatusOK {
			var env ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
				t.Fatalf("status %d without the envelope: %s", rec.Code, rec.Body.String())
			}
			code = env.ErrorCode
		}
		switch {
		case rec.Code == http.StatusRequestEntityTooLarge:
			if len(body) <= maxBody {
				t.Fatalf("413 for a body of %d bytes", len(body))
			}
			return
		case len(body) > maxBody:
			t.Fatalf("status %d for a body over the limit", rec.Code)
		case (code == CodeMalformedBody) != (gerr != nil):
			t.Fatalf("the handler answers %d %s, the general path %v, for %q", rec.Code, code, gerr, body)
		}
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusForbidden:
			return
		default:
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body.String())
		}
		var want ssotoken.Request
		if err := json.Unmarshal(body, &want); err != nil || want != general {
			t.Fatalf("200 for a body encoding/json reads as %+v (%v), the general path as %+v", want, err, general)
		}
		var resp ssotoken.Response
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: want.LOBId})
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(context.Background(), resp.TokenNo)
		if err != nil {
			t.Fatalf("issued token does not verify: %v", err)
		}
		if c.CIINo != want.CIINo || c.LOBId != want.LOBId || c.Functionality != want.Functionality {
			t.Fatalf("claims %+v, body %q", c, body)
		}
	})
}

// FuzzUnmarshalRequest is the differential of the body's two paths: the
// fast path never refuses, and whatever it accepts the general path
// (decodeRequest) decodes to the same request, so the verdict is the
// general path's whichever reads the body; and the general path is never
// looser than encoding/json: whatever it accepts, encoding/json decodes to
// the same request. The corpus is in testdata/fuzz/FuzzUnmarshalRequest.
func FuzzUnmarshalRequest(f *testing.F) {
	for _, s := range []string{
		testBody, ` { "LOBId" : "01" ,"Functionality":"D", "CIINo":"1" } `, `{"CIINo":"1","CIINo":"2","LOBId":"01","Functionality":"D"}`,
		`{"ciino":"1","LOBId":"01","Functionality":"D"}`, `{"CIINo":"\u0031","LOBId":"01","Functionality":"D"}`,
		`{"CIINo":"1","LOBId":"01"}`, `{"CIINo":"1","LOBId":"01","Functionality":"D"} x`, `{}`, `{"CIINo":"é"}`,
		"{\"CIINo\":\"\x80\"}", `{"CIINo":"\ud800"}`, `{"CIINo":"\ufffd\udfff"}`, `{"CIINo":"\ud83d\ude00"}`, `{"CIINo":null}`,
		`x"CIINo":"1"}`, `{"CIINo":"1"x"LOBId":"01"}`, `{"CIINo":"1"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, general, both ssotoken.Request
		fastOK := fastRequest(b, &fast)
		gerr := decodeRequest(b, &general)
		err := unmarshalRequest(b, &both)
		if (err == nil) != (gerr == nil) {
			t.Fatalf("unmarshalRequest %v, the general path %v, for %q", err, gerr, b)
		}
		if fastOK {
			if gerr != nil {
				t.Fatalf("fast path accepted %q, the general path refuses it: %v", b, gerr)
			}
			if fast != general {
				t.Fatalf("fast path %+v, general path %+v for %q", fast, general, b)
			}
		}
		if gerr != nil {
			return
		}
		if both != general {
			t.Fatalf("unmarshalRequest %+v, general path %+v for %q", both, general, b)
		}
		var ref ssotoken.Request
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatalf("the general path accepted %q, encoding/json refuses it: %v", b, err)
		}
		if ref != general {
			t.Fatalf("general path %+v, encoding/json %+v for %q", general, ref, b)
		}
	})
}

// FuzzFromCookie feeds arbitrary Cookie header lines to FromCookie: it
// never panics; it finds the cookie absent, returns a token that is a
// non-empty part of the line without space, tab or comma, or refuses with
// 400 or 401.
func FuzzFromCookie(f *testing.F) {
	for _, s := range []string{"sso=abc", "sso=a; sso=b", `sso="q"`, "sso=", "a=1;;;sso=x.y.z", `sso="a b"`, "sso=a,b", "sso=\x00", "=;=;sso", "SSO=abc"} {
		f.Add(s)
	}
	ex := FromCookie("sso")
	f.Fuzz(func(t *testing.T, line string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = []string{line}
		tok, err := ex(httptest.NewRecorder(), r)
		if err != nil {
			if tok != "" {
				t.Fatalf("token %q with error %v", tok, err)
			}
			if s := StatusFor(err); s != http.StatusBadRequest && s != http.StatusUnauthorized {
				t.Fatalf("FromCookie(%q): status %d", line, s)
			}
			return
		}
		if tok != "" && (strings.ContainsAny(tok, " \t,") || !strings.Contains(line, tok)) {
			t.Fatalf("FromCookie(%q) = %q", line, tok)
		}
	})
}
