package cognitotest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cognito/cognitotest"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// A pool served over httptest, and an Authenticator that fetches its JWKS
// as it would Cognito's. In a test, cognitotest.NewPool(t) closes the pool
// at the end of the test and p.AccessToken(t, ...) fails the test instead
// of returning an error.
func Example() {
	now := time.Date(2025, 1, 20, 8, 49, 46, 0, time.UTC)
	p, err := cognitotest.NewServer(
		cognitotest.Clock(func() time.Time { return now }),
		cognitotest.Groups("Use API"),
		cognitotest.Defaults(cognitotest.With("custom:ciino", "10001004")),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	auth, err := cognito.New(p.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	tok, _ := p.Token(cognito.TokenUseAccess)
	pr, err := auth.Authenticate(context.Background(), tok)
	fmt.Println(pr.Username, pr.ClientID, pr.Groups, pr.Attributes["custom:ciino"], pr.ExpiresAt.UTC(), err)

	for _, opt := range []cognitotest.TokenOption{
		cognitotest.Without("exp"),
		cognitotest.With("exp", now.Add(-time.Minute)),
		cognitotest.With("client_id", "someone-else"),
	} {
		tok, _ := p.Token(cognito.TokenUseAccess, opt)
		_, err := auth.Authenticate(context.Background(), tok)
		fmt.Println(ssotoken.CodeOf(err))
	}
	// Output:
	// testuser test-app-client [Use API] 10001004 2025-01-20 09:49:46 +0000 UTC <nil>
	// exp_missing
	// token_expired
	// wrong_client
}

// A host's GenerateSSOToken handler under test, without a network: the
// pool's JWKS goes to cognito.NewStatic, and its access tokens carry the
// caller's CIINo in custom:ciino.
func Example_hostHandler() {
	p, err := cognitotest.New(cognitotest.Defaults(cognitotest.With("custom:ciino", "10001004")))
	if err != nil {
		log.Fatal(err)
	}
	auth, err := cognito.NewStatic(p.Config(), p.JWKS())
	if err != nil {
		log.Fatal(err)
	}
	key, _ := ssotoken.NewHMACKey("", []byte("the TokenNo secret, 32 bytes or more"))
	ring, _ := ssotoken.NewKeyring(key)
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
	if err != nil {
		log.Fatal(err)
	}
	h, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: auth,
		Issuer:        signer,
		Clients:       httpadapter.StaticRegistry{"1RrLMyLrZGA=": {LOBs: []string{"01"}, AppClients: []string{p.ClientID()}}},
		CIINoClaim:    "custom:ciino",
	})
	if err != nil {
		log.Fatal(err)
	}

	call := func(ciino string, opts ...cognitotest.TokenOption) int {
		tok, _ := p.Token(cognito.TokenUseAccess, opts...)
		r := httptest.NewRequest(http.MethodPost, "/v2/get_sso_token", strings.NewReader(`{"CIINo":"`+ciino+`","LOBId":"01","Functionality":"D"}`))
		r.Header.Set("x-api-version", "1.0.0")
		r.Header.Set("x-lob-client-id", "1RrLMyLrZGA=")
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	fmt.Println("own CIINo:", call("10001004"))
	fmt.Println("another's CIINo:", call("10001005"))
	fmt.Println("expired token:", call("10001004", cognitotest.With("exp", p.Now().Add(-time.Hour))))
	fmt.Println("another app client:", call("10001004", cognitotest.With("client_id", "other-app")))
	// Output:
	// own CIINo: 200
	// another's CIINo: 403
	// expired token: 401
	// another app client: 401
}

// Cognito rotates its keys: a new key is published beside the old, signs
// new tokens, and the old one is dropped later. An Authenticator fetches
// the JWKS again when a token names a kid it does not know.
func ExamplePool_Rotate() {
	p, err := cognitotest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	auth, err := cognito.New(p.Config())
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
	ctx := context.Background()

	old, _ := p.Token(cognito.TokenUseAccess)
	_, err = auth.Authenticate(ctx, old)
	fmt.Println("old key:", err)

	p.Rotate()
	next, _ := p.Token(cognito.TokenUseAccess)
	_, err = auth.Authenticate(ctx, next)
	fmt.Println("new key:", err, len(p.Published()), "keys published")

	p.Publish(p.KeyID()) // drop the old key
	fresh, _ := cognito.New(p.Config())
	defer fresh.Close()
	_, err = fresh.Authenticate(ctx, old)
	fmt.Println("old key, dropped:", ssotoken.CodeOf(err))
	// Output:
	// old key: <nil>
	// new key: <nil> 2 keys published
	// old key, dropped: unknown_key
}

// A JWKS endpoint that is down, or slower than the caller's deadline: the
// Authenticator fails as upstream (502) or timeout (504), never as a bad
// token (401). Stall holds the fetch until the test releases it.
func ExamplePool_Stall() {
	p, err := cognitotest.NewServer()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	tok, _ := p.Token(cognito.TokenUseAccess)

	p.Down()
	down, _ := cognito.New(p.Config())
	defer down.Close()
	_, err = down.Authenticate(context.Background(), tok)
	fmt.Println("down:", httpadapter.StatusFor(err), ssotoken.CodeOf(err))
	p.Up()

	s := p.Stall()
	slow, _ := cognito.New(p.Config())
	defer slow.Close()
	<-s.Held()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller's deadline passes while the fetch is held
	_, err = slow.Authenticate(ctx, tok)
	fmt.Println("slow:", httpadapter.StatusFor(err))

	s.Release()
	_, err = slow.Authenticate(context.Background(), tok)
	fmt.Println("released:", err)
	// Output:
	// down: 502 jwks_unavailable
	// slow: 504
	// released: <nil>
}
