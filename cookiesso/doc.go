// Package cookiesso exchanges an SSO cookie for a JWT, as the Cookie SSO
// document describes POST /services/v2/auth/cookiesso/token.json: the
// cookie "AnswerHubCookieSSO=cookie_value" in (DefaultCookieName; the
// document's ssoCookieName is configurable as Config.CookieName),
// {"jwt": "..."} out; later API calls carry that JWT as
// "Authorization: Bearer" and need the role "Use API", which the document
// also spells USE_API (the Authenticator accepts either by default).
//
// A Validator reads the cookie. Three ship with the package:
//
//   - NewHMACValidator: the cookie is an HS256 JWT under a secret shared
//     with the main site ("sub", "roles", "exp").
//   - NewJWKSValidator: the cookie is a JWT signed by a key of the main
//     site's JWKS (RS256 by default).
//   - NewRemoteValidator (forward auth): the cookie is whatever the main
//     site issues, often an opaque session id; the validator sends it to
//     a main-site URL and reads {"username": ..., "roles": [...]} back,
//     with bounded caching, a timeout and a size cap, failing closed.
//
// AuthenticatorValidator adapts any ssotoken.Authenticator (a Cognito ID
// token kept in a cookie, say).
//
// The happy path, with an HS256 JWT cookie:
//
//	v, _ := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: cookieSecret})
//	ex, _ := cookiesso.New(cookiesso.Config{Validator: v, Keys: apiRing})
//	tok, err := ex.Exchange(ctx, cookieValue) // tok.JWT, tok.ExpiresAt
//
//	auth, _ := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: apiRing})
//	p, err := auth.Authenticate(ctx, tok.JWT) // needs "Use API" or "USE_API"
//
// The package is pure Go; httpadapter.CookieExchangeHandler serves an
// Exchanger over HTTP and httpadapter.RequireBearer protects the API with
// the Authenticator. Each token class has its own key: the cookie's, the
// exchanged JWT's (apiRing above) and the TokenNo signer's are never the
// same, so a token of one class is refused where another is expected.
package cookiesso
