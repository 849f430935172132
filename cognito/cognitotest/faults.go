package cognitotest

import (
	"net"
	"net/http"
	"strconv"
	"sync"
)

// Handler returns the handler of the pool's JWKS URL, to mount on a mux of
// one's own (dev mode serves it beside its API). It answers GET and HEAD
// with the JWKS, whatever the path, as the pool's faults allow (Down,
// Answer, Stall); every request counts in Fetches.
func (p *Pool) Handler() http.Handler {
	return http.HandlerFunc(p.serveJWKS)
}

func (p *Pool) serveJWKS(w http.ResponseWriter, r *http.Request) {
	p.fetches.Add(1)
	p.mu.Lock()
	stall := p.stall
	p.mu.Unlock()
	if stall != nil && !stall.hold(w, r) {
		return
	}
	p.mu.Lock()
	f, answer := p.fault, p.answer
	p.mu.Unlock()
	switch {
	case f == faultDown:
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	case f == faultAnswer:
		answer.ServeHTTP(w, r)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	b := p.JWKS()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
}

// Up ends Down, Refuse and Answer: the JWKS URL answers with the JWKS
// again.
func (p *Pool) Up() { p.setFault(faultNone, nil) }

// Down makes the JWKS URL answer 503 Service Unavailable until Up.
func (p *Pool) Down() { p.setFault(faultDown, nil) }

// Answer makes h answer the JWKS URL until Up, for a fault of the test's
// own making (a body that is not JSON, one too large, a redirect).
func (p *Pool) Answer(h http.Handler) {
	if h == nil {
		panic("cognitotest: Answer: nil handler")
	}
	p.setFault(faultAnswer, h)
}

// Refuse stops the server listening, and closes the connections it has,
// until Up, Down or Answer: a JWKS fetch fails with "connection refused".
// The server listens again on the same address. It panics for a pool
// without a server (New).
func (p *Pool) Refuse() {
	if p.srv == nil {
		panic("cognitotest: Refuse needs a pool with a server (NewPool or NewServer)")
	}
	p.setFault(faultRefuse, nil)
	p.ln.refuse()
	p.srv.CloseClientConnections()
}

// setFault sets how the JWKS URL answers, and listens again when the pool
// stops refusing. If it cannot, the test of NewPool fails (Errorf); for a
// pool of NewServer, setFault panics.
func (p *Pool) setFault(f fault, h http.Handler) {
	p.mu.Lock()
	prev := p.fault
	p.fault, p.answer = f, h
	p.mu.Unlock()
	if prev != faultRefuse || f == faultRefuse {
		return
	}
	if err := p.ln.listen(); err != nil {
		if p.tb == nil {
			panic("cognitotest: listening again: " + err.Error())
		}
		p.tb.Errorf("cognitotest: listening again: %v", err)
	}
}

// Stall holds every JWKS request from now on until the returned Stall's
// Release (or until the request's client gives up, or the pool is
// closed): the JWKS is as slow as the test wants, without a timer.
// Released requests, and later ones, are answered as the pool's faults
// then say. A later Stall replaces this one for requests that arrive
// after it.
func (p *Pool) Stall() *Stall {
	s := &Stall{p: p, held: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	p.stall = s
	p.mu.Unlock()
	return s
}

// A Stall holds a pool's JWKS requests; see Pool.Stall.
type Stall struct {
	p        *Pool
	held     chan struct{} // closed when the first request is held
	heldOnce sync.Once
	release  chan struct{}
	once     sync.Once
}

// Held returns a channel closed once a JWKS request is being held, so
// that a test can act while a fetch is in progress.
func (s *Stall) Held() <-chan struct{} { return s.held }

// Release lets the held requests, and later ones, be answered. It is
// idempotent.
func (s *Stall) Release() {
	s.once.Do(func() {
		s.p.mu.Lock()
		if s.p.stall == s {
			s.p.stall = nil
		}
		s.p.mu.Unlock()
		close(s.release)
	})
}

// hold holds r until s is released, r's client gives up or the pool is
// closed; it reports whether r is to be answered.
func (s *Stall) hold(w http.ResponseWriter, r *http.Request) bool {
	s.heldOnce.Do(func() { close(s.held) })
	select {
	case <-s.release:
		return true
	case <-r.Context().Done():
		return false
	case <-s.p.closed:
		http.Error(w, "the pool is closed", http.StatusServiceUnavailable)
		return false
	}
}

// switchListener is the server's listener: the listener httptest made,
// which Refuse closes (so that connections are refused) and Up makes again
// on the same address, while the server's Accept waits.
type switchListener struct {
	addr net.Addr

	mu     sync.Mutex
	inner  net.Listener  // nil while refusing
	wake   chan struct{} // closed when inner changes or the listener closes
	closed bool
}

func (l *switchListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		inner, wake, closed := l.inner, l.wake, l.closed
		l.mu.Unlock()
		switch {
		case closed:
			return nil, net.ErrClosed
		case inner == nil:
			<-wake
			continue
		}
		c, err := inner.Accept()
		if err == nil {
			return c, nil
		}
		l.mu.Lock()
		swapped := l.inner != inner || l.closed
		l.mu.Unlock()
		if !swapped {
			return nil, err
		}
	}
}

// refuse closes the inner listener.
func (l *switchListener) refuse() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.inner == nil {
		return
	}
	_ = l.inner.Close()
	l.inner = nil
	l.signal()
}

// listen listens again on the address.
func (l *switchListener) listen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.inner != nil {
		return nil
	}
	ln, err := net.Listen(l.addr.Network(), l.addr.String())
	if err != nil {
		return err
	}
	l.inner = ln
	l.signal()
	return nil
}

// signal wakes Accept. l.mu is held.
func (l *switchListener) signal() {
	close(l.wake)
	l.wake = make(chan struct{})
}

func (l *switchListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.inner != nil {
		_ = l.inner.Close()
	}
	l.signal()
	return nil
}

func (l *switchListener) Addr() net.Addr { return l.addr }
