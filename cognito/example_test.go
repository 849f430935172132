package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cognito/cognitotest"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// whoami is a host's handler: it takes the access token out of the
// Authorization header ("Bearer <token>": Authenticate takes the token
// alone) and answers with the user it names, or with the status of the
// refusal (401, 403, or 502 and 504 when the pool's keys cannot be had).
func whoami(auth *cognito.Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := httpadapter.BearerToken(r)
		var p *ssotoken.Principal
		if err == nil {
			p, err = auth.Authenticate(r.Context(), tok)
		}
		if err != nil {
			http.Error(w, ssotoken.MessageOf(err), httpadapter.StatusFor(err))
			return
		}
		fmt.Fprintln(w, p.Username)
	})
}

// Access tokens of one app client are accepted, and they must carry a
// scope. For a real user pool the configuration is
//
//	cognito.Config{
//		UserPoolID:     "eu-west-1_AbCdEf123", // the issuer and JWKS URL are derived from it
//		ClientIDs:      []string{"3n4b5urk1ft4fl3mg5e62d9ado"},
//		TokenUse:       cognito.TokenUseAccess,
//		RequiredScopes: []string{"sso/generate"},
//		Leeway:         5 * time.Second,
//	}
//
// and the mux is served with http.ListenAndServe. Here package cognitotest
// stands in for the pool, and a recorder for the network.
func Example() {
	pool, err := cognitotest.NewServer(cognitotest.Scopes("openid", "sso/generate"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	cfg := pool.Config() // Issuer, JWKSURL, ClientIDs and TokenUse of the stand-in
	cfg.RequiredScopes = []string{"sso/generate"}
	cfg.Leeway = 5 * time.Second
	auth, err := cognito.New(cfg)
	if err != nil {
		log.Fatal(err) // only a configuration error: the JWKS is fetched in the background
	}
	defer auth.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /v2/whoami", whoami(auth))

	good, _ := pool.Token(cognito.TokenUseAccess)
	noScope, _ := pool.Token(cognito.TokenUseAccess, cognitotest.With("scope", "openid"))
	for _, authorization := range []string{"Bearer " + good, "Bearer " + noScope, "Bearer " + good[:len(good)-4] + "AAAA", ""} {
		r := httptest.NewRequest(http.MethodGet, "/v2/whoami", nil)
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 testuser
	// 403 the token lacks a required scope
	// 401 the token's signature is not valid
	// 401 the Authorization header is missing or blank
}

// ID tokens of two pools (say, staff and customers), and a rule of one's
// own through Check. For real pools, UserPoolID: "eu-west-1_Staff0001" and
// Pools: []cognito.Pool{{UserPoolID: "us-east-1_Custom002"}} name them.
func Example_idTokensOfTwoPools() {
	staff, err := cognitotest.NewServer(cognitotest.PoolID("eu-west-1_Staff0001"), cognitotest.ClientID("staffwebclient"),
		cognitotest.Username("alice"), cognitotest.Defaults(cognitotest.With("custom:ciino", "10001001")))
	if err != nil {
		log.Fatal(err)
	}
	defer staff.Close()
	customers, err := cognitotest.NewServer(cognitotest.PoolID("us-east-1_Custom002"), cognitotest.ClientID("customerwebclient"),
		cognitotest.Username("bob"))
	if err != nil {
		log.Fatal(err)
	}
	defer customers.Close()

	auth, err := cognito.New(cognito.Config{
		Issuer:    staff.Issuer(),
		JWKSURL:   staff.JWKSURL(),
		Pools:     []cognito.Pool{{Issuer: customers.Issuer(), JWKSURL: customers.JWKSURL()}},
		ClientIDs: []string{"staffwebclient", "customerwebclient"},
		TokenUse:  cognito.TokenUseID,
		Check: func(ctx context.Context, p *ssotoken.Principal) error {
			if p.Attributes["custom:ciino"] == "" {
				return ssotoken.NewError(ssotoken.ErrForbidden, "ciino_missing", "the user has no CIINo", nil)
			}
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	ctx := context.Background()
	for _, pool := range []*cognitotest.Pool{staff, customers} {
		tok, _ := pool.Token(cognito.TokenUseID)
		p, err := auth.Authenticate(ctx, tok)
		if err != nil {
			fmt.Println(pool.PoolID(), ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))
			continue
		}
		fmt.Println(pool.PoolID(), p.Username, p.ClientID, p.Attributes["custom:ciino"])
	}
	withCIINo, _ := customers.Token(cognito.TokenUseID, cognitotest.With("custom:ciino", "10001002"))
	p, err := auth.Authenticate(ctx, withCIINo)
	fmt.Println(p.Username, p.Attributes["custom:ciino"], err)
	// Output:
	// eu-west-1_Staff0001 alice staffwebclient 10001001
	// us-east-1_Custom002 forbidden ciino_missing
	// bob 10001002 <nil>
}

// A local stand-in for Cognito (cognito-local, moto, or cognitotest in
// a test): an explicit issuer and an http JWKS URL.
func Example_localStandIn() {
	local, err := cognitotest.NewServer(cognitotest.ClientID("local-client"))
	if err != nil {
		log.Fatal(err)
	}
	defer local.Close()

	auth, err := cognito.New(cognito.Config{
		Issuer:    local.Issuer(),  // http://127.0.0.1:<port>/eu-west-1_TestPool1
		JWKSURL:   local.JWKSURL(), // the issuer + /.well-known/jwks.json
		ClientIDs: []string{"local-client"},
		TokenUse:  cognito.TokenUseAccess,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	tok, _ := local.Token(cognito.TokenUseAccess)
	p, err := auth.Authenticate(context.Background(), tok)
	fmt.Println(p.Username, p.ClientID, err)
	// Output:
	// testuser local-client <nil>
}

// A static key set, for tests and hosts without network access: the JWKS
// document is given, never fetched. Here package cognitotest makes the
// keys and the tokens; in a test they stand for the pool's.
func ExampleNewStatic() {
	now := time.Date(2025, 1, 20, 8, 49, 46, 0, time.UTC)
	pool, err := cognitotest.New(
		cognitotest.PoolID("eu-west-1_AbCdEf123"),
		cognitotest.ClientID("client-1"),
		cognitotest.Username("jdoe"),
		cognitotest.Scopes("openid", "sso/generate"),
		cognitotest.Groups("sso-users"),
		cognitotest.Clock(func() time.Time { return now }),
	)
	if err != nil {
		log.Fatal(err)
	}
	cfg := pool.Config() // its issuer is Cognito's: https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123
	cfg.RequiredGroups = []string{"sso-users"}
	auth, err := cognito.NewStatic(cfg, pool.JWKS())
	if err != nil {
		log.Fatal(err)
	}

	token, _ := pool.Token(cognito.TokenUseAccess)
	p, err := auth.Authenticate(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Username, p.ClientID, p.Scopes, p.Groups, p.ExpiresAt.UTC().Format(time.RFC3339))

	_, err = auth.Authenticate(context.Background(), token[:len(token)-4]+"AAAA")
	fmt.Println(errors.Is(err, ssotoken.ErrUnauthorized), ssotoken.CodeOf(err))

	other, _ := pool.Token(cognito.TokenUseAccess, cognitotest.With("cognito:groups", []string{"other"}))
	_, err = auth.Authenticate(context.Background(), other)
	fmt.Println(errors.Is(err, ssotoken.ErrForbidden), ssotoken.CodeOf(err))

	_, err = cognito.NewStatic(cfg, []byte(`{"keys":[]}`))
	fmt.Println(errors.Is(err, cognito.ErrNoUsableKey))
	// Output:
	// jdoe client-1 [openid sso/generate] [sso-users] 2025-01-20T09:49:46Z
	// true bad_signature
	// true insufficient_scope
	// true
}

// Readiness and metrics: Ready answers a readiness probe (nil once every
// pool's keys have arrived), Stats the figures a host exports (keys per
// pool, the last good fetch, fetches by result, cache hits and misses),
// and OnFetch tells of each fetch as it ends, all without package cognito
// importing a metrics library.
func ExampleAuthenticator_Ready() {
	pool, err := cognitotest.NewServer(cognitotest.Issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	pool.Down() // the JWKS answers 503 at start

	fetched := make(chan ssotoken.FetchEvent, 10)
	cfg := pool.Config()
	cfg.RefetchInterval = cognito.MinRefetchInterval
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.OnFetch = func(e ssotoken.FetchEvent) { fetched <- e } // must not block: the channel has room
	auth, err := cognito.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	// Whatever happens, the example is over in 10 s.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next := func() ssotoken.FetchEvent { // the event of the next fetch to end
		select {
		case e := <-fetched:
			return e
		case <-ctx.Done():
			log.Fatal("no fetch ended in time")
			return ssotoken.FetchEvent{}
		}
	}

	e := next()
	fmt.Println("fetch:", e.Result, e.Keys)
	fmt.Println("ready:", auth.Ready())

	pool.Up()
	tok, _ := pool.Token(cognito.TokenUseAccess)
	for ctx.Err() == nil { // a token makes the keys be fetched again, at most once per RefetchInterval
		if _, err = auth.Authenticate(ctx, tok); err == nil {
			break
		}
		time.Sleep(cognito.MinRefetchInterval)
	}
	for e.Result != ssotoken.FetchOK {
		e = next()
	}
	fmt.Println("fetch:", e.Result, e.Keys)
	fmt.Println("ready:", auth.Ready())
	_, _ = auth.Authenticate(context.Background(), tok) // from the cache

	st := auth.Stats()
	p := st.Pools[0]
	fmt.Println("keys:", p.Keys, "ready:", p.Ready, "last good fetch:", !p.LastOK.IsZero(), "last:", p.LastResult)
	fmt.Println("fetches:", p.Fetches[ssotoken.FetchOK], "ok,", p.Fetches["HTTP 503"] > 0, "HTTP 503")
	fmt.Println("cache:", st.CacheHits, "hit,", st.CacheMisses > 0, "miss,", st.CacheEntries, "entry")
	// Output:
	// fetch: HTTP 503 0
	// ready: cognito: no key yet from issuer https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123 (last fetch: HTTP 503): ssotoken: the issuer's keys are not available (jwks_unavailable)
	// fetch: ok 1
	// ready: <nil>
	// keys: 1 ready: true last good fetch: true last: ok
	// fetches: 1 ok, true HTTP 503
	// cache: 1 hit, true miss, 1 entry
}
