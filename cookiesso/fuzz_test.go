package cookiesso

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/ssotoken"
)

// FuzzCookieDifferential signs arbitrary header and claims JSON as an
// HS256 cookie and holds the validator against golang-jwt's plain Parse: a
// cookie the validator accepts, golang-jwt (HS256 pinned, exp required,
// the same clock) accepts too, with the same subject, roles and expiry,
// and its header and claims are valid UTF-8 JSON. The checked-in corpus
// (testdata/fuzz/FuzzCookieDifferential) holds the malformed shapes, so
// that a plain go test replays them.
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
		if !utf8.ValidString(header) || !utf8.ValidString(payload) || !json.Valid([]byte(header)) || !json.Valid([]byte(payload)) {
			t.Fatalf("Validate accepted a cookie that is not UTF-8 JSON: %q.%q", header, payload)
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
