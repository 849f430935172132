package ssotoken

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Kind classifies an error by what went wrong from the caller's point of
// view. The seven kinds are the sentinels of the taxonomy that every package
// of this module uses; the HTTP layer maps each to one status code, and this
// package knows no status codes at all.
//
// A Kind is an error, so it can be the target of [errors.Is]:
//
//	if errors.Is(err, ssotoken.ErrUnauthorized) { ... }
//
// The kinds are constants, so no package can reassign them.
type Kind uint8

// The kinds of the taxonomy, in the order of the README's status table.
const (
	// ErrBadRequest: the request is malformed or incomplete (missing header
	// or field, unsupported API version, ill-formatted cookie).
	ErrBadRequest Kind = iota + 1
	// ErrUnauthorized: the credential is absent, blank, expired, forged, of
	// the wrong class, or already used.
	ErrUnauthorized
	// ErrForbidden: the credential is genuine but does not grant this
	// request (scope, group, client, LOB or CIINo not allowed).
	ErrForbidden
	// ErrNotAcceptable: the request came from a network or host that is
	// not allowed.
	ErrNotAcceptable
	// ErrUpstream: an internal or upstream failure (a key set or store that
	// cannot be reached, a signer that failed).
	ErrUpstream
	// ErrTimeout: the work ran past its deadline.
	ErrTimeout
	// ErrRateLimited: the caller asked for more than its limit allows
	// (too many tokens issued, or redeemed and not yet expired); it may
	// ask again after the error's RetryAfter. An addition to the
	// GenerateSSOToken document's table (429).
	ErrRateLimited
)

var kindNames = [...]string{
	ErrBadRequest:    "bad request",
	ErrUnauthorized:  "unauthorized",
	ErrForbidden:     "forbidden",
	ErrNotAcceptable: "not acceptable",
	ErrUpstream:      "upstream failure",
	ErrTimeout:       "timeout",
	ErrRateLimited:   "rate limited",
}

// String returns the kind's name, for example "unauthorized".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown kind"
}

// Error implements error, so that a Kind can be used as a sentinel.
func (k Kind) Error() string { return "ssotoken: " + k.String() }

// Error is the error type of this module. It carries a Kind, a stable
// machine-readable code (for example "token_expired"), a message that is
// safe to show to the caller, and the underlying cause, which is for logs
// only. Its fields are read through methods, so the package's sentinel
// errors (ErrTokenExpired and the others) cannot be changed by an importer.
//
// Neither Message nor Error() ever contains a token, a secret or a key:
// constructors in this module never put one there, and code outside the
// module that calls NewError must keep to the same rule.
//
// errors.Is(err, k) reports whether the error is of kind k, and
// errors.Is(err, ErrTokenExpired) whether it is that sentinel; errors.As
// finds the *Error through any wrapping; errors.Unwrap returns the cause.
type Error struct {
	kind       Kind
	code       string
	message    string
	err        error
	retryAfter time.Duration
}

// NewError returns an *Error of the given kind, code and safe message, with
// an optional cause.
func NewError(kind Kind, code, message string, cause error) *Error {
	return &Error{kind: kind, code: code, message: message, err: cause}
}

// WithRetryAfter returns a copy of e that tells the caller when to ask
// again: after d (the HTTP layer sends it as Retry-After, in whole seconds
// rounded up). A refusal of kind ErrRateLimited carries one.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.retryAfter = max(d, 0)
	return &c
}

// RetryAfter returns how long the caller should wait before asking again,
// or zero when the error does not say.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// RetryAfterOf returns the RetryAfter of the first *Error in err's chain,
// or zero.
func RetryAfterOf(err error) time.Duration {
	if e := asError(err); e != nil {
		return e.retryAfter
	}
	return 0
}

// Kind returns what went wrong, one of the Err... kinds.
func (e *Error) Kind() Kind { return e.kind }

// Code returns the stable machine code, in snake_case, for example
// "missing_ciino".
func (e *Error) Code() string { return e.code }

// Message returns the human message that is safe to show to the caller.
func (e *Error) Message() string { return e.message }

// Error returns "ssotoken: <message> (<code>)", followed by the cause when
// there is one.
func (e *Error) Error() string {
	s := "ssotoken: " + e.message + " (" + e.code + ")"
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

// Unwrap returns the cause, for logs; it may be nil and is never shown to
// callers.
func (e *Error) Unwrap() error { return e.err }

// Is reports whether target is the error's Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.kind
}

// Codes shared by every package of the module. Packages add codes of their
// own; a code, once published, never changes meaning.
const (
	CodeInternal         = "internal_error"    // an unexpected failure
	CodeDeadlineExceeded = "deadline_exceeded" // a context deadline ran out
	CodeCanceled         = "canceled"          // the caller went away

	// CodeInsufficientScope is the code of an ErrForbidden for a genuine
	// token that lacks a required scope, group or role; the HTTP layer
	// answers it with WWW-Authenticate: Bearer error="insufficient_scope"
	// (RFC 6750 section 3.1).
	CodeInsufficientScope = "insufficient_scope"
)

// KindOf returns the kind of err. A context deadline (anywhere in the
// chain, and not already inside an *Error) is ErrTimeout, as is a canceled
// context; any other error that carries no kind is ErrUpstream, so that an
// unexpected failure is never reported as the caller's fault. KindOf(nil)
// is 0.
func KindOf(err error) Kind {
	if err == nil {
		return 0
	}
	if e := asError(err); e != nil {
		return e.kind
	}
	var k Kind
	if errors.As(err, &k) {
		return k
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ErrTimeout
	}
	return ErrUpstream
}

// CodeOf returns the stable code of err: the Code of the first *Error in its
// chain; for a bare Kind, its name in snake_case ("not_acceptable");
// "deadline_exceeded" or "canceled" for a context error; "internal_error"
// for anything else. CodeOf(nil) is "".
func CodeOf(err error) string {
	var k Kind
	switch {
	case err == nil:
		return ""
	case asError(err) != nil:
		return asError(err).code
	case errors.As(err, &k):
		return strings.ReplaceAll(k.String(), " ", "_")
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	}
	return CodeInternal
}

// MessageOf returns the message of err that is safe to show to a caller:
// the Message of the first *Error in its chain, the name of a bare Kind, or
// a generic text chosen by KindOf for any other error (whose own text may
// hold anything).
func MessageOf(err error) string {
	if e := asError(err); e != nil {
		return e.message
	}
	var k Kind
	if errors.As(err, &k) {
		return k.String()
	}
	switch KindOf(err) {
	case 0:
		return ""
	case ErrTimeout:
		return "the request timed out"
	default:
		return "internal error"
	}
}

// Wrap returns err classified in the taxonomy. An error that has an *Error
// in its chain is returned unchanged (use errors.As to reach the *Error); a
// context deadline or cancellation becomes an ErrTimeout *Error; anything
// else becomes an ErrUpstream *Error with code "internal_error", err as its
// cause. Wrap(nil) is nil.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	if e := asError(err); e != nil {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return NewError(ErrTimeout, CodeDeadlineExceeded, "the request timed out", err)
	case errors.Is(err, context.Canceled):
		return NewError(ErrTimeout, CodeCanceled, "the request was canceled", err)
	}
	return NewError(ErrUpstream, CodeInternal, "internal error", err)
}

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
