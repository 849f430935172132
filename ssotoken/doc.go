// Package ssotoken is the domain core of ssokit: the GenerateSSOToken
// request and response, the Issuer that mints a TokenNo, the Verifier that
// a linked line of business (LOB) uses to accept one, key rings with
// rotation, TokenRefNo generation, single use through a ReplayStore, the
// Authenticator interface, and the error taxonomy every package shares.
//
// Issuing and verifying, the happy path:
//
//	key, _ := ssotoken.NewHMACKey("", secret) // 32 bytes or more
//	ring, _ := ssotoken.NewKeyring(key)
//	signer, _ := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
//	resp, err := signer.Issue(ctx, ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
//
//	verifier, _ := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01"})
//	claims, err := verifier.Verify(ctx, resp.TokenNo)
//
// A linked LOB whose issuer signs with RS256, ES256 or EdDSA (ssoserver
// -sso-key) holds no secret: it verifies with the public keys the issuer
// publishes as a JWKS, which a RemoteKeys fetches in the background and
// refreshes (hourly, and on a token with an unknown kid, at most once per
// RefetchInterval), so that the issuer can rotate its key without the LOB
// being told:
//
//	keys, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: "https://sso.example/.well-known/jwks.json"})
//	defer keys.Close()
//	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: keys, LOBId: "01"})
//	claims, err := verifier.Verify(ctx, tokenNo)
//
// The Verifier's checks are the same whichever KeySet holds the keys;
// RemoteKeys says which keys of a JWKS may verify, and what happens while
// it cannot be fetched (fail closed: ErrKeysUnavailable until the first
// keys arrive, and the last good keys after). Package ssotokentest issues
// test TokenNo values, HS256 or asymmetric with a JWKS URL, for the tests
// of a LOB's handlers.
//
// A TokenNo is a JWS compact token, HS256 by default with the header
// {"alg":"HS256","typ":"JWT"}, whose claims are exactly those of the API
// document's sample, in its order and formats (CIINo, LOBId,
// Functionality, Date, iat, exp); iss, aud and jti (the TokenRefNo) are
// optional extras, in that order after them. A TokenRefNo has the
// document's shape, 15 digits: the second of "iat" and five digits that
// are unique to the instance (see RefNoGenerator for the scheme and its
// limits). A Verifier with a ReplayStore accepts each token once, keyed by
// a digest of what was signed (RedemptionID), so the document's tokens,
// which carry no jti, are single use too. Tokens are signed
// and parsed by github.com/golang-jwt/jwt/v5 (Keyring.Sign and
// Keyring.Parse, which package cookiesso uses for its tokens too), and
// every header and claim set passes one JSON policy: no name twice, no
// case variant of a known name, valid UTF-8, registered claims of their
// JSON types.
//
// For a host's metrics and probes, without this package importing a
// metrics library: Verifier.Stats and VerifierConfig.OnRedeem count the
// redemptions by result (RedeemResult: accepted, replayed, store full,
// store unavailable); RemoteKeys.Stats and RemoteKeysConfig.OnFetch tell
// of the JWKS fetches (KeySetStats, FetchEvent, the Fetch results); and
// Verifier.Ready (RemoteKeys.Ready, then the ReplayStore's Ping when it
// is a Pinger) answers a readiness probe.
//
// Errors are *Error values with a Kind (ErrBadRequest, ErrUnauthorized,
// ErrForbidden, ErrNotAcceptable, ErrUpstream, ErrTimeout), a stable Code
// and a Message that is safe to show. This package knows no HTTP status
// codes: package httpadapter maps kinds to statuses.
package ssotoken
