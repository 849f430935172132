package ssotoken

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorIsAndAs(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	err := fmt.Errorf("outer: %w", NewError(ErrUnauthorized, "token_expired", "the token has expired", cause))

	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.NotErrorIs(t, err, ErrForbidden)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the cause stays reachable")

	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, ErrUnauthorized, e.Kind())
	assert.Equal(t, "token_expired", e.Code())
	assert.Equal(t, "ssotoken: the token has expired (token_expired): unexpected EOF", e.Error())
}

// TestSentinels: a refusal is its sentinel through any wrapping, and only
// its own; every sentinel has a distinct code, and its kind, code and
// message are what the HTTP layer writes.
func TestSentinels(t *testing.T) {
	sentinels := []*Error{
		ErrTokenMissing, ErrTokenTooLarge, ErrTokenMalformed, ErrAlgNotAllowed, ErrUnknownKey,
		ErrBadSignature, ErrClaimsMalformed, ErrExpMissing, ErrIatMissing, ErrTokenExpired,
		ErrTokenNotYetValid, ErrLifetimeTooLong, ErrWrongIssuer, ErrWrongAudience, ErrWrongLOB,
		ErrTokenReplayed, ErrKeysUnavailable,
	}
	codes := map[string]bool{}
	for _, s := range sentinels {
		assert.False(t, codes[s.Code()], "code %s twice", s.Code())
		codes[s.Code()] = true
		assert.NotEmpty(t, s.Message())
		assert.NoError(t, s.Unwrap())
		wrapped := fmt.Errorf("verify: %w", s)
		assert.ErrorIs(t, wrapped, s)
		assert.ErrorIs(t, wrapped, s.Kind())
		assert.Equal(t, s.Code(), CodeOf(wrapped))
		assert.Equal(t, s.Message(), MessageOf(wrapped))
		if s != ErrTokenExpired {
			assert.NotErrorIs(t, wrapped, ErrTokenExpired)
		}
		want := ErrUnauthorized
		if s == ErrKeysUnavailable {
			want = ErrUpstream
		}
		assert.Equal(t, want, KindOf(wrapped), s.Code())
	}
	// An error of the same code that is not the sentinel (a remote
	// server's, relayed) is not the sentinel.
	assert.NotErrorIs(t, NewError(ErrUnauthorized, CodeTokenExpired, "relayed", nil), ErrTokenExpired)
}

func TestKindCodeMessageOf(t *testing.T) {
	deadline := fmt.Errorf("fetching keys: %w", context.DeadlineExceeded)
	tests := []struct {
		name    string
		err     error
		kind    Kind
		code    string
		message string
	}{
		{"nil", nil, 0, "", ""},
		{"coded", NewError(ErrForbidden, "scope_missing", "a scope is missing", nil), ErrForbidden, "scope_missing", "a scope is missing"},
		{"bare kind", fmt.Errorf("x: %w", ErrNotAcceptable), ErrNotAcceptable, "not_acceptable", "not acceptable"},
		{"deadline", deadline, ErrTimeout, CodeDeadlineExceeded, "the request timed out"},
		{"canceled", context.Canceled, ErrTimeout, CodeCanceled, "the request timed out"},
		{"plain error with a secret in it", errors.New("secret=hunter2"), ErrUpstream, CodeInternal, "internal error"},
		{"coded error wrapping a deadline keeps its kind", NewError(ErrUpstream, "jwks_unavailable", "keys unavailable", context.DeadlineExceeded), ErrUpstream, "jwks_unavailable", "keys unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.kind, KindOf(tt.err))
			assert.Equal(t, tt.code, CodeOf(tt.err))
			assert.Equal(t, tt.message, MessageOf(tt.err))
		})
	}
}

func TestWrap(t *testing.T) {
	assert.NoError(t, Wrap(nil))

	coded := NewError(ErrBadRequest, "missing_ciino", "CIINo is required", nil)
	assert.Same(t, coded, Wrap(coded), "an *Error is returned as it is")

	w := Wrap(fmt.Errorf("issuing: %w", context.DeadlineExceeded))
	assert.ErrorIs(t, w, ErrTimeout)
	assert.ErrorIs(t, w, context.DeadlineExceeded)
	assert.Equal(t, CodeDeadlineExceeded, CodeOf(w))

	w = Wrap(errors.New("disk on fire"))
	assert.ErrorIs(t, w, ErrUpstream)
	assert.Equal(t, "internal error", MessageOf(w))
}

func TestKindStrings(t *testing.T) {
	for k, want := range map[Kind]string{
		ErrBadRequest: "bad request", ErrUnauthorized: "unauthorized", ErrForbidden: "forbidden",
		ErrNotAcceptable: "not acceptable", ErrUpstream: "upstream failure", ErrTimeout: "timeout",
		ErrRateLimited: "rate limited", 0: "unknown kind", 99: "unknown kind",
	} {
		assert.Equal(t, want, k.String())
		assert.Equal(t, "ssotoken: "+want, k.Error())
	}
}

func TestRetryAfter(t *testing.T) {
	base := NewError(ErrRateLimited, "rate_limited", "slow down", nil)
	limited := base.WithRetryAfter(1500 * time.Millisecond)

	assert.Zero(t, base.RetryAfter(), "WithRetryAfter copies: the sentinel is unchanged")
	assert.Equal(t, 1500*time.Millisecond, limited.RetryAfter())
	assert.Equal(t, 1500*time.Millisecond, RetryAfterOf(fmt.Errorf("wrapped: %w", limited)))
	assert.ErrorIs(t, limited, ErrRateLimited)
	assert.Equal(t, "rate_limited", CodeOf(limited))
	assert.Equal(t, "slow down", MessageOf(limited))
	assert.Zero(t, base.WithRetryAfter(-time.Second).RetryAfter(), "a negative wait is none")
	assert.Zero(t, RetryAfterOf(errors.New("plain")))
	assert.Zero(t, RetryAfterOf(nil))
}

func TestRequestValidate(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		code string
	}{
		{"the seed's request", Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}, ""},
		{"unicode text", Request{CIINo: "10001004", LOBId: "ÄBC", Functionality: "Dépôt"}, ""},
		{"at the caps", Request{CIINo: string(make64('1')), LOBId: string(make64('2')), Functionality: string(append(make64('D'), make64('D')...))}, ""},
		{"all missing", Request{}, "missing_ciino"},
		{"CIINo over the cap", Request{CIINo: string(append(make64('1'), '1')), LOBId: "01", Functionality: "D"}, "invalid_ciino"},
		{"CIINo with a newline", Request{CIINo: "1\n2", LOBId: "01", Functionality: "D"}, "invalid_ciino"},
		{"LOBId missing", Request{CIINo: "1", Functionality: "D"}, "missing_lob_id"},
		{"LOBId with DEL", Request{CIINo: "1", LOBId: "0\x7f", Functionality: "D"}, "invalid_lob_id"},
		{"LOBId with a C1 control", Request{CIINo: "1", LOBId: "0\u0085", Functionality: "D"}, "invalid_lob_id"},
		{"Functionality invalid UTF-8", Request{CIINo: "1", LOBId: "01", Functionality: "\xff"}, "invalid_functionality"},
		{"CIINo holding byte 0x80", Request{CIINo: "1000\x801004", LOBId: "01", Functionality: "D"}, "invalid_ciino"},
		{"CIINo of byte 0x80 alone", Request{CIINo: "\x80", LOBId: "01", Functionality: "D"}, "invalid_ciino"},
		{"Functionality with a line separator", Request{CIINo: "1", LOBId: "01", Functionality: "a\u2028b"}, "invalid_functionality"},
		{"CIINo with a bidi override", Request{CIINo: "1\u202e2", LOBId: "01", Functionality: "D"}, "invalid_ciino"},
		{"LOBId with a zero-width space", Request{CIINo: "1", LOBId: "0\u200b1", Functionality: "D"}, "invalid_lob_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if tt.code == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrBadRequest)
			assert.Equal(t, tt.code, CodeOf(err))
		})
	}
}

func make64(c byte) []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return b
}

func TestPrincipalClaims(t *testing.T) {
	p := &Principal{
		Scopes:     []string{"sso/issue"},
		Groups:     []string{"Use API"},
		Attributes: map[string]string{"custom:ciino": "10001004"},
		Claims:     []byte(`{"sub":"u1","n":7,"custom:ciino":"10001004"}`),
	}
	assert.True(t, p.HasScope("sso/issue"))
	assert.False(t, p.HasScope("sso"))
	assert.True(t, p.InGroup("Use API"))

	v, ok := p.StringClaim("custom:ciino")
	assert.True(t, ok)
	assert.Equal(t, "10001004", v)
	v, ok = p.StringClaim("sub")
	assert.True(t, ok)
	assert.Equal(t, "u1", v)
	_, ok = p.StringClaim("n")
	assert.False(t, ok, "a number is not a string claim")
	_, ok = p.StringClaim("absent")
	assert.False(t, ok)

	var n int
	assert.True(t, p.Claim("n", &n))
	assert.Equal(t, 7, n)
	assert.False(t, (&Principal{}).Claim("n", &n))
}
