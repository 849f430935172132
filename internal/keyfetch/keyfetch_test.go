package keyfetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"
)

func TestReason(t *testing.T) {
	var syn error = &json.SyntaxError{}
	for want, err := range map[string]error{
		"response too large":     fmt.Errorf("get: %w", &http.MaxBytesError{Limit: 1}),
		"timeout":                fmt.Errorf("get: %w", context.DeadlineExceeded),
		"canceled":               context.Canceled,
		"unexpected HTTP status": fmt.Errorf("%w: 503", jwkset.ErrInvalidHTTPStatusCode),
		"malformed JWKS":         fmt.Errorf("decode: %w", syn),
		"invalid key in JWKS":    fmt.Errorf("key: %w", jwkset.ErrJWKValidation),
		"request failed":         errors.New("dial tcp: connection refused"),
	} {
		assert.Equal(t, want, Reason(err), "%v", err)
	}
	assert.Equal(t, "malformed JWKS", Reason(io.ErrUnexpectedEOF))
}
