package cookiesso_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// ssoCookie is what the identity provider set in the browser: an HS256 JWT
// with sub, roles and exp.
func ssoCookie(roles ...string) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "jdoe", "roles": roles, "exp": now.Add(8 * time.Hour).Unix(),
	}).SignedString([]byte("the SSO cookie's own secret, 32+ bytes"))
	if err != nil {
		log.Fatal(err)
	}
	return s
}

func apiKeys() *ssotoken.Keyring {
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

func ExampleExchanger_Exchange() {
	v, err := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{
		Secret: []byte("the SSO cookie's own secret, 32+ bytes"),
		Now:    func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	ex, err := cookiesso.New(cookiesso.Config{Validator: v, Keys: apiKeys(), Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}

	tok, err := ex.Exchange(context.Background(), ssoCookie("Use API"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Count(tok.JWT, "."), tok.ExpiresAt)

	_, err = ex.Exchange(context.Background(), "not-a-jwt")
	fmt.Println(ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))
	// Output:
	// 2 2026-11-23 13:00:00 +0000 UTC
	// bad request cookie_malformed
}

// The whole Cookie SSO flow over HTTP: exchange the cookie, then call an
// API that needs the "Use API" role with the JWT.
func ExampleNewAuthenticator() {
	ring := apiKeys()
	clock := func() time.Time { return now }
	v, _ := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: []byte("the SSO cookie's own secret, 32+ bytes"), Now: clock})
	ex, _ := cookiesso.New(cookiesso.Config{Validator: v, Keys: ring, Now: clock})
	auth, err := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: ring, Now: clock})
	if err != nil {
		log.Fatal(err)
	}

	exchange, err := httpadapter.CookieExchangeHandler(ex, httpadapter.CookieExchangeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(httpadapter.CookieSSOPath, exchange)
	mux.Handle("GET /services/v2/user.json", httpadapter.RequireBearer(auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpadapter.PrincipalFromContext(r.Context())
		fmt.Fprintf(w, `{"username":%q}`, p.Subject)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client, _ := httpadapter.NewCookieClient(httpadapter.CookieClientConfig{URL: srv.URL + httpadapter.CookieSSOPath})
	for _, roles := range [][]string{{"Use API"}, {"Reader"}} {
		jwt, err := client.Exchange(context.Background(), "ssoCookie", ssoCookie(roles...))
		if err != nil {
			log.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/services/v2/user.json", nil)
		req.Header.Set("Authorization", "Bearer "+jwt)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println(roles, res.StatusCode)
	}
	// Output:
	// [Use API] 200
	// [Reader] 401
}
