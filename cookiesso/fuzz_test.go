package cookiesso

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ssokit/ssokit/ssotoken"
)

// FuzzCookie feeds arbitrary Cookie header lines through the exchange:
// finding the cookie never panics and answers a value of RFC 6265 octets
// or a bad request; exchanging it answers a JWT or a 400/401, never
// anything else. The corpus is in testdata/fuzz/FuzzCookie.
func FuzzCookie(f *testing.F) {
	ex, _ := newExchanger(f, nil)
	for _, s := range []string{
		"ssoCookie=" + goodCookie(f), "ssoCookie=a; ssoCookie=b", `ssoCookie="q"`, "ssoCookie=", "a=1;;;ssoCookie=x.y.z",
		"ssoCookie=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "ssoCookie=\x00", "=;=;ssoCookie",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header["Cookie"] = []string{line}
		v, err := ex.CookieValue(r)
		if err != nil {
			if ssotoken.KindOf(err) != ssotoken.ErrBadRequest {
				t.Fatalf("CookieValue(%q): %v", line, err)
			}
			return
		}
		if v == "" || !validCookieValue(v) || len(v) > DefaultMaxCookieBytes {
			t.Fatalf("CookieValue(%q) = %q", line, v)
		}
		tok, err := ex.Exchange(context.Background(), v)
		switch k := ssotoken.KindOf(err); {
		case err == nil:
			if tok.JWT == "" {
				t.Fatal("no JWT")
			}
		case k != ssotoken.ErrBadRequest && k != ssotoken.ErrUnauthorized:
			t.Fatalf("Exchange(%q): %v", v, err)
		}
	})
}
