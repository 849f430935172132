package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCert is a self-signed ECDSA P-256 certificate for 127.0.0.1 and its
// key, in PEM.
type testCert struct {
	leaf            *x509.Certificate
	certPEM, keyPEM []byte
}

var serials struct {
	sync.Mutex
	n int64
}

// newTestCert makes a certificate valid from notBefore to notAfter, with
// a serial number of its own.
func newTestCert(t *testing.T, cn string, notBefore, notAfter time.Time) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serials.Lock()
	serials.n++
	serial := big.NewInt(serials.n)
	serials.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // self-signed: the client trusts it as its own root
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return testCert{
		leaf:    leaf,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

// validCert is a certificate valid for a day around now.
func validCert(t *testing.T, cn string) testCert {
	return newTestCert(t, cn, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// replaceFile replaces the file at path with data as deployment tools do:
// written beside it, then renamed over it.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// install writes c's certificate and key to certFile and keyFile, the key
// first.
func (c testCert) install(t *testing.T, certFile, keyFile string) {
	t.Helper()
	replaceFile(t, keyFile, c.keyPEM)
	replaceFile(t, certFile, c.certPEM)
}

// certFiles installs c in a new temporary folder and returns the paths.
func certFiles(t *testing.T, c testCert) (certFile, keyFile string) {
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	c.install(t, certFile, keyFile)
	return certFile, keyFile
}

// trusting is a TLS client configuration that trusts certs.
func trusting(certs ...testCert) *tls.Config {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c.leaf)
	}
	return &tls.Config{RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}}
}

// handshake connects to addr and returns the state of the handshake.
func handshake(t *testing.T, addr string, cfg *tls.Config) tls.ConnectionState {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	require.NoError(t, err)
	defer conn.Close()
	return conn.ConnectionState()
}

// waitServed makes new handshakes with addr until one is served want's
// certificate, for at most 20 s.
func waitServed(t *testing.T, addr string, cfg *tls.Config, want testCert) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := handshake(t, addr, cfg).PeerCertificates[0]
		if got.Equal(want.leaf) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still served %s 20 s after the files changed, want %s", got.Subject.CommonName, want.leaf.Subject.CommonName)
		}
		time.Sleep(50 * time.Millisecond) // polling the server, not waiting out a timer
	}
}

// keepAlive is an HTTP/1.1 connection kept open across requests.
type keepAlive struct {
	conn *tls.Conn
	r    *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string, cfg *tls.Config) *keepAlive {
	t.Helper()
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &keepAlive{conn: conn, r: bufio.NewReader(conn)}
}

// health asks for /healthz on the connection and returns the status.
func (k *keepAlive) health(t *testing.T) int {
	t.Helper()
	require.NoError(t, k.conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err := io.WriteString(k.conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	require.NoError(t, err)
	res, err := http.ReadResponse(k.r, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestTLSServesAndReloads: with -tls-cert and -tls-key the API is HTTPS,
// TLS 1.2 or newer, with HTTP/2; the printed curl lines work with the
// certificate; a new pair written over the files is served to new
// handshakes without a restart, while an open connection keeps its
// certificate and goes on working; a pair that does not match is logged
// and the one in use kept.
func TestTLSServesAndReloads(t *testing.T) {
	ssoserver, _ := binaries(t)
	first, second := validCert(t, "first"), validCert(t, "second")
	certFile, keyFile := certFiles(t, first)
	srv := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-demo=false", "-log-format", "json",
		"-tls-cert", certFile, "-tls-key", keyFile, "-tls-reload-interval", "100ms")
	dev := readDevOutput(t, srv)
	require.True(t, strings.HasPrefix(dev.base, "https://127.0.0.1:"), dev.base)
	addr := strings.TrimPrefix(dev.base, "https://")
	firstLine, _, _ := strings.Cut(srv.logs(), "\n")
	assert.Contains(t, firstLine, `"msg":"HTTPS: TLS 1.2 or newer, HTTP/2`, "the first log line says where TLS ends")
	assert.Contains(t, firstLine, `"subject":"CN=first"`)
	assert.Contains(t, dev.curls[0], "--cacert "+shellQuote(certFile))
	assert.Contains(t, dev.client, "SSL_CERT_FILE="+shellQuote(certFile))

	cfg := trusting(first, second)
	state := handshake(t, addr, cfg)
	assert.True(t, state.PeerCertificates[0].Equal(first.leaf))
	assert.Equal(t, "h2", state.NegotiatedProtocol)
	assert.GreaterOrEqual(t, state.Version, uint16(tls.VersionTLS12))
	old := cfg.Clone()
	old.MaxVersion = tls.VersionTLS11
	_, err := tls.Dial("tcp", addr, old)
	assert.Error(t, err, "TLS 1.1 is refused")

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}}
	t.Cleanup(client.CloseIdleConnections)
	res, err := client.Do(curlRequest(t, dev.curls[0]))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "GenerateSSOToken as printed, over HTTPS")
	assert.Equal(t, 2, res.ProtoMajor, "HTTP/2")

	open := dialKeepAlive(t, addr, cfg)
	require.Equal(t, http.StatusOK, open.health(t))

	second.install(t, certFile, keyFile)
	waitServed(t, addr, cfg, second)
	waitLog(t, srv, regexp.MustCompile(`"msg":"TLS certificate reloaded","subject":"CN=second"`))
	assert.Equal(t, http.StatusOK, open.health(t), "the open connection was not dropped")
	assert.True(t, open.conn.ConnectionState().PeerCertificates[0].Equal(first.leaf), "and keeps its certificate")

	// A certificate without its key: logged, and the pair in use kept.
	notReloaded := `"msg":"TLS certificate not reloaded: the certificate in use is kept","reason":"tls: private key does not match public key"`
	before := strings.Count(srv.logs(), notReloaded) // the poll may have seen the key of the second pair before its certificate
	third := validCert(t, "third")
	replaceFile(t, certFile, third.certPEM)
	waitLog(t, srv, regexp.MustCompile(fmt.Sprintf(`(?s)(?:%s.*){%d}`, regexp.QuoteMeta(notReloaded), before+1)))
	assert.True(t, handshake(t, addr, cfg).PeerCertificates[0].Equal(second.leaf))
	// Its key arrives: served.
	replaceFile(t, keyFile, third.keyPEM)
	waitServed(t, addr, trusting(second, third), third)
}

// TestTLSReloadOnSIGHUP: with -tls-reload-interval 0 the files are read
// again on SIGHUP only; without TLS, SIGHUP is logged and the server runs
// on.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	ssoserver, _ := binaries(t)
	first, second := validCert(t, "first"), validCert(t, "second")
	certFile, keyFile := certFiles(t, first)
	srv := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-demo=false", "-log-format", "json",
		"-tls-cert", certFile, "-tls-key", keyFile, "-tls-reload-interval", "0")
	addr := strings.TrimPrefix(readDevOutput(t, srv).base, "https://")
	cfg := trusting(first, second)

	second.install(t, certFile, keyFile)
	assert.True(t, handshake(t, addr, cfg).PeerCertificates[0].Equal(first.leaf), "no polling: the files are not read")
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGHUP))
	waitServed(t, addr, cfg, second)
	waitLog(t, srv, regexp.MustCompile(`"msg":"SIGHUP: reloading the TLS certificate"`))
	waitLog(t, srv, regexp.MustCompile(`"msg":"TLS certificate reloaded","subject":"CN=second".*"same_certificate":false`))

	plain := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-demo=false", "-log-format", "json")
	base := readDevOutput(t, plain).base
	require.NoError(t, plain.cmd.Process.Signal(syscall.SIGHUP))
	waitLog(t, plain, regexp.MustCompile(`"msg":"SIGHUP: nothing to reload without -tls-cert"`))
	res, _ := do(t, mustRequest(t, http.MethodGet, base+"/healthz"))
	assert.Equal(t, http.StatusOK, res.StatusCode, "SIGHUP does not end the server")
}

// TestTLSBadPairRefusedAtStart: a key that is not the certificate's, or
// an expired certificate, stops the server before it binds, with one line
// that names the files and the reason.
func TestTLSBadPairRefusedAtStart(t *testing.T) {
	ssoserver, _ := binaries(t)
	certFile, _ := certFiles(t, validCert(t, "mine"))
	_, otherKey := certFiles(t, validCert(t, "other"))
	expiredCert, expiredKey := certFiles(t, newTestCert(t, "expired", time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)))
	for _, tt := range []struct {
		name, cert, key, want string
	}{
		{"mismatched pair", certFile, otherKey, "ssoserver: -tls-cert " + certFile + " with -tls-key " + otherKey + ": tls: private key does not match public key"},
		{"expired certificate", expiredCert, expiredKey, "ssoserver: -tls-cert " + expiredCert + " with -tls-key " + expiredKey + ": the certificate expired at "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.Command(ssoserver, "-addr", "127.0.0.1:0", "-tls-cert", tt.cert, "-tls-key", tt.key).CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit)
			assert.Equal(t, 2, exit.ExitCode())
			assert.Equal(t, 1, strings.Count(strings.TrimSpace(string(out)), "\n")+1, "one line: %q", out)
			assert.Contains(t, string(out), tt.want)
		})
	}
}

// syncBuffer is a log that a test reads while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runInProcess runs the server of args with run() until the test ends,
// and returns its log and its API's base URL.
func runInProcess(t *testing.T, args []string, env map[string]string) (*syncBuffer, string) {
	t.Helper()
	o, err := parseOptions(args, func(k string) string { return env[k] }, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, io.Discard, logs) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	re := regexp.MustCompile(`"msg":"listening","addr":"[^"]+","dev_mode":(?:true|false),"url":"([^"]+)"`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return logs, m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("run ended: %v; log: %s", err, logs)
		case <-time.After(20 * time.Millisecond): // polling the log
		}
	}
	t.Fatalf("not listening within 30 s: %s", logs)
	return nil, ""
}

// TestFirstLogLineSaysWhereTLSEnds: the first log line says that TLS ends
// at the server (-tls-cert), or must end in front of it, or is not needed
// on loopback.
func TestFirstLogLineSaysWhereTLSEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers (run without -short)")
	}
	certFile, keyFile := certFiles(t, validCert(t, "api"))
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"loopback", []string{"-addr", "127.0.0.1:0"}, `"msg":"plain HTTP on loopback only: reachable from this machine alone; give -tls-cert and -tls-key to serve HTTPS","addr":"127.0.0.1:0"`},
		{"every interface", []string{"-addr", "0.0.0.0:0"}, `"msg":"plain HTTP: TLS must end in front of this server, at a reverse proxy or load balancer (or give -tls-cert and -tls-key)","addr":"0.0.0.0:0"`},
		{"TLS", []string{"-addr", "0.0.0.0:0", "-tls-cert", certFile, "-tls-key", keyFile}, `"msg":"HTTPS: TLS 1.2 or newer, HTTP/2; the certificate is reloaded when its files change and on SIGHUP","addr":"0.0.0.0:0","cert_file":"` + certFile + `","reload_interval":"5s","subject":"CN=api","names":"127.0.0.1","not_after":"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs, _ := runInProcess(t, append([]string{"-log-format", "json", "-demo=false"}, tt.args...), nil)
			first, _, _ := strings.Cut(logs.String(), "\n")
			assert.Contains(t, first, tt.want)
		})
	}
}

// TestCookieExchangeOnlyWhenConfigured: in real mode without the cookie
// exchange's secrets, its routes and user.json are absent and the first
// log lines say so; with both they are served.
func TestCookieExchangeOnlyWhenConfigured(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers (run without -short)")
	}
	real := []string{"-addr", "127.0.0.1:0", "-log-format", "json",
		"-cognito-issuer", "http://127.0.0.1:1/pool", "-cognito-jwks-url", "http://127.0.0.1:1/jwks",
		"-cognito-client-id", "app", "-lob-client", "cid:01", "-ciino-claim", "custom:ciino"}
	paths := []string{"/services/v2/auth/cookiesso/token.json", "/services/v2/auth/token.json", "/services/v2/user.json"}

	logs, base := runInProcess(t, real, map[string]string{"SSO_SECRET": e2eSecret})
	lines := strings.Split(logs.String(), "\n")
	assert.Contains(t, lines[1], `"msg":"cookie exchange off: no -cookie-secret (COOKIE_SECRET) and -api-secret (API_SECRET); POST /services/v2/auth/cookiesso/token.json, POST /services/v2/auth/token.json and GET /services/v2/user.json answer 404"`)
	for _, path := range paths {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			res, _ := do(t, mustRequest(t, method, base+path))
			assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s", method, path)
		}
	}
	res, _ := do(t, mustRequest(t, http.MethodPost, base+"/v2/get_sso_token"))
	assert.NotEqual(t, http.StatusNotFound, res.StatusCode, "GenerateSSOToken is served")

	logs, base = runInProcess(t, real, map[string]string{"SSO_SECRET": e2eSecret,
		"COOKIE_SECRET": "a cookie secret that is 32+ bytes long", "API_SECRET": "an API secret that is 32+ bytes long!"})
	assert.NotContains(t, logs.String(), "cookie exchange off")
	for _, path := range paths {
		res, body := do(t, mustRequest(t, http.MethodPost, base+path))
		assert.NotEqual(t, http.StatusNotFound, res.StatusCode, "POST %s: %s", path, body)
	}
}

// TestCertReloader: a pair that does not load keeps the one in use and is
// logged once per change of the files, not at every check; unchanged
// files are not read again; a fixed pair is taken.
func TestCertReloader(t *testing.T) {
	first, second := validCert(t, "first"), validCert(t, "second")
	certFile, keyFile := certFiles(t, first)
	pair, err := loadPair(certFile, keyFile, time.Now())
	require.NoError(t, err)
	var logs syncBuffer
	r := newCertReloader(certFile, keyFile, pair, newLogger("json", &logs))
	served := func() *x509.Certificate {
		c, err := r.tlsConfig().GetCertificate(&tls.ClientHelloInfo{})
		require.NoError(t, err)
		return c.Leaf
	}

	r.reload(false)
	assert.Empty(t, logs.String(), "unchanged files are not read again")
	assert.True(t, served().Equal(first.leaf))

	replaceFile(t, keyFile, second.keyPEM) // the key first, as a rotation might write it
	for range 3 {
		r.reload(false)
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "TLS certificate not reloaded"), "logged once: %s", logs.String())
	assert.Contains(t, logs.String(), `"reason":"tls: private key does not match public key"`)
	assert.True(t, served().Equal(first.leaf), "the pair in use is kept")

	replaceFile(t, certFile, second.certPEM)
	r.reload(false)
	assert.True(t, served().Equal(second.leaf))
	assert.Contains(t, logs.String(), `"msg":"TLS certificate reloaded","subject":"CN=second","names":"127.0.0.1"`)

	require.NoError(t, os.Remove(certFile))
	r.reload(false)
	r.reload(false)
	assert.Equal(t, 2, strings.Count(logs.String(), "TLS certificate not reloaded"), "a missing file is logged once: %s", logs.String())
	assert.True(t, served().Equal(second.leaf))

	replaceFile(t, certFile, second.certPEM)
	r.reload(true)
	assert.Contains(t, logs.String(), `"same_certificate":true`, "a forced reload of the same pair says so")
}
