// Package limit caps the bodies the module reads from remote servers (key
// sets, issuers, exchange endpoints) with http.MaxBytesReader: a read past
// the cap fails with an *http.MaxBytesError, so a decoder never takes a
// truncated document for a whole one.
package limit

import (
	"errors"
	"net/http"
	"time"
)

// Transport returns a RoundTripper that sends through rt (nil means
// http.DefaultTransport) and caps every response body at max bytes. A
// response that announces a longer body fails at once.
func Transport(rt http.RoundTripper, max int64) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripper{rt: rt, max: max}
}

type roundTripper struct {
	rt  http.RoundTripper
	max int64
}

func (l roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := l.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if res.ContentLength > l.max {
		res.Body.Close()
		return nil, &http.MaxBytesError{Limit: l.max}
	}
	res.Body = http.MaxBytesReader(nil, res.Body, l.max)
	return res, nil
}

// Client returns a copy of c whose responses are capped at max bytes; a
// nil c means a new client with the given timeout.
func Client(c *http.Client, timeout time.Duration, max int64) *http.Client {
	if c == nil {
		c = &http.Client{Timeout: timeout}
	}
	cc := *c
	cc.Transport = Transport(c.Transport, max)
	return &cc
}

// TooLarge reports whether err, or an error it wraps, is a body read past
// its cap.
func TooLarge(err error) bool {
	var e *http.MaxBytesError
	return errors.As(err, &e)
}
