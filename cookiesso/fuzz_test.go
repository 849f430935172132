package cookiesso

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

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

// FuzzCookieDifferential signs arbitrary header and claims JSON as an
// HS256 cookie and holds the validator against golang-jwt's plain Parse: a
// cookie the validator accepts, golang-jwt (HS256 pinned, exp required,
// the same clock) accepts too, with the same subject, roles and expiry.
func FuzzCookieDifferential(f *testing.F) {
	v, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret, Now: clock(testNow)})
	if err != nil {
		f.Fatal(err)
	}
	hdr := `{"alg":"HS256","typ":"JWT"}`
	exp := strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10)
	f.Add(hdr, `{"sub":"jdoe","roles":["Use API"],"exp":`+exp+`}`)
	f.Add(`{"ALG":"HS256"}`, `{"sub":"jdoe","exp":`+exp+`}`)
	f.Add(hdr, `{"sub":"jdoe","ROLES":["Use API"],"exp":`+exp+`}`)
	f.Add(hdr, `{"sub":"jdoe","exp":1,"exp":`+exp+`}`)
	f.Add(hdr, `{"sub":"jdoe","exp":`+exp+`.9,"nbf":0,"iat":1}`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		tok := hsRaw(t, cookieSecret, header, payload)
		p, err := v.Validate(context.Background(), tok)
		if err != nil {
			if k := ssotoken.KindOf(err); k != ssotoken.ErrBadRequest && k != ssotoken.ErrUnauthorized {
				t.Fatalf("Validate = %v", err)
			}
			return
		}
		gj, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return cookieSecret, nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(clock(testNow)))
		if err != nil {
			t.Fatalf("Validate accepted %s.%s, golang-jwt refuses it: %v", header, payload, err)
		}
		m := gj.Claims.(jwt.MapClaims)
		sub, _ := m.GetSubject()
		exp, _ := m.GetExpirationTime()
		if sub != p.Subject || exp == nil || exp.Unix() != p.ExpiresAt.Unix() {
			t.Fatalf("claims differ: golang-jwt %v, Validate %+v", m, p)
		}
		roles, _ := m["roles"].([]any)
		if len(roles) != len(p.Groups) {
			t.Fatalf("roles differ: golang-jwt %v, Validate %v", roles, p.Groups)
		}
		for i, r := range roles {
			if r != p.Groups[i] {
				t.Fatalf("roles differ: golang-jwt %v, Validate %v", roles, p.Groups)
			}
		}
	})
}
