// Package snippets holds the Go snippets that README.md quotes, so that
// every one of them compiles and checks every error; snippets_test.go
// holds README's blocks against these functions.
package snippets

import (
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// UserPool is README's "A real Cognito user pool".
func UserPool(serve func(ssotoken.Authenticator)) {
	auth, err := cognito.New(cognito.Config{
		UserPoolID:     "eu-west-1_AbCdEf123",
		ClientIDs:      []string{"3n4b5urk1ft4fl3mg5e62d9ado"}, // required unless InsecureSkipClientIDCheck
		TokenUse:       cognito.TokenUseAccess,                 // or TokenUseID; required
		RequiredScopes: []string{"sso/issue"},                  // all of them, else 403
		Leeway:         30 * time.Second,
	})
	if err != nil {
		log.Fatal(err) // the configuration is incomplete: New fails closed
	}
	defer auth.Close()
	serve(auth)
}

// Endpoint is README's "The endpoint".
func Endpoint(auth ssotoken.Authenticator, ssoSecret string) (http.Handler, *ssotoken.Keyring) {
	key, err := ssotoken.NewHMACKey("", []byte(ssoSecret)) // 32 bytes or more; RS256, ES256, EdDSA via NewSigningKey
	if err != nil {
		log.Fatal(err) // every constructor fails closed: check each error (a nil guard would allow all)
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, TTL: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	guard, err := httpadapter.NewGuard(httpadapter.GuardConfig{AllowedCIDRs: []string{"10.0.0.0/8"}, TrustedProxies: []string{"10.1.0.0/16"}})
	if err != nil {
		log.Fatal(err) // a network that does not parse
	}
	h, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: auth,
		Issuer:        signer,
		Clients: httpadapter.StaticRegistry{ // x-lob-client-id -> its LOBIds and the app clients that may present it
			"1RrLMyLrZGA=": {LOBs: []string{"01", "02"}, AppClients: []string{"3n4b5urk1ft4fl3mg5e62d9ado"}},
		},
		CIINoClaim: "custom:ciino", // the caller's CIINo: the body's must equal it, else 403 ciino_mismatch
		Guard:      guard,
		Logger:     slog.Default(), // one audit record per call, never a credential
	})
	if err != nil {
		log.Fatal(err)
	}
	return h, ring
}

// LOB is README's "The linked LOB".
func LOB(mux *http.ServeMux, ring *ssotoken.Keyring, landing http.Handler, refusalPage func(http.ResponseWriter, *http.Request, error)) {
	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys: ring, LOBId: "01", Leeway: 30 * time.Second,
		Replay: ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{}),
	})
	if err != nil {
		log.Fatal(err)
	}
	// ErrorHandler (optional) answers a browser with a page of the LOB's own; nil writes the JSON envelope.
	mux.Handle("POST /sso", httpadapter.RequireSSOToken(verifier, httpadapter.SSOTokenOptions{ErrorHandler: refusalPage})(landing))
	// in landing: claims, ok := httpadapter.ClaimsFromContext(r.Context())
}

// CookieExchange is README's "The cookie exchange".
func CookieExchange(mux *http.ServeMux, cookieSecret []byte, apiRing *ssotoken.Keyring, userHandler http.Handler) http.Handler {
	validator, err := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: cookieSecret})
	if err != nil {
		log.Fatal(err) // a secret under 32 bytes
	}
	exchanger, err := cookiesso.New(cookiesso.Config{CookieName: "AnswerHubCookieSSO", Validator: validator, Keys: apiRing})
	if err != nil {
		log.Fatal(err)
	}
	exchangeHandler, err := httpadapter.CookieExchangeHandler(exchanger, httpadapter.CookieExchangeOptions{
		AllowedOrigins: []string{"https://answers.example.com"}, // the pages that may spend the cookie
	})
	if err != nil {
		log.Fatal(err) // an origin that is not scheme://host[:port]
	}
	apiAuth, err := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: apiRing}) // needs "Use API" or "USE_API"
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle(httpadapter.CookieSSOPath, exchangeHandler)
	mux.Handle("GET /services/v2/user.json", httpadapter.RequireBearer(apiAuth, httpadapter.BearerOptions{})(userHandler))
	return exchangeHandler
}

// MainSite is README's RemoteValidator.
func MainSite() cookiesso.Validator {
	validator, err := cookiesso.NewRemoteValidator(cookiesso.RemoteValidatorConfig{
		URL: "https://www.abc.example/session/whoami", // answers 200 {"username":"jdoe","roles":["Use API"]}, or 401
	})
	if err != nil {
		log.Fatal(err) // not an http or https URL
	}
	return validator
}

// CORS is README's "Browsers on other origins".
func CORS(mux *http.ServeMux, h, exchangeHandler, userAPI http.Handler) {
	cors, err := httpadapter.NewCORS(httpadapter.CORSConfig{
		// Pages that call with a token of their own: exact scheme://host[:port].
		AllowedOrigins: []string{"https://www.abc.example", "https://answers.abc.example"},
		// Pages that may spend the user's SSO cookie: your own site's only.
		CookieExchangeOrigins: []string{"https://answers.abc.example"},
	})
	if err != nil {
		log.Fatal(err) // a wildcard, "null", a path, or no origin at all
	}
	mux.Handle("/v2/get_sso_token", cors.GenerateSSOToken(h))                   // POST; its four headers; no credentials
	mux.Handle(httpadapter.CookieSSOPath, cors.CookieExchange(exchangeHandler)) // POST; credentials: the SSO cookie
	mux.Handle("/services/v2/user.json", cors.Bearer(userAPI, http.MethodGet))  // Authorization; no credentials
}

// Redis is README's "Linked LOBs share one Redis for single use".
func Redis(ring *ssotoken.Keyring) *ssotoken.Verifier {
	client := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
	replay, err := redisreplay.New(redisreplay.Config{Client: client, Prefix: "ssokit:redeemed:lob01:"})
	if err != nil {
		log.Fatal(err) // a client without ContextTimeoutEnabled
	}
	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Replay: replay})
	if err != nil {
		log.Fatal(err)
	}
	return verifier
}

// RemoteLOB is README's "Verifying asymmetric TokenNo from a JWKS URL".
func RemoteLOB(arrival http.Handler) (*http.ServeMux, func() error, error) {
	keys, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{
		URL: "https://sso.example.com/.well-known/jwks.json", // ssoserver -sso-key serves it
	})
	if err != nil {
		return nil, nil, err
	}
	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys:   keys, // or a *ssotoken.Keyring holding the HS256 secret: the checks are the same
		LOBId:  "01",
		Leeway: 30 * time.Second,
		Replay: ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{}),
	})
	if err != nil {
		keys.Close()
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /sso", httpadapter.RequireSSOToken(verifier, httpadapter.SSOTokenOptions{})(arrival))
	return mux, keys.Close, nil
}
