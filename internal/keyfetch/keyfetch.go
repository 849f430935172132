// Package keyfetch describes a failed fetch of a JWKS for a log line.
package keyfetch

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/MicahParks/jwkset"

	"github.com/ssokit/ssokit/internal/limit"
)

// Reason describes a failed JWKS fetch without quoting anything the
// server sent: "response too large", "timeout", "canceled", "unexpected
// HTTP status", "malformed JWKS", "invalid key in JWKS" or "request
// failed".
func Reason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case limit.TooLarge(err):
		return "response too large"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, jwkset.ErrInvalidHTTPStatusCode):
		return "unexpected HTTP status"
	case errors.As(err, &syn), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JWKS"
	case errors.Is(err, jwkset.ErrJWKValidation), errors.Is(err, jwkset.ErrKeyUnmarshalParameter),
		errors.Is(err, jwkset.ErrInvalidKey), errors.Is(err, jwkset.ErrUnsupportedKey), errors.Is(err, jwkset.ErrOptions):
		return "invalid key in JWKS"
	}
	return "request failed"
}
