package cognito

import (
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/jose"
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
	CodeTokenMalformed    = ssotoken.CodeTokenMalformed    // not three strict base64url segments of JSON objects, or a header that breaks the JSON policy
	CodeAlgNotAllowed     = ssotoken.CodeAlgNotAllowed     // header "alg" missing or not RS256
	CodeKIDMissing        = "kid_missing"                  // header "kid" missing or empty
	CodeEmbeddedKey       = "embedded_key_not_allowed"     // header carries "jwk", "jku", "x5u" or "x5c"
	CodeUnknownKey        = ssotoken.CodeUnknownKey        // no usable key of the configured key sets has the header's "kid" (a kid held twice is no one's)
	CodeBadSignature      = ssotoken.CodeBadSignature      // the signature does not verify
	CodeClaimsMalformed   = ssotoken.CodeClaimsMalformed   // a claim appears twice, differs from a claim read here only by case, or has the wrong JSON type
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

// The mapping of golang-jwt's and jose's errors to the codes above, by the
// stage golang-jwt's parser reached:
//
//	before the key lookup (jwt.ErrTokenMalformed, ErrTokenUnverifiable,
//	ErrTokenSignatureInvalid for an alg outside RS256): the header is read
//	again under the policy, and the first of these is reported:
//	  jose.ErrEmbeddedKey                      embedded_key_not_allowed
//	  any other jose error, bad base64url      token_malformed
//	  alg not RS256, or absent                 alg_not_allowed
//	  kid absent or empty                      kid_missing
//	  else (payload or signature segment)      token_malformed
//	decoding the header for the key lookup (jwt.ErrTokenUnverifiable):
//	  jose.ErrEmbeddedKey                      embedded_key_not_allowed
//	  jose.ErrCrit, ErrDuplicate, ErrCaseVariant, ErrType, ...   token_malformed
//	the key lookup: kid_missing, unknown_key, jwks_unavailable, or a
//	timeout (ErrTimeout)
//	after the key was found:
//	  jwt.ErrTokenSignatureInvalid             bad_signature
//	  jose.ErrSyntax, ErrInvalidUTF8, ErrTooDeep (the payload is not a
//	  JSON object)                             token_malformed
//	  jose.ErrDuplicate, ErrCaseVariant, ErrType (a claim)   claims_malformed
//	  jwt.ErrTokenRequiredClaimMissing         exp_missing
//	  jwt.ErrTokenExpired                      token_expired
//	  jwt.ErrTokenNotValidYet, ErrTokenUsedBeforeIssued      token_not_yet_valid
//
// The claims' policy errors reach the parser through jose.Registered's
// getters, after the signature; the first in the list above wins.
func (a *Authenticator) parseError(c *call, token string, err error) error {
	switch c.stage {
	case stageParse:
		if e := a.headerError(token); e != nil {
			return e
		}
		return errTokenMalformed
	case stageHeader:
		if errors.Is(err, jose.ErrEmbeddedKey) {
			return errEmbeddedKey
		}
		return errTokenMalformed
	case stageLookup:
		return c.err
	}
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return errBadSignature
	case errors.Is(err, jose.ErrSyntax), errors.Is(err, jose.ErrInvalidUTF8), errors.Is(err, jose.ErrTooDeep):
		return errTokenMalformed
	case errors.Is(err, jose.ErrDuplicate), errors.Is(err, jose.ErrCaseVariant), errors.Is(err, jose.ErrType):
		return errClaims
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return errExpMissing
	case errors.Is(err, jwt.ErrTokenExpired):
		return errTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errNotYetValid
	}
	return errTokenMalformed
}

// headerError returns the error of the first header check that token's
// header fails, or nil.
func (a *Authenticator) headerError(token string) error {
	seg, _, _ := strings.Cut(token, ".")
	if len(seg) > jose.MaxHeaderBytes {
		return errTokenMalformed
	}
	raw, err := a.parser.DecodeSegment(seg)
	if err != nil {
		return errTokenMalformed
	}
	h, err := jose.ParseHeader(raw)
	switch {
	case errors.Is(err, jose.ErrEmbeddedKey):
		return errEmbeddedKey
	case err != nil:
		return errTokenMalformed
	case h.Alg != jwt.SigningMethodRS256.Alg():
		return errAlgNotAllowed
	case h.Kid == "":
		return errKIDMissing
	}
	return nil
}
