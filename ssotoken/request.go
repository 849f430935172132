package ssotoken

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Request is the body of GenerateSSOToken (POST /v2/get_sso_token). The
// JSON names are exactly those of the API document.
type Request struct {
	CIINo         string `json:"CIINo"`         // the user's CIINo
	LOBId         string `json:"LOBId"`         // the linked line of business
	Functionality string `json:"Functionality"` // what the token is for, for example "D"
}

// Response is the answer of GenerateSSOToken. The JSON names are exactly
// those of the API document. ReturnCode is 1 on success and 0 on failure.
type Response struct {
	ReturnCode    int    `json:"ReturnCode"`
	ReturnMessage string `json:"ReturnMessage"`
	TokenRefNo    string `json:"TokenRefNo"`
	TokenNo       string `json:"TokenNo"`
}

// ReturnCode values and the success message of the API document.
const (
	ReturnCodeSuccess = 1
	ReturnCodeFailure = 0

	// MessageGenerated is the document's ReturnMessage on success.
	MessageGenerated = "Token Generated successfully"
)

// Length caps that Validate enforces, in bytes.
const (
	MaxCIINoLen         = 64
	MaxLOBIdLen         = 64
	MaxFunctionalityLen = 128
)

// Validate reports whether r can be issued: every field present (not empty
// or blank), within its length cap, valid UTF-8 and free of control and
// format characters (bidi overrides, zero-width characters). A failure is
// an ErrBadRequest *Error whose code names the field: "missing_ciino",
// "invalid_ciino", "missing_lob_id", "invalid_lob_id",
// "missing_functionality" or "invalid_functionality".
func (r *Request) Validate() error {
	if err := validateField(r.CIINo, "CIINo", "ciino", MaxCIINoLen); err != nil {
		return err
	}
	if err := validateField(r.LOBId, "LOBId", "lob_id", MaxLOBIdLen); err != nil {
		return err
	}
	return validateField(r.Functionality, "Functionality", "functionality", MaxFunctionalityLen)
}

func validateField(v, name, code string, maxLen int) error {
	if strings.TrimSpace(v) == "" {
		return NewError(ErrBadRequest, "missing_"+code, name+" is required", nil)
	}
	if len(v) > maxLen {
		return NewError(ErrBadRequest, "invalid_"+code, name+" is too long", nil)
	}
	if !printable(v) {
		return NewError(ErrBadRequest, "invalid_"+code, name+" holds characters that are not allowed", nil)
	}
	return nil
}

// printable reports whether s is valid UTF-8 with no control characters
// (C0, DEL, C1), no Unicode line or paragraph separators and no format
// characters (category Cf: bidi overrides, zero-width characters, BOM).
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		} else if c >= utf8.RuneSelf {
			return printableSlow(s[i:])
		}
	}
	return true
}

func printableSlow(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		// Control characters, line separators and format characters
		// (bidi overrides, zero-width characters, BOM) are refused.
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// Issuer issues SSO tokens. The local [Signer] is one; so is a client of a
// remote GenerateSSOToken endpoint. Implementations are safe for concurrent
// use.
//
// Issue returns a Response with ReturnCode 1 on success. On failure it
// returns an error of this package's taxonomy (see [KindOf]); the Response
// is then the zero value.
type Issuer interface {
	Issue(ctx context.Context, req Request) (Response, error)
}

// IssuerFunc adapts a function to the Issuer interface.
type IssuerFunc func(ctx context.Context, req Request) (Response, error)

// Issue calls f(ctx, req).
func (f IssuerFunc) Issue(ctx context.Context, req Request) (Response, error) { return f(ctx, req) }
