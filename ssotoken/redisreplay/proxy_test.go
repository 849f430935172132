package redisreplay_test

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// proxyMode is what a proxy does with connections.
type proxyMode int

const (
	forward proxyMode = iota // pass bytes both ways to the target
	cut                      // close every connection: Redis is gone
	hold                     // accept, then never answer: Redis hangs
)

// proxy is a loopback TCP proxy in front of Redis that a test can cut and
// restore, to take Redis away from some clients without stopping the
// server the other tests use. Its address stays the same throughout.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	mode   proxyMode
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// newProxy starts a proxy to target in mode forward; it is closed at the
// end of the test, after the clients that use it (register it first).
func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr returns the address clients dial.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

// set switches the mode; leaving forward closes every open connection, so
// that what was in flight is lost, as when Redis goes away.
func (p *proxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	if m != forward {
		p.closeConnsLocked()
	}
}

func (p *proxy) closeConnsLocked() {
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.closeConnsLocked()
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		mode, closed := p.mode, p.closed
		switch {
		case closed || mode == cut:
			_ = c.Close()
		case mode == hold:
			p.conns[c] = struct{}{}
		default:
			p.conns[c] = struct{}{}
			p.wg.Add(1)
			go p.pipe(c)
		}
		p.mu.Unlock()
	}
}

// pipe connects c to the target and copies both ways until either side
// ends or the proxy closes them.
func (p *proxy) pipe(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if _, open := p.conns[c]; !open {
		p.mu.Unlock()
		_ = up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.mu.Unlock()

	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	_ = c.Close()
	_ = up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}
