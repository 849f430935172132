// Package cognito validates AWS Cognito access and ID tokens: an
// ssotoken.Authenticator that is to Go what aws-jwt-verify is to
// JavaScript. Tokens are parsed and verified by
// github.com/golang-jwt/jwt/v5 into typed claims, under the module's one
// JSON policy; the user pools' JWKS are fetched, refreshed and looked up
// through github.com/MicahParks/keyfunc/v3 and its jwkset.
//
// The happy path:
//
//	auth, err := cognito.New(cognito.Config{UserPoolID: "eu-west-1_AbCdEf123", ClientIDs: []string{"3n4b5urk1ft4fl3mg5e62d9ado"}, TokenUse: cognito.TokenUseAccess})
//	principal, err := auth.Authenticate(ctx, token) // principal.Subject, .Username, .Scopes, .Groups
//
// Checks, in order: size and segment count; the header (alg RS256 only,
// kid required, keys carried in the token never used); the RS256 signature
// under the pool key the kid names; the claims under the JSON policy; exp
// (required), nbf and iat with Config.Leeway; iss exactly the issuer of
// that pool; token_use; client_id (access tokens) or aud (ID tokens); then
// the required scopes and groups, which are the only failures reported as
// ErrForbidden (403). Every other failure is ErrUnauthorized (401) with its
// own Code, except that while a pool's keys have never been fetched a
// request gets ErrUpstream (502), or ErrTimeout (504) when its context ends
// first.
//
// The JSON policy, in header and claims alike: no member name twice, no
// case variant of a header parameter or a claim this package reads ("EXP",
// "Client_id"), valid UTF-8, and the JSON types of the claims it reads:
// exp, nbf, iat and auth_time numbers; iss, sub, client_id, token_use,
// scope, jti, username and cognito:username strings; aud a string or an
// array of strings; cognito:groups an array of strings; every custom:*
// attribute a string. A fraction of a second in exp is dropped, in nbf and
// iat rounded up. The scope claim is split on single spaces only (RFC 6749
// section 3.3). Where this is stricter than aws-jwt-verify, a token it
// accepts may be refused here; never the other way round.
//
// Keys: each pool's JWKS is fetched when the Authenticator is created
// (without blocking New), refreshed every Config.RefreshInterval, and
// fetched again when a token names an unknown kid, at most once per
// Config.RefetchInterval (10 s), concurrent callers sharing one fetch. A
// failed fetch keeps the last good keys. Bodies are capped at
// Config.MaxJWKSBytes and fetches at Config.FetchTimeout; no request waits
// past its own context. Only RSA keys of 2048 to 8192 bits whose "use",
// "alg" and "key_ops" allow RS256 signatures are ever used, and a kid that
// a JWKS holds twice is refused (and logged once per fetch), never "the
// first wins".
//
// A verified token is cached (Config.CacheSize entries, keyed by the
// SHA-256 of the whole token), so that a repeated token costs no RSA
// operation; an entry is never used past the token's exp (plus leeway, as
// in the cold check) nor once its key has left the JWKS.
package cognito
