// Package labels bounds the label values of the example commands'
// Prometheus metrics (ssoserver's and lobapp's): every value comes from a
// set fixed here, whatever a caller sends, so a metric's series stay
// bounded. The sets are the library's own constants; a test holds Codes
// to every error code the library's packages declare, so a new code is
// never counted as "other".
package labels

import (
	"strconv"
	"strings"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// Other is the label value of anything outside a set.
const Other = "other"

// Set returns the set of vs.
func Set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// Bounded returns v when known holds it, else Other.
func Bounded(v string, known map[string]bool) string {
	if known[v] {
		return v
	}
	return Other
}

// Codes are the error codes of the library's packages, each its own
// label value.
var Codes = Set(
	httpadapter.CodeMethodNotAllowed, httpadapter.CodeBodyTooLarge, httpadapter.CodeMissingAPIVersion,
	httpadapter.CodeUnsupportedAPIVersion, httpadapter.CodeMissingClientID, httpadapter.CodeMissingContentType,
	httpadapter.CodeBadContentType, httpadapter.CodeMalformedBody, httpadapter.CodeMissingAuthorization,
	httpadapter.CodeInvalidAuthorization, httpadapter.CodeMultipleAuthorization, httpadapter.CodeMultipleHeader,
	httpadapter.CodeUnknownClient, httpadapter.CodeLOBNotAllowed, httpadapter.CodeCIINoMismatch,
	httpadapter.CodeIPNotAllowed, httpadapter.CodeHostNotAllowed, httpadapter.CodeMultipleOrigin,
	httpadapter.CodeCookieDuplicate, httpadapter.CodeOriginNotAllowed, httpadapter.CodeRateLimited,
	httpadapter.CodeLimiterUnavailable, httpadapter.CodeClientDisconnected, httpadapter.CodeBearerUnavailable,
	httpadapter.CodeIssuerUnreachable, httpadapter.CodeIssuerBadResponse, httpadapter.CodeIssuerRefused,
	cognito.CodeKIDMissing, cognito.CodeEmbeddedKey, cognito.CodeWrongTokenUse, cognito.CodeWrongClient,
	cognito.CodeCheckFailed,
	ssotoken.CodeTokenMissing, ssotoken.CodeTokenTooLarge, ssotoken.CodeTokenMalformed, ssotoken.CodeAlgNotAllowed,
	ssotoken.CodeUnknownKey, ssotoken.CodeBadSignature, ssotoken.CodeClaimsMalformed, ssotoken.CodeExpMissing,
	ssotoken.CodeIatMissing, ssotoken.CodeTokenExpired, ssotoken.CodeTokenNotYetValid, ssotoken.CodeLifetimeTooLong,
	ssotoken.CodeWrongIssuer, ssotoken.CodeWrongAudience, ssotoken.CodeWrongLOB, ssotoken.CodeTokenReplayed,
	ssotoken.CodeReplayStore, ssotoken.CodeKeysUnavailable, ssotoken.CodeReplayStoreFull, ssotoken.CodeTooManyTokens,
	ssotoken.CodeSigningFailed, ssotoken.CodeInternal, ssotoken.CodeDeadlineExceeded, ssotoken.CodeCanceled,
	ssotoken.CodeInsufficientScope,
	redisreplay.CodeUnavailable,
	cookiesso.CodeCookieMissing, cookiesso.CodeCookieTooLarge, cookiesso.CodeCookieMalformed,
	cookiesso.CodeCookieBadSignature, cookiesso.CodeCookieExpired, cookiesso.CodeCookieInvalid,
	cookiesso.CodeMainSiteUnavailable, cookiesso.CodeRoleMissing,
)

// Code is the label of an event's error code: "none" on success (""), a
// code of Codes, or Other.
func Code(code string) string {
	if code == "" {
		return "none"
	}
	return Bounded(code, Codes)
}

// fetchResults are the results of a JWKS fetch, but for "HTTP nnn".
var fetchResults = Set(ssotoken.FetchOK, ssotoken.FetchNoUsableKey, ssotoken.FetchTimeout, ssotoken.FetchCanceled,
	ssotoken.FetchConnRefused, ssotoken.FetchNameResolution, ssotoken.FetchTLS, ssotoken.FetchBodyTooLarge,
	ssotoken.FetchNotKeySet, ssotoken.FetchInvalidKey, ssotoken.FetchHTTPStatus, ssotoken.FetchFailed)

// FetchResult is the label of a JWKS fetch's result: a Fetch constant of
// package ssotoken, "HTTP " and a status from 100 to 599 (at most 500
// values), or Other.
func FetchResult(r string) string {
	if n, ok := strings.CutPrefix(r, ssotoken.FetchHTTPStatusPrefix); ok {
		if s, err := strconv.Atoi(n); err == nil && s >= 100 && s <= 599 && len(n) == 3 {
			return r
		}
	}
	return Bounded(r, fetchResults)
}
