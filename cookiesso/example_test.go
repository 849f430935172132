package cookiesso_test

import (
	"context"
	"fmt"
	"io"
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
// API that needs the "Use API" role (spelled USE_API too) with the JWT.
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
	mux.Handle("GET /services/v2/user.json", httpadapter.RequireBearer(auth, httpadapter.BearerOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpadapter.PrincipalFromContext(r.Context())
		fmt.Fprintf(w, `{"username":%q}`, p.Subject)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client, _ := httpadapter.NewCookieClient(httpadapter.CookieClientConfig{URL: srv.URL + httpadapter.CookieSSOPath})
	for _, roles := range [][]string{{"Use API"}, {"USE_API"}, {"Reader"}} {
		jwt, err := client.Exchange(context.Background(), cookiesso.DefaultCookieName, ssoCookie(roles...))
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
	// [USE_API] 200
	// [Reader] 401
}

// A main site whose SSO cookie is an opaque session id: the
// RemoteValidator asks it who the user is (forward auth), and the
// Exchanger turns the answer into the API's JWT.
func ExampleRemoteValidator() {
	sessions := map[string]string{ // what the main site knows
		"s3ss10n-jdoe":  `{"username":"jdoe","roles":["Use API"]}`,
		"s3ss10n-guest": `{"username":"guest","roles":["Reader"]}`,
	}
	mainSite := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookiesso.DefaultCookieName)
		if err != nil || sessions[c.Value] == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, sessions[c.Value])
	}))
	defer mainSite.Close()

	v, err := cookiesso.NewRemoteValidator(cookiesso.RemoteValidatorConfig{URL: mainSite.URL + "/api/session"})
	if err != nil {
		log.Fatal(err)
	}
	ring, clock := apiKeys(), func() time.Time { return now }
	ex, _ := cookiesso.New(cookiesso.Config{Validator: v, Keys: ring, Now: clock})
	auth, _ := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: ring, Now: clock})

	ctx := context.Background()
	for _, cookie := range []string{"s3ss10n-jdoe", "s3ss10n-guest", "s3ss10n-unknown"} {
		tok, err := ex.Exchange(ctx, cookie)
		if err != nil {
			fmt.Println(cookie, "exchange:", ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))
			continue
		}
		p, err := auth.Authenticate(ctx, tok.JWT)
		if err != nil {
			fmt.Println(cookie, "API call:", ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))
			continue
		}
		fmt.Println(cookie, "API call as", p.Subject, p.Groups, "until", tok.ExpiresAt)
	}

	mainSite.Close() // the main site is down: fail closed
	_, err = ex.Exchange(ctx, "s3ss10n-other")
	fmt.Println("main site down:", ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))
	// Output:
	// s3ss10n-jdoe API call as jdoe [Use API] until 2026-11-23 13:00:00 +0000 UTC
	// s3ss10n-guest API call: unauthorized role_missing
	// s3ss10n-unknown exchange: unauthorized cookie_invalid
	// main site down: upstream failure main_site_unavailable
}
