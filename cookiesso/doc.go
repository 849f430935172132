// Package cookiesso exchanges an SSO cookie for a JWT, as the Cookie SSO
// document describes POST /services/v2/auth/cookiesso/token.json: the
// configured cookie in, {"jwt": "..."} out; later API calls carry that JWT
// as "Authorization: Bearer" and need the "Use API" role.
//
// The happy path, with an HS256 JWT cookie:
//
//	v, _ := cookiesso.NewHMACValidator(cookiesso.HMACValidatorConfig{Secret: cookieSecret})
//	ex, _ := cookiesso.New(cookiesso.Config{Validator: v, Keys: apiRing})
//	tok, err := ex.Exchange(ctx, cookieValue) // tok.JWT, tok.ExpiresAt
//
//	auth, _ := cookiesso.NewAuthenticator(cookiesso.AuthenticatorConfig{Keys: apiRing})
//	p, err := auth.Authenticate(ctx, tok.JWT) // needs the "Use API" role
//
// The package is pure Go; httpadapter.CookieExchangeHandler serves an
// Exchanger over HTTP and httpadapter.RequireBearer protects the API with
// the Authenticator. Each token class has its own key: the cookie's, the
// exchanged JWT's (apiRing above) and the TokenNo signer's are never the
// same, so a token of one class is refused where another is expected.
package cookiesso
