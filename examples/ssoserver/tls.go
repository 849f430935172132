package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// HTTPS: -tls-cert and -tls-key name a PEM certificate chain and its
// private key. They are loaded before anything is bound, and again when
// either file changes (checked every -tls-reload-interval) or on SIGHUP.
// A handshake takes the pair in use at its start, so connections that are
// open keep the certificate they were served; a pair that does not load
// is logged and the one in use is kept.

// loadedPair is a certificate with its key, as loaded, and the state of
// their files when they were read.
type loadedPair struct {
	cert  *tls.Certificate
	stamp pairStamp
}

// pairStamp is what a reload compares to see whether the files changed:
// the FileInfo of the certificate's file and of the key's, nil where the
// file could not be read. A file replaced by another (a rename, or a
// Kubernetes secret's symlink swap) is a change even with the same
// modification time and size.
type pairStamp [2]os.FileInfo

func statPair(certFile, keyFile string) pairStamp {
	var s pairStamp
	for i, f := range []string{certFile, keyFile} {
		if fi, err := os.Stat(f); err == nil {
			s[i] = fi
		}
	}
	return s
}

func (s pairStamp) same(t pairStamp) bool {
	for i := range s {
		a, b := s[i], t[i]
		if a == nil || b == nil {
			if a != b {
				return false
			}
			continue
		}
		if !os.SameFile(a, b) || !a.ModTime().Equal(b.ModTime()) || a.Size() != b.Size() {
			return false
		}
	}
	return true
}

// loadPair reads the pair and checks that the key is the certificate's
// and that the certificate is valid at now.
func loadPair(certFile, keyFile string, now time.Time) (*loadedPair, error) {
	stamp := statPair(certFile, keyFile) // before reading: a change during the read is seen next time
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err // the file's name, or crypto/tls's reason ("private key does not match public key"); never key bytes
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("the certificate does not parse: %w", err)
		}
	}
	switch leaf := cert.Leaf; {
	case now.Before(leaf.NotBefore):
		return nil, fmt.Errorf("the certificate is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	case now.After(leaf.NotAfter):
		return nil, fmt.Errorf("the certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &loadedPair{cert: &cert, stamp: stamp}, nil
}

// checkTLS checks -tls-cert, -tls-key and -tls-reload-interval, and loads
// the pair.
func (o *options) checkTLS() []error {
	switch {
	case o.tlsCertFile == "" && o.tlsKeyFile == "":
		return nil
	case o.tlsCertFile == "":
		return []error{errors.New("-tls-key needs -tls-cert: the certificate of the key")}
	case o.tlsKeyFile == "":
		return []error{errors.New("-tls-cert needs -tls-key: the private key of the certificate")}
	}
	var errs []error
	if o.tlsReload != 0 && (o.tlsReload < 100*time.Millisecond || o.tlsReload > time.Hour) {
		errs = append(errs, fmt.Errorf("-tls-reload-interval %s: want between 100ms and 1h, or 0 for SIGHUP only", o.tlsReload))
	}
	for _, f := range []*string{&o.tlsCertFile, &o.tlsKeyFile} {
		if abs, err := filepath.Abs(*f); err == nil {
			*f = abs // the files are read again later, whatever the working directory then
		}
	}
	pair, err := loadPair(o.tlsCertFile, o.tlsKeyFile, time.Now())
	if err != nil {
		return append(errs, fmt.Errorf("-tls-cert %s with -tls-key %s: %w", o.tlsCertFile, o.tlsKeyFile, err))
	}
	o.tlsPair = pair
	return errs
}

// certReloader holds the pair that new handshakes get.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger
	now               func() time.Time

	cur   atomic.Pointer[tls.Certificate]
	mu    sync.Mutex // one reload at a time
	stamp pairStamp  // of the files the last reload read, or tried to
}

func newCertReloader(certFile, keyFile string, p *loadedPair, logger *slog.Logger) *certReloader {
	r := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger, now: time.Now, stamp: p.stamp}
	r.cur.Store(p.cert)
	return r
}

// tlsConfig is the API listener's: TLS 1.2 or newer, HTTP/2 offered, and
// the certificate in use at each handshake.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.cur.Load(), nil
		},
	}
}

// reload loads the pair again if either file changed since the last
// reload, or always when forced (SIGHUP). A pair that does not load keeps
// the one in use and is logged, once per change of the files.
func (r *certReloader) reload(force bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp := statPair(r.certFile, r.keyFile)
	if !force && stamp.same(r.stamp) {
		return
	}
	r.stamp = stamp
	p, err := loadPair(r.certFile, r.keyFile, r.now())
	if err != nil {
		r.logger.Warn("TLS certificate not reloaded: the certificate in use is kept",
			"reason", err.Error(), "cert_file", r.certFile, "key_file", r.keyFile)
		return
	}
	r.stamp = p.stamp
	same := bytes.Equal(p.cert.Certificate[0], r.cur.Load().Certificate[0])
	r.cur.Store(p.cert)
	r.logger.Info("TLS certificate reloaded", append(certAttrs(p.cert.Leaf), "same_certificate", same)...)
}

// watch reloads the pair every interval (never when it is 0) and on each
// value of hup, until ctx is done.
func (r *certReloader) watch(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			r.reload(false)
		case <-hup:
			r.logger.Info("SIGHUP: reloading the TLS certificate")
			r.reload(true)
		}
	}
}

// certAttrs describe a certificate in the log: who it names and until
// when it is valid.
func certAttrs(leaf *x509.Certificate) []any {
	names := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return []any{
		"subject", leaf.Subject.String(), "names", strings.Join(names, ","),
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339),
	}
}

// transportLog is the server's first log line: where TLS ends. With
// -tls-cert the server ends it itself; without, a proxy or load balancer
// in front of it must, unless the server listens on loopback only.
func transportLog(o *options, logger *slog.Logger) {
	switch {
	case o.tlsPair != nil:
		logger.Info("HTTPS: TLS 1.2 or newer, HTTP/2; the certificate is reloaded when its files change and on SIGHUP",
			append([]any{"addr", o.addr, "cert_file", o.tlsCertFile, "reload_interval", o.tlsReload.String()}, certAttrs(o.tlsPair.cert.Leaf)...)...)
	case isLoopback(o.addr):
		logger.Info("plain HTTP on loopback only: reachable from this machine alone; give -tls-cert and -tls-key to serve HTTPS", "addr", o.addr)
	default:
		logger.Info("plain HTTP: TLS must end in front of this server, at a reverse proxy or load balancer (or give -tls-cert and -tls-key)", "addr", o.addr)
	}
}
