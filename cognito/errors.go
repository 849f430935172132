package cognito

import (
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssotoken"
)

// Codes of the refusals that are this package's own. Every other refusal
// is one of package ssotoken's sentinels (ssotoken.ErrTokenExpired and the
// others), with its code.
const (
	CodeKIDMissing    = "kid_missing"              // ErrUnauthorized: the header's "kid" is missing or empty
	CodeEmbeddedKey   = "embedded_key_not_allowed" // ErrUnauthorized: the header carries "jwk", "jku", "x5u" or "x5c"
	CodeWrongTokenUse = "wrong_token_use"          // ErrUnauthorized: "token_use" is not Config.TokenUse
	CodeWrongClient   = "wrong_client"             // ErrUnauthorized: "client_id" (access) or "aud" (id) is not in Config.ClientIDs
	CodeCheckFailed   = "check_failed"             // ErrForbidden: Config.Check refused the principal
)

// The errors of this package's own refusals. They carry no cause and
// nothing of the token, so one value serves every request.
var (
	errKIDMissing    = unauthorized(CodeKIDMissing, "the token names no key")
	errEmbeddedKey   = unauthorized(CodeEmbeddedKey, "the token carries its own key, which is never used")
	errWrongTokenUse = unauthorized(CodeWrongTokenUse, "the token is of the wrong kind")
	errWrongClient   = unauthorized(CodeWrongClient, "the token's app client is not accepted")
	errMissingScope  = ssotoken.NewError(ssotoken.ErrForbidden, ssotoken.CodeInsufficientScope, "the token lacks a required scope", nil)
	errMissingGroup  = ssotoken.NewError(ssotoken.ErrForbidden, ssotoken.CodeInsufficientScope, "the user is not in a required group", nil)
)

func unauthorized(code, msg string) *ssotoken.Error {
	return ssotoken.NewError(ssotoken.ErrUnauthorized, code, msg, nil)
}

// parseError maps an error of golang-jwt's parser to a refusal, by the
// stage the parser reached. Before the key lookup (structure, JSON syntax,
// an alg outside RS256), the header is read again for a precise code. A
// header that fails the policy in the key lookup is malformed, unless it
// carries a key. The key lookup reports its own failure in c.err. After
// it, the signature is checked first, then the claims, whose policy errors
// reach the parser through jose.Registered's getters.
func (a *Authenticator) parseError(c *call, token string, err error) error {
	switch c.stage {
	case stageParse:
		if e := a.headerError(token); e != nil {
			return e
		}
		return ssotoken.ErrTokenMalformed
	case stageHeader:
		if errors.Is(err, jose.ErrEmbeddedKey) {
			return errEmbeddedKey
		}
		return ssotoken.ErrTokenMalformed
	case stageLookup:
		return c.err
	}
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ssotoken.ErrBadSignature
	case errors.Is(err, jose.ErrSyntax), errors.Is(err, jose.ErrInvalidUTF8), errors.Is(err, jose.ErrTooDeep):
		return ssotoken.ErrTokenMalformed
	case errors.Is(err, jose.ErrDuplicate), errors.Is(err, jose.ErrCaseVariant), errors.Is(err, jose.ErrType):
		return ssotoken.ErrClaimsMalformed
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ssotoken.ErrExpMissing
	case errors.Is(err, jwt.ErrTokenExpired):
		return ssotoken.ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ssotoken.ErrTokenNotYetValid
	}
	return ssotoken.ErrTokenMalformed
}

// headerError returns the error of the first header check that token's
// header fails, or nil.
func (a *Authenticator) headerError(token string) error {
	seg, _, _ := strings.Cut(token, ".")
	if len(seg) > jose.MaxHeaderBytes {
		return ssotoken.ErrTokenMalformed
	}
	raw, err := a.parser.DecodeSegment(seg)
	if err != nil {
		return ssotoken.ErrTokenMalformed
	}
	h, err := jose.ParseHeader(raw)
	switch {
	case errors.Is(err, jose.ErrEmbeddedKey):
		return errEmbeddedKey
	case err != nil:
		return ssotoken.ErrTokenMalformed
	case h.Alg != jwt.SigningMethodRS256.Alg():
		return ssotoken.ErrAlgNotAllowed
	case h.Kid == "":
		return errKIDMissing
	}
	return nil
}
