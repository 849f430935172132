package httpadapter

import (
	"bytes"
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
		"ssoCookie=" + good, "ssoCookie=a; ssoCookie=b", `ssoCookie="q"`, "ssoCookie=", "a=1;;;ssoCookie=x.y.z",
		"ssoCookie=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "ssoCookie=\x00", "=;=;ssoCookie",
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
// handler: the answer is 200, 400, 403 or 413 and never 5xx, and a 200's
// token carries exactly the body's three fields. The corpus is in
// testdata/fuzz/FuzzDecodeRequest.
func FuzzDecodeRequest(f *testing.F) {
	ring := newTestRing(f)
	h, _ := newTestHandler(f, func(c *Config) {
		c.Issuer = newTestSigner(f, ring)
		c.MaxBodyBytes = 1024
	})
	for _, s := range []string{
		testBody, `{}`, `[]`, `null`, `{"CIINo":1}`, testBody + testBody, `{"CIINo":"a","LOBId":"b","Functionality":"c","exp":1}`,
		`{"CIINo":"\u0000","LOBId":"b","Functionality":"c"}`, `{"ciino":"a","lobid":"b","functionality":"c"}`, strings.Repeat("[", 2000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newRequest(string(body)))
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			return
		default:
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body.String())
		}
		var want ssotoken.Request
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("200 for a body encoding/json refuses: %v", err)
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

// FuzzUnmarshalRequest checks the body's fast path against encoding/json:
// whatever the fast path accepts, encoding/json decodes to the same
// request. The corpus is in testdata/fuzz/FuzzUnmarshalRequest.
func FuzzUnmarshalRequest(f *testing.F) {
	for _, s := range []string{
		testBody, ` { "LOBId" : "01" ,"Functionality":"D", "CIINo":"1" } `, `{"CIINo":"1","CIINo":"2","LOBId":"01","Functionality":"D"}`,
		`{"ciino":"1","LOBId":"01","Functionality":"D"}`, `{"CIINo":"\u0031","LOBId":"01","Functionality":"D"}`,
		`{"CIINo":"1","LOBId":"01"}`, `{"CIINo":"1","LOBId":"01","Functionality":"D"} x`, `{}`, `{"CIINo":"é"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast ssotoken.Request
		if !fastRequest(b, &fast) {
			return
		}
		var ref ssotoken.Request
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", b, err)
		}
		if fast != ref {
			t.Fatalf("fast path %+v, encoding/json %+v for %q", fast, ref, b)
		}
	})
}
