package main

import (
	"bufio"
	"fmt"
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

// TestSlowBodyIsCut: a body that trickles in (a byte every 100 ms, never
// idle) holds the connection until -read-timeout, not until -timeout.
func TestSlowBodyIsCut(t *testing.T) {
	ssoserver, _ := binaries(t)
	p := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-read-timeout", "1s", "-timeout", "45s")
	dev := readDevOutput(t, p)

	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(dev.base, "http://"), 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	body := `{"CIINo":"10001XXX","LOBId":"01","Functionality":"D"}`
	_, err = fmt.Fprintf(conn, "POST /v2/get_sso_token HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-version: 1.0.0\r\nx-lob-client-id: %s\r\n"+
		"Content-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n{", devLOBClient, dev.accessToken, len(body))
	require.NoError(t, err)
	start := time.Now()
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	line, err := bufio.NewReader(conn).ReadString('\n')
	elapsed := time.Since(start)
	if err == nil {
		assert.Contains(t, line, "504", "the body did not arrive in time")
	}
	assert.Less(t, elapsed, 6*time.Second, "cut by -read-timeout 1s, not -timeout 45s")
	t.Logf("a trickling body was cut after %s", elapsed.Round(10*time.Millisecond))
}

// TestClientDisconnectIsLogged: a client that goes away mid-body is
// logged as a client disconnect (499, refused), not as a 504.
func TestClientDisconnectIsLogged(t *testing.T) {
	ssoserver, _ := binaries(t)
	p := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-log-format", "json")
	dev := readDevOutput(t, p)

	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(dev.base, "http://"), 5*time.Second)
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "POST /v2/get_sso_token HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-version: 1.0.0\r\nx-lob-client-id: %s\r\n"+
		"Content-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{\"CIINo\":", devLOBClient, dev.accessToken)
	require.NoError(t, err)
	require.NoError(t, conn.Close())

	var record string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && record == ""; time.Sleep(50 * time.Millisecond) {
		for l := range strings.SplitSeq(p.logs(), "\n") {
			if strings.Contains(l, `"msg":"GenerateSSOToken"`) {
				record = l
			}
		}
	}
	require.NotEmpty(t, record, "an audit record within 10 s")
	assert.Contains(t, record, `"error_code":"client_disconnected"`)
	assert.Contains(t, record, `"status":499`)
	assert.Contains(t, record, `"outcome":"refused"`)
	assert.Contains(t, record, `"level":"INFO"`, "not a warning: the service did not fail")
}
