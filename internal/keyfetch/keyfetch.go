// Package keyfetch describes the fetches of a JWKS, for log lines,
// metrics and readiness: Reason names what failed, from a small bounded
// set, without quoting anything the server sent or any part of a URL, and
// Tracker counts a key set's fetches by result. Package cognito and
// ssotoken.RemoteKeys both use it, so their reasons are the same words.
package keyfetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/ssokit/ssokit/internal/limit"
)

// The results of a fetch. OK and NoUsableKey are fetches that brought a
// set; the others are the reasons Reason gives for a failed one, with
// "HTTP nnn" (see Status) for a status other than 200.
const (
	// OK: the set arrived and holds at least one usable key.
	OK = "ok"
	// NoUsableKey: a set arrived and parsed, but holds no key that may
	// verify a token (an empty set, or only keys that are left out).
	NoUsableKey = "no usable key"

	// Timeout: the fetch ran past its timeout (connecting, or waiting for
	// or reading the answer).
	Timeout = "timeout"
	// Canceled: the fetch was canceled (the key set was closed).
	Canceled = "canceled"
	// Refused: nothing listens at the URL's host and port.
	Refused = "connection refused"
	// NameResolution: the URL's host name could not be resolved (a
	// *net.DNSError: no such host, or the resolver failed).
	NameResolution = "name resolution"
	// TLS: the TLS handshake failed (an unknown authority, a certificate
	// for another name, expired, or a server that does not speak TLS).
	TLS = "TLS"
	// TooLarge: the body is larger than the configured cap.
	TooLarge = "body too large"
	// NotKeySet: the body is not a JWKS: not JSON, truncated, or JSON of
	// another shape.
	NotKeySet = "not a key set"
	// InvalidKey: the set holds a key that cannot be read (a member
	// missing or malformed), which fails the whole set.
	InvalidKey = "invalid key"
	// HTTPStatus: a status other than 200 whose number could not be read
	// (Status gives "HTTP nnn" otherwise).
	HTTPStatus = "unexpected HTTP status"
	// Failed: any other failure of the request (a connection reset or
	// closed early, say).
	Failed = "request failed"
)

// statusPrefix is how jwkset's error for a status other than the expected
// one reads: fmt.Errorf("%w: %d", jwkset.ErrInvalidHTTPStatusCode, code).
// jwkset keeps the number in the text only; TestReason pins the format
// against a real server, and an unreadable number degrades to HTTPStatus.
var statusPrefix = jwkset.ErrInvalidHTTPStatusCode.Error() + ": "

// Status returns the result of a fetch answered with an HTTP status other
// than 200: "HTTP " and the three digits, for example "HTTP 503".
func Status(code int) string {
	if code < 100 || code > 599 {
		return HTTPStatus
	}
	return "HTTP " + strconv.Itoa(code)
}

// Reason describes a failed JWKS fetch with one of the failure results
// above, or Status(code) for an HTTP status. It never quotes the body, a
// header or the URL. The checks run from the most specific: a body over
// the cap, the HTTP status, name resolution, timeout, cancellation, a
// refused connection, TLS; then the body: not a key set, an invalid key.
func Reason(err error) string {
	var (
		dns *net.DNSError
		ne  net.Error
		ue  *url.Error
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return OK
	case limit.TooLarge(err):
		return TooLarge
	case errors.Is(err, jwkset.ErrInvalidHTTPStatusCode):
		if code, ok := httpStatus(err); ok {
			return Status(code)
		}
		return HTTPStatus
	case errors.As(err, &dns):
		return NameResolution
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused
	case isTLS(err):
		return TLS
	case errors.As(err, &ue):
		return Failed // the request itself failed: an EOF here is the connection's, not the body's
	case errors.As(err, &syn), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return NotKeySet
	case errors.Is(err, jwkset.ErrJWKValidation), errors.Is(err, jwkset.ErrKeyUnmarshalParameter),
		errors.Is(err, jwkset.ErrInvalidKey), errors.Is(err, jwkset.ErrUnsupportedKey), errors.Is(err, jwkset.ErrOptions):
		return InvalidKey
	}
	return Failed
}

// httpStatus finds the error in err's chain that wraps
// jwkset.ErrInvalidHTTPStatusCode directly, and reads the status from its
// text.
func httpStatus(err error) (int, bool) {
	found := 0
	walk(err, func(e error) bool {
		u, ok := e.(interface{ Unwrap() error })
		if !ok || u.Unwrap() != jwkset.ErrInvalidHTTPStatusCode {
			return false
		}
		s, ok := strings.CutPrefix(e.Error(), statusPrefix)
		if n, err := strconv.Atoi(s); ok && err == nil && len(s) == 3 {
			found = n
		}
		return true
	})
	return found, found != 0
}

// walk calls f with err and every error it wraps, depth first, until f
// returns true.
func walk(err error, f func(error) bool) bool {
	if err == nil {
		return false
	}
	if f(err) {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return walk(u.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if walk(e, f) {
				return true
			}
		}
	}
	return false
}

func isTLS(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// Redact returns rawURL without its query, fragment and user information,
// for logs and metrics: a JWKS URL may carry a key in its query.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// Tracker counts the fetches of one key set by result and remembers the
// last one and the last OK one. The zero value is ready to use; it is safe
// for concurrent use. Fetches are rare (one an hour, a few more on a
// rotation), so a mutex is cheap.
type Tracker struct {
	mu     sync.Mutex
	counts map[string]uint64
	last   string
	lastOK time.Time
}

// Record counts one finished fetch with result (OK, NoUsableKey or a
// Reason) that ended at at.
func (t *Tracker) Record(result string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = make(map[string]uint64, 2)
	}
	t.counts[result]++
	t.last = result
	if result == OK {
		t.lastOK = at
	}
}

// Snapshot returns a copy of the counts by result (nil before the first
// fetch), the last result ("" before the first fetch) and the end of the
// last OK fetch (zero before one).
func (t *Tracker) Snapshot() (counts map[string]uint64, last string, lastOK time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts != nil {
		counts = make(map[string]uint64, len(t.counts))
		for k, v := range t.counts {
			counts[k] = v
		}
	}
	return counts, t.last, t.lastOK
}

// Last returns the last result, "" before the first fetch.
func (t *Tracker) Last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}
