package cookiesso_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/ssotoken"
)

// The exchange beside what a user would hand-write with golang-jwt, in one
// run:
//
//	go test -run '^$' -bench . -benchmem ./cookiesso/

var (
	benchCookieSecret = []byte("the SSO cookie's own secret, 32+ bytes")
	benchAPISecret    = []byte("the exchanged JWT's secret, 32+ bytes!")
)

func benchCookie(b *testing.B) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "jdoe", "roles": []string{"Use API"}, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(benchCookieSecret)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkExchange validates an HS256 cookie and signs the exchanged JWT.
func BenchmarkExchange(b *testing.B) {
	v, err := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: benchCookieSecret})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := ssotoken.NewHMACKey("", benchAPISecret)
	ring, _ := ssotoken.NewKeyring(key)
	ex, err := cookiesso.New(cookiesso.Config{Validator: v, Keys: ring})
	if err != nil {
		b.Fatal(err)
	}
	cookie := benchCookie(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ex.Exchange(ctx, cookie); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineGolangJWTExchange does the same with golang-jwt and
// MapClaims: parse the cookie (HS256 pinned, exp required), then sign the
// same claims.
func BenchmarkBaselineGolangJWTExchange(b *testing.B) {
	cookie := benchCookie(b)
	keyfunc := func(*jwt.Token) (any, error) { return benchCookieSecret, nil }
	b.ReportAllocs()
	for b.Loop() {
		t, err := jwt.Parse(cookie, keyfunc, jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
		if err != nil {
			b.Fatal(err)
		}
		c := t.Claims.(jwt.MapClaims)
		now := time.Now()
		_, err = jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": c["sub"], "roles": c["roles"], "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"jti": "17953700940000000001", "iss": cookiesso.DefaultIssuer, "aud": cookiesso.DefaultAudience,
		}).SignedString(benchAPISecret)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate verifies an exchanged JWT on a later API call.
func BenchmarkAuthenticate(b *testing.B) {
	v, _ := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: benchCookieSecret})
	key, _ := ssotoken.NewHMACKey("", benchAPISecret)
	ring, _ := ssotoken.NewKeyring(key)
	ex, _ := cookiesso.New(cookiesso.Config{Validator: v, Keys: ring})
	tok, err := ex.Exchange(context.Background(), benchCookie(b))
	if err != nil {
		b.Fatal(err)
	}
	auth, _ := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: ring})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.Authenticate(ctx, tok.JWT); err != nil {
			b.Fatal(err)
		}
	}
}
