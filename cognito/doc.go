// Package cognito validates AWS Cognito access and ID tokens: an
// ssotoken.Authenticator that is to Go what aws-jwt-verify is to
// JavaScript. Tokens are parsed and verified by
// github.com/golang-jwt/jwt/v5 under the module's JSON policy; the user
// pools' JWKS are fetched, refreshed and looked up through
// github.com/MicahParks/keyfunc/v3 and its jwkset.
//
//	auth, err := cognito.New(cognito.Config{UserPoolID: "eu-west-1_AbCdEf123", ClientIDs: []string{"3n4b5urk1ft4fl3mg5e62d9ado"}, TokenUse: cognito.TokenUseAccess})
//	principal, err := auth.Authenticate(ctx, token) // principal.Subject, .Username, .Scopes, .Groups
//
// A refused token is one of package ssotoken's sentinels, so that
// errors.Is(err, ssotoken.ErrTokenExpired) holds here as for every
// verifier of the module, or one of the errors of the Code constants of
// this package, which Cognito alone needs. Authenticate lists the checks
// in the order they run.
//
// The claims this package reads must have their JSON types: exp, nbf, iat
// and auth_time numbers; iss, sub, client_id, token_use, scope, jti,
// username and cognito:username strings; aud a string or an array of
// strings; cognito:groups an array of strings; every custom:* attribute a
// string. A fraction of a second in exp is dropped, in nbf and iat rounded
// up. The scope claim is split on single spaces only (RFC 6749 section
// 3.3). Where this is stricter than aws-jwt-verify, a token it accepts may
// be refused here; never the other way round.
//
// Only RSA keys of 2048 to 8192 bits whose "use", "alg" and "key_ops"
// allow RS256 signatures are used, and a kid that a JWKS holds twice is
// refused (and logged once per fetch), never "the first wins". A failed
// fetch keeps the last good keys.
//
// A verified token is cached by the SHA-256 of the whole token, so that a
// repeated token costs no RSA operation; an entry is never used past the
// token's exp (plus leeway, as in the cold check) nor once its key has
// left the JWKS.
//
// A host exports figures without this package importing a metrics
// library: Ready (nil once every pool's keys have arrived; otherwise which
// issuer has none and what its last fetch found) for a readiness probe;
// Stats (per pool: keys held, the last good fetch, the last result,
// fetches by result; cache hits, misses and entries) when a scrape asks;
// and Config.OnFetch, told of each fetch as it ends. The fetch results are
// a bounded set, the ssotoken.Fetch constants ("ok", "HTTP 503",
// "timeout", "connection refused", "name resolution", "no usable key",
// ...), which the log line of a failed fetch names too.
//
// Package cognito/cognitotest stands in for a user pool in a host's
// tests: it serves a JWKS, mints access and ID tokens as Cognito does, and
// gives the Config that accepts them.
package cognito
