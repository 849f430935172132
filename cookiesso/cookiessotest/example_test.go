package cookiessotest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/cookiesso/cookiessotest"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// apiRing is the host's key of the exchanged JWT.
func apiRing() *ssotoken.Keyring {
	key, err := ssotoken.NewHMACKey("", []byte("the exchanged JWT's secret, 32+ bytes!"))
	if err != nil {
		log.Fatal(err)
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	return ring
}

// A host's exchange under test: the Signer mints the cookie the main site
// would set, and its ValidatorConfig accepts it. In a test,
// s.Cookie(t, "jdoe", "Use API") and s.Validator(t) fail the test instead
// of returning an error.
func Example() {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s, err := cookiessotest.NewSigner(cookiessotest.Clock(clock))
	if err != nil {
		log.Fatal(err)
	}
	v, err := cookiesso.NewHMACValidator(s.ValidatorConfig())
	if err != nil {
		log.Fatal(err)
	}
	ring := apiRing()
	ex, _ := cookiesso.New(cookiesso.Config{Validator: v, Keys: ring, Now: clock})
	auth, _ := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: ring, Now: clock})
	ctx := context.Background()

	cookie, _ := s.Sign(s.Claims("jdoe", cookiesso.DefaultRole))
	tok, err := ex.Exchange(ctx, cookie)
	if err != nil {
		log.Fatal(err)
	}
	p, err := auth.Authenticate(ctx, tok.JWT)
	fmt.Println(p.Subject, p.Groups, tok.ExpiresAt, err)

	expired := s.Claims("jdoe", cookiesso.DefaultRole)
	expired["exp"] = now.Add(-time.Minute)
	cookie, _ = s.Sign(expired)
	_, err = ex.Exchange(ctx, cookie)
	fmt.Println(ssotoken.CodeOf(err))

	other, _ := cookiessotest.NewSigner() // another secret
	cookie, _ = other.Sign(other.Claims("jdoe", cookiesso.DefaultRole))
	_, err = ex.Exchange(ctx, cookie)
	fmt.Println(ssotoken.CodeOf(err))
	// Output:
	// jdoe [Use API] 2026-11-23 13:00:00 +0000 UTC <nil>
	// cookie_expired
	// cookie_bad_signature
}

// The exchange over HTTP, with the cookie in the request as a browser
// sends it.
func ExampleHTTPCookie() {
	s, _ := cookiessotest.NewSigner()
	v, _ := cookiesso.NewHMACValidator(s.ValidatorConfig())
	ex, _ := cookiesso.New(cookiesso.Config{Validator: v, Keys: apiRing()})
	h, err := httpadapter.CookieExchangeHandler(ex, httpadapter.CookieExchangeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	cookie, _ := s.Sign(s.Claims("jdoe", cookiesso.DefaultRole))
	for _, c := range []*http.Cookie{cookiessotest.HTTPCookie(cookie), cookiessotest.HTTPCookie("not-a-jwt"), nil} {
		r := httptest.NewRequest(http.MethodPost, httpadapter.CookieSSOPath, nil)
		r.Header.Set("Accept", "application/json")
		if c != nil {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 200
	// 400
	// 400
}

// A main site whose SSO cookie is an opaque session id: the
// RemoteValidator asks it who the user is.
func ExampleMainSite() {
	site := cookiessotest.NewMainSite()
	defer site.Close()
	jdoe := site.Login("jdoe", cookiesso.DefaultRole)
	guest := site.Login("guest", "Reader")

	v, err := cookiesso.NewRemoteValidator(site.ValidatorConfig())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, cookie := range []string{jdoe, guest, "s3ss10n-unknown"} {
		p, err := v.Validate(ctx, cookie)
		if err != nil {
			fmt.Println(ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))
			continue
		}
		fmt.Println(p.Username, p.Groups)
	}
	site.Down()
	_, err = v.Validate(ctx, site.Login("late", cookiesso.DefaultRole))
	fmt.Println(ssotoken.CodeOf(err), site.Requests())
	// Output:
	// jdoe [Use API]
	// guest [Reader]
	// unauthorized cookie_invalid
	// main_site_unavailable 4
}
