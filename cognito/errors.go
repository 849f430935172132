package cognito

import (
	"errors"

	"github.com/ssokit/ssokit/ssotoken"
)

// Codes of the errors Authenticate returns. Every failure is an
// *ssotoken.Error: ErrForbidden with CodeInsufficientScope for a genuine
// token that lacks a required scope or group; ErrUpstream with
// CodeJWKSUnavailable while no key of a user pool could ever be fetched;
// ErrTimeout when the caller's context ran out while a key set was being
// fetched; ErrUnauthorized with any other code below.
//
// The codes that mean the same as in package ssotoken are the same strings.
const (
	CodeTokenMissing      = ssotoken.CodeTokenMissing      // the token is empty
	CodeTokenTooLarge     = ssotoken.CodeTokenTooLarge     // longer than Config.MaxTokenBytes
	CodeTokenMalformed    = ssotoken.CodeTokenMalformed    // not three strict base64url segments of JSON objects
	CodeAlgNotAllowed     = ssotoken.CodeAlgNotAllowed     // header "alg" missing or not RS256
	CodeKIDMissing        = "kid_missing"                  // header "kid" missing or empty
	CodeEmbeddedKey       = "embedded_key_not_allowed"     // header carries "jwk", "jku", "x5u" or "x5c"
	CodeUnknownKey        = ssotoken.CodeUnknownKey        // no key of the configured key sets has the header's "kid"
	CodeBadSignature      = ssotoken.CodeBadSignature      // the signature does not verify
	CodeClaimsMalformed   = ssotoken.CodeClaimsMalformed   // a claim has the wrong JSON type, or appears twice
	CodeExpMissing        = ssotoken.CodeExpMissing        // no "exp"
	CodeTokenExpired      = ssotoken.CodeTokenExpired      // now is at or past "exp" + Leeway
	CodeTokenNotYetValid  = ssotoken.CodeTokenNotYetValid  // "nbf" or "iat" is later than now + Leeway
	CodeWrongIssuer       = ssotoken.CodeWrongIssuer       // "iss" is not the issuer of the pool whose key signed the token
	CodeWrongTokenUse     = "wrong_token_use"              // "token_use" is not Config.TokenUse
	CodeWrongClient       = "wrong_client"                 // "client_id" (access) or "aud" (id) is not in Config.ClientIDs
	CodeInsufficientScope = ssotoken.CodeInsufficientScope // ErrForbidden: a required scope or group is missing
	CodeJWKSUnavailable   = "jwks_unavailable"             // ErrUpstream: no key of the pool was ever fetched
	CodeCheckFailed       = "check_failed"                 // ErrForbidden: Config.Check refused the principal
)

func unauthorized(code, msg string) *ssotoken.Error {
	return ssotoken.NewError(ssotoken.ErrUnauthorized, code, msg, nil)
}

// The errors are shared values: they carry no cause and nothing of the
// token, so one value serves every request without an allocation.
var (
	errTokenMissing   = unauthorized(CodeTokenMissing, "the token is missing")
	errTokenTooLarge  = unauthorized(CodeTokenTooLarge, "the token is too large")
	errTokenMalformed = unauthorized(CodeTokenMalformed, "the token is malformed")
	errAlgNotAllowed  = unauthorized(CodeAlgNotAllowed, "the token's algorithm is not allowed")
	errKIDMissing     = unauthorized(CodeKIDMissing, "the token names no key")
	errEmbeddedKey    = unauthorized(CodeEmbeddedKey, "the token carries its own key, which is never used")
	errUnknownKey     = unauthorized(CodeUnknownKey, "the token's key is not known")
	errBadSignature   = unauthorized(CodeBadSignature, "the token's signature is not valid")
	errClaims         = unauthorized(CodeClaimsMalformed, "the token's claims are malformed")
	errExpMissing     = unauthorized(CodeExpMissing, "the token has no expiry")
	errTokenExpired   = unauthorized(CodeTokenExpired, "the token has expired")
	errNotYetValid    = unauthorized(CodeTokenNotYetValid, "the token is not valid yet")
	errWrongIssuer    = unauthorized(CodeWrongIssuer, "the token's issuer is not accepted")
	errWrongTokenUse  = unauthorized(CodeWrongTokenUse, "the token is of the wrong kind")
	errWrongClient    = unauthorized(CodeWrongClient, "the token's app client is not accepted")

	errMissingScope = ssotoken.NewError(ssotoken.ErrForbidden, CodeInsufficientScope, "the token lacks a required scope", nil)
	errMissingGroup = ssotoken.NewError(ssotoken.ErrForbidden, CodeInsufficientScope, "the user is not in a required group", nil)

	errJWKSUnavailable = ssotoken.NewError(ssotoken.ErrUpstream, CodeJWKSUnavailable, "the identity provider's keys are not available", nil)
)

var (
	errNewStaticPools = errors.New("cognito: NewStatic takes one pool: Config.Pools must be empty")
	errNewStaticPool  = errors.New("cognito: NewStatic needs Config.UserPoolID or Config.Issuer")
)
