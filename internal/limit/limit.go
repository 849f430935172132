// Package limit bounds what the module reads from remote servers.
package limit

import (
	"errors"
	"io"
	"net/http"
	"time"
)

// ErrTooLarge is returned by a body read past its cap.
var ErrTooLarge = errors.New("response body over the size limit")

// Transport returns a RoundTripper that sends through rt (nil means
// http.DefaultTransport) and caps every response body at max bytes: a read
// past it fails with ErrTooLarge, so a decoder never sees a truncated
// document as a whole one.
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
		return nil, ErrTooLarge
	}
	res.Body = &body{rc: res.Body, left: l.max}
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

type body struct {
	rc   io.ReadCloser
	left int64
}

func (b *body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly max bytes from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }
