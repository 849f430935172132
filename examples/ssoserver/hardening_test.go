package main

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPathVariantsNeverBypass: no spelling of the
// path reaches the token endpoint past its checks, with or without the
// guard.
func TestPathVariantsNeverBypass(t *testing.T) {
	ssoserver, _ := binaries(t)
	guarded := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-allow-cidr", "10.0.0.0/8")
	dev := readDevOutput(t, guarded)

	noRedirects := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, path := range []string{
		"/v2/get_sso_token", "/v2/get_sso_token/", "//v2/get_sso_token", "/v2//get_sso_token",
		"/V2/GET_SSO_TOKEN", "/v2/get_sso_token%2F", "/v2/./get_sso_token", "/v2/x/../get_sso_token",
		"/services/v2/auth/cookiesso/token.json", "/services/v2/auth/token.json", "/services/v2/user.json",
	} {
		t.Run(path, func(t *testing.T) {
			r := curlRequest(t, dev.curls[0])
			r.URL = &url.URL{Scheme: "http", Host: strings.TrimPrefix(dev.base, "http://"), Opaque: path}
			res, err := noRedirects.Do(r)
			require.NoError(t, err)
			res.Body.Close()
			assert.NotEqual(t, http.StatusOK, res.StatusCode, "the guard refuses 127.0.0.1 on every path")
			assert.Contains(t, []int{http.StatusNotAcceptable, http.StatusNotFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusBadRequest}, res.StatusCode)
		})
	}
}

// TestSlowHeadersAreCut: a client that sends its
// headers slowly is disconnected by the server's ReadHeaderTimeout (5 s).
func TestSlowHeadersAreCut(t *testing.T) {
	ssoserver, _ := binaries(t)
	p := start(t, ssoserver, nil, "-addr", "127.0.0.1:0")
	dev := readDevOutput(t, p)

	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(dev.base, "http://"), 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("POST /v2/get_sso_token HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-version: 1.0.0\r\n"))
	require.NoError(t, err)

	start := time.Now()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(15*time.Second)))
	line, err := bufio.NewReader(conn).ReadString('\n')
	elapsed := time.Since(start)
	// The server gives up on the request: either a 408 and a close, or a
	// close alone; in both cases well before our own 15 s deadline.
	if err == nil {
		assert.Contains(t, line, "408")
	}
	assert.Less(t, elapsed, 12*time.Second, "the server cut the slow client")
}
