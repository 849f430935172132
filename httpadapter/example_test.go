package httpadapter_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// devAuth stands in for a cognito.Authenticator in these examples: it
// accepts one fixed token.
var devAuth = ssotoken.AuthenticatorFunc(func(_ context.Context, tok string) (*ssotoken.Principal, error) {
	if tok != "dev-access-token" {
		return nil, ssotoken.NewError(ssotoken.ErrUnauthorized, "bad_token", "the token is not valid", nil)
	}
	return &ssotoken.Principal{
		Subject: "user-1", ClientID: "dev-app", Groups: []string{"Use API"},
		Attributes: map[string]string{"custom:ciino": "10001004"}, // the user's CIINo, a custom attribute of the pool
	}, nil
})

func exampleRing() *ssotoken.Keyring {
	key, err := ssotoken.NewHMACKey("", []byte("example secret, 32 bytes or more!"))
	if err != nil {
		log.Fatal(err)
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	return ring
}

// Mounting GenerateSSOToken on an http.ServeMux and calling it with the
// Client. The body's CIINo is bound to the caller by the token's
// custom:ciino claim: a user asks a token for their own CIINo only.
func ExampleNewHandler() {
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: exampleRing()})
	if err != nil {
		log.Fatal(err)
	}
	h, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: devAuth,
		Issuer:        signer,
		Clients:       httpadapter.StaticRegistry{"1RrLMyLrZGA=": {LOBs: []string{"01"}, AppClients: []string{"dev-app"}}},
		CIINoClaim:    "custom:ciino", // or CIINoResolver, for a pool whose tokens do not carry it
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v2/get_sso_token", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client, err := httpadapter.NewClient(httpadapter.ClientConfig{
		BaseURL:  srv.URL,
		ClientID: "1RrLMyLrZGA=",
		Token:    func(context.Context) (string, error) { return "dev-access-token", nil },
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Issue(context.Background(), ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
	fmt.Println(resp.ReturnCode, resp.ReturnMessage, err)

	_, err = client.Issue(context.Background(), ssotoken.Request{CIINo: "10001004", LOBId: "02", Functionality: "D"})
	fmt.Println(ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))

	_, err = client.Issue(context.Background(), ssotoken.Request{CIINo: "10001005", LOBId: "01", Functionality: "D"})
	fmt.Println(ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))
	// Output:
	// 1 Token Generated successfully <nil>
	// forbidden lob_not_allowed
	// forbidden ciino_mismatch
}

// A pool whose access tokens do not carry the CIINo: the handler asks
// CIINoResolver for the caller's, under the call's deadline.
func ExampleConfig_ciinoResolver() {
	customers := map[string]string{"user-1": "10001004"} // subject to CIINo: a customer store
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: exampleRing()})
	if err != nil {
		log.Fatal(err)
	}
	h, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: devAuth,
		Issuer:        signer,
		Clients:       httpadapter.StaticRegistry{"1RrLMyLrZGA=": {LOBs: []string{"01"}, AppClients: []string{"dev-app"}}},
		CIINoResolver: func(ctx context.Context, caller *ssotoken.Principal) (string, error) {
			return customers[caller.Subject], ctx.Err() // a real store honours ctx
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, ciino := range []string{"10001004", "10001005"} {
		r := httptest.NewRequest(http.MethodPost, "/v2/get_sso_token", strings.NewReader(`{"CIINo":"`+ciino+`","LOBId":"01","Functionality":"D"}`))
		r.Header.Set("x-api-version", "1.0.0")
		r.Header.Set("x-lob-client-id", "1RrLMyLrZGA=")
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer dev-access-token")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(ciino, rec.Code)
	}
	// Output:
	// 10001004 200
	// 10001005 403
}

// Protecting later API calls with the caller's bearer token.
func ExampleRequireBearer() {
	user := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpadapter.PrincipalFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Subject)
	})
	h := httpadapter.RequireBearer(devAuth, httpadapter.BearerOptions{})(user)

	for _, authz := range []string{"Bearer dev-access-token", "Bearer forged"} {
		r := httptest.NewRequest(http.MethodGet, "/services/v2/user.json", nil)
		r.Header.Set("Authorization", authz)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200  hello user-1
	// 401 Bearer error="invalid_token" {"ReturnCode":0,"ReturnMessage":"the token is not valid","ErrorCode":"bad_token"}
}

// A page of the site that keeps the user's token in a cookie named
// "session": RequireBearer reads the cookie instead of the Authorization
// header. The cookie twice (one tossed from a sibling domain) is refused.
func ExampleFromCookie() {
	user := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpadapter.PrincipalFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", p.Subject)
	})
	h := httpadapter.RequireBearer(devAuth, httpadapter.BearerOptions{
		TokenExtractor: httpadapter.FromCookie("session"),
	})(user)

	for _, cookie := range []string{
		"session=dev-access-token",
		"session=dev-access-token; session=forged",
		"theme=dark",
	} {
		r := httptest.NewRequest(http.MethodGet, "/account", nil)
		r.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 hello user-1
	// 400 {"ReturnCode":0,"ReturnMessage":"the session cookie was sent more than once","ErrorCode":"multiple_authorization"}
	// 401 {"ReturnCode":0,"ReturnMessage":"no credential was sent","ErrorCode":"missing_authorization"}
}

// A page for everyone that greets signed-in users by name: without a
// token the request passes with no principal, while a bad token is still
// refused.
func ExampleRequireBearer_credentialsOptional() {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := httpadapter.PrincipalFromContext(r.Context()); ok {
			fmt.Fprintf(w, "hello %s", p.Subject)
			return
		}
		fmt.Fprint(w, "hello visitor")
	})
	h := httpadapter.RequireBearer(devAuth, httpadapter.BearerOptions{CredentialsOptional: true})(page)

	for _, authz := range []string{"Bearer dev-access-token", "", "Bearer forged"} {
		r := httptest.NewRequest(http.MethodGet, "/forum", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 hello user-1
	// 200 hello visitor
	// 401 {"ReturnCode":0,"ReturnMessage":"the token is not valid","ErrorCode":"bad_token"}
}

// The linked LOB's landing page: the TokenNo arrives in a POST form, is
// verified, and is accepted once.
func ExampleRequireSSOToken() {
	ring := exampleRing()
	signer, _ := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys: ring, LOBId: "01",
		Replay: ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{}),
	})
	if err != nil {
		log.Fatal(err)
	}
	landing := httpadapter.RequireSSOToken(verifier, httpadapter.SSOTokenOptions{})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := httpadapter.ClaimsFromContext(r.Context())
			fmt.Fprintf(w, "welcome %s (%s)", c.CIINo, c.Functionality)
		}))
	srv := httptest.NewServer(landing)
	defer srv.Close()

	resp, _ := signer.Issue(context.Background(), ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
	for range 2 {
		res, err := http.PostForm(srv.URL+"/sso", url.Values{"TokenNo": {resp.TokenNo}})
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	}
	// Output:
	// 200 welcome 10001004 (D)
	// 401 {"ReturnCode":0,"ReturnMessage":"the token was already used","ErrorCode":"token_replayed"}
}

func ExampleStatusFor() {
	for _, err := range []error{
		nil,
		ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeTokenExpired, "the token has expired", nil),
		ssotoken.NewError(ssotoken.ErrNotAcceptable, httpadapter.CodeIPNotAllowed, "not from here", nil),
		context.DeadlineExceeded,
	} {
		fmt.Println(httpadapter.StatusFor(err))
	}
	// Output:
	// 200
	// 401
	// 406
	// 504
}

// The network guard on its own, as middleware: only 10.0.0.0/8 may call,
// and X-Forwarded-For is believed only from the proxy at 10.1.0.1.
func ExampleNewGuard() {
	guard, err := httpadapter.NewGuard(httpadapter.GuardConfig{
		AllowedCIDRs:   []string{"10.0.0.0/8"},
		AllowedHosts:   []string{"api.example.com"},
		TrustedProxies: []string{"10.1.0.1"},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := guard.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))

	for _, c := range []struct{ peer, xff string }{
		{"10.2.3.4:5000", ""},            // an allowed client
		{"203.0.113.7:5000", "10.2.3.4"}, // a spoofed header from the internet
		{"10.1.0.1:5000", "203.0.113.7"}, // the proxy forwarding an outside client
		{"10.1.0.1:5000", "10.2.3.4"},    // the proxy forwarding an allowed client
	} {
		r := httptest.NewRequest(http.MethodPost, "https://api.example.com/v2/get_sso_token", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code)
	}
	// Output:
	// 204
	// 406
	// 406
	// 204
}

// Letting the portal's page run the GenerateSSOToken document's fetch
// sample from its own origin: the browser's preflight is answered for the
// listed origin only.
func ExampleNewCORS() {
	cors, err := httpadapter.NewCORS(httpadapter.CORSConfig{AllowedOrigins: []string{"https://www.abc.example"}})
	if err != nil {
		log.Fatal(err)
	}
	generate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "the GenerateSSOToken handler") // httpadapter.NewHandler's, in a real mux
	})
	h := cors.GenerateSSOToken(generate)

	for _, origin := range []string{"https://www.abc.example", "https://evil.example"} {
		r := httptest.NewRequest(http.MethodOptions, "/v2/get_sso_token", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-api-version,x-lob-client-id")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Printf("%s: %d allow-origin=%q allow-headers=%q\n", origin, rec.Code,
			rec.Header().Get("Access-Control-Allow-Origin"), rec.Header().Get("Access-Control-Allow-Headers"))
	}
	// Output:
	// https://www.abc.example: 204 allow-origin="https://www.abc.example" allow-headers="authorization,content-type,x-api-version,x-lob-client-id"
	// https://evil.example: 204 allow-origin="" allow-headers=""
}

// exampleExchanger stands in for a cookiesso.Exchanger: it exchanges one
// fixed cookie value.
type exampleExchanger struct{}

func (exampleExchanger) CookieName() string { return "AnswerHubCookieSSO" }

func (exampleExchanger) Exchange(_ context.Context, value string) (cookiesso.Token, error) {
	if value != "dev-cookie" {
		return cookiesso.Token{}, cookiesso.ErrCookieMalformed
	}
	return cookiesso.Token{JWT: "header.payload.signature"}, nil
}

// One OnEvent function serves every endpoint: a host counts the calls by
// endpoint, outcome and code (the labels of a Prometheus counter, say)
// without this module importing a metrics library. Logger takes a
// *slog.Logger the same way, for one audit record per call.
func ExampleEvent() {
	var mu sync.Mutex
	calls := map[string]int{}
	onEvent := func(_ context.Context, e httpadapter.Event) { // on the request's goroutine: must not block
		mu.Lock()
		defer mu.Unlock()
		calls[fmt.Sprintf("%-18s %-13s %-21s", e.Endpoint, e.Outcome(), cmp.Or(e.Code, "-"))]++
	}

	ring := exampleRing()
	signer, _ := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
	generate, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: devAuth, Issuer: signer, CIINoClaim: "custom:ciino",
		Clients: httpadapter.StaticRegistry{"1RrLMyLrZGA=": {LOBs: []string{"01"}, AppClients: []string{"dev-app"}}},
		OnEvent: onEvent,
	})
	if err != nil {
		log.Fatal(err)
	}
	exchange, err := httpadapter.CookieExchangeHandler(exampleExchanger{}, httpadapter.CookieExchangeOptions{OnEvent: onEvent})
	if err != nil {
		log.Fatal(err)
	}
	user := httpadapter.RequireBearer(devAuth, httpadapter.BearerOptions{OnEvent: onEvent, AuditSuccess: true})(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys: ring, LOBId: "01", Replay: ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{}),
	})
	if err != nil {
		log.Fatal(err)
	}
	landing := httpadapter.RequireSSOToken(verifier, httpadapter.SSOTokenOptions{OnEvent: onEvent})(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	call := func(h http.Handler, method, authorization, cookie string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/", strings.NewReader(`{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`))
		r.Header.Set("x-api-version", "1.0.0")
		r.Header.Set("x-lob-client-id", "1RrLMyLrZGA=")
		r.Header.Set("Content-Type", "application/json")
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	issued := call(generate, http.MethodPost, "Bearer dev-access-token", "")
	call(generate, http.MethodPost, "Bearer forged", "")
	var resp ssotoken.Response
	_ = json.Unmarshal(issued.Body.Bytes(), &resp)
	call(landing, http.MethodPost, "Bearer "+resp.TokenNo, "") // the LOB redeems the TokenNo
	call(landing, http.MethodPost, "Bearer "+resp.TokenNo, "") // and refuses it the second time
	call(exchange, http.MethodPost, "", "AnswerHubCookieSSO=dev-cookie")
	call(exchange, http.MethodPost, "", "")
	call(user, http.MethodGet, "Bearer dev-access-token", "")
	call(user, http.MethodGet, "", "")

	keys := make([]string, 0, len(calls))
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Println(k, calls[k])
	}
	// Output:
	// bearer             authenticated -                     1
	// bearer             refused       missing_authorization 1
	// cookie_exchange    exchanged     -                     1
	// cookie_exchange    refused       cookie_missing        1
	// generate_sso_token issued        -                     1
	// generate_sso_token refused       bad_token             1
	// sso_token          accepted      -                     1
	// sso_token          refused       token_replayed        1
}

// An issuing limit of its own: 10 tokens a minute per caller, 3 at once.
// The fourth call in a row is refused 429 rate_limited, with Retry-After:
// the seconds until the next token of the caller's allowance, one every
// 6 s. (The example is compiled, not run: the wait depends on the clock.)
func ExampleNewMemoryLimiter() {
	limiter, err := httpadapter.NewMemoryLimiter(httpadapter.MemoryLimiterConfig{
		Limit: httpadapter.RateLimit{Rate: 10, Period: time.Minute, Burst: 3},
	})
	if err != nil {
		log.Fatal(err) // a limit without a positive rate, period or burst
	}
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: exampleRing()})
	if err != nil {
		log.Fatal(err)
	}
	h, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: devAuth, Issuer: signer, CIINoClaim: "custom:ciino", Limiter: limiter,
		Clients: httpadapter.StaticRegistry{"1RrLMyLrZGA=": {LOBs: []string{"01"}, AppClients: []string{"dev-app"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for range 4 {
		r := httptest.NewRequest(http.MethodPost, "/v2/get_sso_token", strings.NewReader(`{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`))
		r.Header.Set("x-api-version", "1.0.0")
		r.Header.Set("x-lob-client-id", "1RrLMyLrZGA=")
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer dev-access-token")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code, cmp.Or(rec.Header().Get("Retry-After"), "-")) // Retry-After: 5 or 6 (seconds)
	}
}
