package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCognitoLocal runs ssoserver in real mode against cognito-local
// (https://github.com/jagregory/cognito-local, npm cognito-local@5.3.0),
// an emulator of Cognito's user-pool API that is not ours: the dev mode's
// stand-in and the unit tests' fakes share our reading of Cognito's tokens,
// and an independent implementation catches what they share. The test
// creates a user pool, app clients and a user through Cognito's JSON API,
// signs in with USER_PASSWORD_AUTH, and calls GenerateSSOToken as the
// document's fetch sample does, with the access token cognito-local issued.
//
// cognito-local is found, in this order, as:
//
//   - SSOKIT_COGNITO_LOCAL=http://127.0.0.1:PORT: one already running on
//     loopback, whose TokenConfig.IssuerDomain (.cognito/config.json in its
//     working directory) is that same URL;
//   - SSOKIT_COGNITO_LOCAL_DIR: the directory it was installed into with
//     `npm install cognito-local@5.3.0` (.ci/run sets it);
//   - that directory's default, the user cache directory's
//     ssokit/cognito-local-5.3.0 (where .ci/run installs it);
//   - cognito-local on PATH.
//
// The last three are started here on a free loopback port, in a temporary
// working directory, and stopped when the test ends. cognito-local 5.3.0
// needs a Node.js that can require() ES modules (20.19 or later, or 22.12
// or later): the directory's node_modules/.bin/node if there is one
// (.ci/run installs one there when the system's Node is older), else node
// on PATH. Without any of them the test skips.
func TestCognitoLocal(t *testing.T) {
	base := cognitoLocal(t)
	ssoserverBin, _ := programs(t)
	idp := &cognitoAPI{base: base}

	// One pool, the user, and three app clients: the portal's (accepted,
	// bound to the sample's x-lob-client-id), another accepted one (bound to
	// a registration of its own), and one that ssoserver does not accept.
	pool := idp.createPool(t, "ssokit-e2e")
	portal := idp.createClient(t, pool, "portal")
	other := idp.createClient(t, pool, "other-portal")
	stranger := idp.createClient(t, pool, "not-accepted")
	const username, password = "alice@example.com", "Corr3ct-Horse-Battery!"
	sub := idp.createUser(t, pool, username, password)

	issuer := base + "/" + pool
	jwksURL := issuer + "/.well-known/jwks.json"
	access, id := idp.signIn(t, portal, username, password)
	otherAccess, _ := idp.signIn(t, other, username, password)
	strangerAccess, _ := idp.signIn(t, stranger, username, password)

	// A second pool of the same cognito-local: it signs every pool's tokens
	// with the same key ("kid":"CognitoLocal"), so only "iss" tells them
	// apart.
	pool2 := idp.createPool(t, "ssokit-e2e-2")
	portal2 := idp.createClient(t, pool2, "portal")
	idp.createUser(t, pool2, username, password)
	access2, _ := idp.signIn(t, portal2, username, password)

	// What cognito-local issued, as ssoserver reads it (the signature left
	// out): a mismatch here names the difference from Cognito's tokens that
	// the 401 below would only summarize.
	header, payload := jwtParts(t, access)
	t.Logf("cognito-local's access token, header: %s", header)
	t.Logf("cognito-local's access token, payload: %s", payload)
	var h struct{ Alg, Kid string }
	require.NoError(t, json.Unmarshal(header, &h))
	assert.Equal(t, "RS256", h.Alg, "alg: ssoserver accepts RS256 only")
	assert.NotEmpty(t, h.Kid, "kid: ssoserver refuses a token without one")
	var c struct {
		Iss      string `json:"iss"`
		TokenUse string `json:"token_use"`
		ClientID string `json:"client_id"`
		Sub      string `json:"sub"`
		Exp      int64  `json:"exp"`
	}
	require.NoError(t, json.Unmarshal(payload, &c))
	require.Equal(t, issuer, c.Iss, "iss: cognito-local's TokenConfig.IssuerDomain must be the URL it serves (%s), followed by the pool id", base)
	assert.Equal(t, "access", c.TokenUse)
	assert.Equal(t, portal, c.ClientID)
	assert.Equal(t, sub, c.Sub)
	assert.Greater(t, c.Exp, time.Now().Unix())
	_, idPayload := jwtParts(t, id)
	t.Logf("cognito-local's ID token, payload: %s", idPayload)

	const lobClient, otherLOBClient = "1RrLMyLrZGA=", "b3RoZXItcG9ydGFs"
	const ssoSecret = "the cognito-local test's SSO secret, 32+ bytes"
	srv := start(t, ssoserverBin, []string{
		"SSO_SECRET=" + ssoSecret,
		"COOKIE_SECRET=the cognito-local test's cookie secret, 32+ bytes",
		"API_SECRET=the cognito-local test's API secret, 32+ bytes",
	},
		"-addr", "127.0.0.1:0", "-log-format", "json",
		"-cognito-issuer", issuer, "-cognito-jwks-url", jwksURL,
		"-cognito-client-id", portal, "-cognito-client-id", other,
		"-lob-client", lobClient+":01,XX@"+portal,
		"-lob-client", otherLOBClient+":02@"+other,
		// cognito-local's access tokens, like Cognito's, carry no custom
		// attribute that could hold the CIINo.
		"-insecure-unbound-ciino",
	)
	api := "http://" + srv.waitLog(t, regexp.MustCompile(`"msg":"listening","addr":"(127\.0\.0\.1:\d+)"`))[1]
	sample := `{"CIINo":"10001XXX","LOBId":"XX","Functionality":"D"}` // JSON.stringify of the sample's body

	t.Run("the fetch sample with cognito-local's access token", func(t *testing.T) {
		status, res := getSSOToken(t, api, access, lobClient, sample)
		require.Equal(t, http.StatusOK, status, "ErrorCode %s; ssoserver's log: %s", res.ErrorCode, srv.logs())
		assert.Equal(t, 1, res.ReturnCode)
		assert.Equal(t, "Token Generated successfully", res.ReturnMessage)
		assert.Regexp(t, `^\d{15}$`, res.TokenRefNo)
		claims := verifyTokenNo(t, res.TokenNo, ssoSecret)
		assert.Equal(t, "10001XXX", claims["CIINo"])
		assert.Equal(t, "XX", claims["LOBId"])
		assert.Equal(t, "D", claims["Functionality"])
		// The audit record: ssoserver saw the user of cognito-local's pool.
		srv.waitLog(t, regexp.MustCompile(`"msg":"GenerateSSOToken"[^\n]*"token_ref_no":"`+res.TokenRefNo+`"[^\n]*"client_id":"`+regexp.QuoteMeta(lobClient)+`"[^\n]*"subject":"`+regexp.QuoteMeta(sub)+`"`))
	})

	t.Run("the curl sample: the same access token after Bearer", func(t *testing.T) {
		status, res := getSSOToken(t, api, "Bearer "+access, lobClient, sample)
		require.Equal(t, http.StatusOK, status, "ErrorCode %s", res.ErrorCode)
		assert.Equal(t, 1, res.ReturnCode)
		assert.Regexp(t, `^\d{15}$`, res.TokenRefNo)
	})

	t.Run("the other accepted app client, with its own registration", func(t *testing.T) {
		status, res := getSSOToken(t, api, otherAccess, otherLOBClient, `{"CIINo":"10001XXX","LOBId":"02","Functionality":"D"}`)
		require.Equal(t, http.StatusOK, status, "ErrorCode %s", res.ErrorCode)
		assert.Equal(t, 1, res.ReturnCode)
	})

	refusals := []struct {
		name, token, lobClient string
		status                 int
		code                   string
	}{
		{"the ID token where an access token is expected", id, lobClient, http.StatusUnauthorized, "wrong_token_use"},
		{"an access token of an app client ssoserver does not accept", strangerAccess, lobClient, http.StatusUnauthorized, "wrong_client"},
		// Authenticated, but the x-lob-client-id is bound to the portal's
		// app client: a registration question.
		{"an access token of the other accepted app client, with the portal's x-lob-client-id", otherAccess, lobClient, http.StatusForbidden, "unknown_client"},
		{"an access token of another pool, signed with the same key", access2, lobClient, http.StatusUnauthorized, "wrong_issuer"},
		{"the access token with its signature cut", access[:strings.LastIndexByte(access, '.')+1], lobClient, http.StatusUnauthorized, "bad_signature"},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			status, res := getSSOToken(t, api, r.token, r.lobClient, sample)
			assert.Equal(t, r.status, status)
			assert.Equal(t, 0, res.ReturnCode)
			assert.Equal(t, r.code, res.ErrorCode)
			assert.Empty(t, res.TokenNo)
		})
	}

	srv.waitLog(t, regexp.MustCompile(fmt.Sprintf(`(?s)(?:"msg":"GenerateSSOToken".*){%d}`, 3+len(refusals))))
	for _, secret := range []string{access, id, otherAccess, strangerAccess, access2, ssoSecret} {
		assert.NotContains(t, srv.logs(), secret, "a credential in ssoserver's log")
	}
}

// ssoResponse is GenerateSSOToken's envelope, and ssoserver's ErrorCode
// on a failure.
type ssoResponse struct {
	ReturnCode                                    int
	ReturnMessage, TokenRefNo, TokenNo, ErrorCode string
}

// getSSOToken calls POST /v2/get_sso_token as the document's fetch sample
// does: its headers, the token bare in Authorization (or as given), and
// body.
func getSSOToken(t *testing.T, api, authorization, lobClient, body string) (int, ssoResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, api+"/v2/get_sso_token", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("x-api-version", "1.0.0")
	req.Header.Set("x-lob-client-id", lobClient)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", authorization)
	res, err := httpClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	require.NoError(t, err)
	var out ssoResponse
	require.NoError(t, json.Unmarshal(b, &out), "GenerateSSOToken answered %d: %s", res.StatusCode, b)
	return res.StatusCode, out
}

// verifyTokenNo checks the TokenNo's HS256 signature with secret and
// returns its claims.
func verifyTokenNo(t *testing.T, token, secret string) map[string]any {
	t.Helper()
	header, payload := jwtParts(t, token)
	var h struct{ Alg string }
	require.NoError(t, json.Unmarshal(header, &h))
	require.Equal(t, "HS256", h.Alg)
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	require.NoError(t, err)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token[:i]))
	require.True(t, hmac.Equal(sig, mac.Sum(nil)), "the TokenNo's signature does not verify with SSO_SECRET")
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

// jwtParts returns the decoded header and payload of a JWT.
func jwtParts(t *testing.T, token string) (header, payload []byte) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3, "a JWT has three segments")
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	payload, err = base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	return header, payload
}

// httpClient bounds every call of the test.
var httpClient = &http.Client{Timeout: 15 * time.Second}

// cognitoAPI calls cognito-local's user-pool API as the AWS SDKs call
// Cognito's: POST / with the action in X-Amz-Target and JSON 1.1 bodies.
type cognitoAPI struct{ base string }

func (c *cognitoAPI) call(t *testing.T, action string, in, out any) {
	t.Helper()
	body, err := json.Marshal(in)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, c.base+"/", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+action)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	res, err := httpClient.Do(req)
	require.NoError(t, err, "cognito-local %s", action)
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "cognito-local %s: %s", action, b)
	if out != nil {
		require.NoError(t, json.Unmarshal(b, out), "cognito-local %s: %s", action, b)
	}
}

func (c *cognitoAPI) createPool(t *testing.T, name string) string {
	t.Helper()
	var out struct{ UserPool struct{ Id string } }
	c.call(t, "CreateUserPool", map[string]any{"PoolName": name}, &out)
	require.NotEmpty(t, out.UserPool.Id)
	return out.UserPool.Id
}

func (c *cognitoAPI) createClient(t *testing.T, pool, name string) string {
	t.Helper()
	var out struct{ UserPoolClient struct{ ClientId string } }
	c.call(t, "CreateUserPoolClient", map[string]any{
		"UserPoolId": pool, "ClientName": name,
		"ExplicitAuthFlows": []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}, &out)
	require.NotEmpty(t, out.UserPoolClient.ClientId)
	return out.UserPoolClient.ClientId
}

// createUser creates a confirmed user with a permanent password and
// returns its sub.
func (c *cognitoAPI) createUser(t *testing.T, pool, username, password string) string {
	t.Helper()
	var out struct {
		User struct {
			Attributes []struct{ Name, Value string }
		}
	}
	c.call(t, "AdminCreateUser", map[string]any{
		"UserPoolId": pool, "Username": username, "MessageAction": "SUPPRESS",
		"UserAttributes": []map[string]string{{"Name": "email", "Value": username}, {"Name": "email_verified", "Value": "true"}},
	}, &out)
	c.call(t, "AdminSetUserPassword", map[string]any{
		"UserPoolId": pool, "Username": username, "Password": password, "Permanent": true,
	}, nil)
	for _, a := range out.User.Attributes {
		if a.Name == "sub" {
			return a.Value
		}
	}
	t.Fatalf("AdminCreateUser returned no sub: %+v", out)
	return ""
}

// signIn runs InitiateAuth USER_PASSWORD_AUTH and returns the access and
// ID tokens.
func (c *cognitoAPI) signIn(t *testing.T, client, username, password string) (access, id string) {
	t.Helper()
	var out struct {
		AuthenticationResult struct{ AccessToken, IdToken string }
	}
	c.call(t, "InitiateAuth", map[string]any{
		"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
		"AuthParameters": map[string]string{"USERNAME": username, "PASSWORD": password},
	}, &out)
	require.NotEmpty(t, out.AuthenticationResult.AccessToken)
	require.NotEmpty(t, out.AuthenticationResult.IdToken)
	return out.AuthenticationResult.AccessToken, out.AuthenticationResult.IdToken
}

// cognitoLocalVersion is the release the test is written against.
const cognitoLocalVersion = "5.3.0"

// cognitoLocal returns the base URL of a cognito-local on loopback: the
// one SSOKIT_COGNITO_LOCAL names, or one started for the test. It skips
// the test when there is neither.
func cognitoLocal(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("cognito-local test: builds ssoserver and starts cognito-local (run without -short)")
	}
	if base := os.Getenv("SSOKIT_COGNITO_LOCAL"); base != "" {
		u, err := url.Parse(base)
		require.NoError(t, err, "SSOKIT_COGNITO_LOCAL")
		ip := net.ParseIP(u.Hostname())
		require.True(t, u.Scheme == "http" && u.Path == "" && (u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()),
			"SSOKIT_COGNITO_LOCAL=%s: want http://127.0.0.1:PORT, a cognito-local on loopback", base)
		require.NoError(t, waitHealthy(base, nil), "SSOKIT_COGNITO_LOCAL=%s", base)
		t.Logf("cognito-local at SSOKIT_COGNITO_LOCAL=%s", base)
		return base
	}
	node, script := findCognitoLocal(t)
	return startCognitoLocal(t, node, script)
}

// findCognitoLocal returns the Node.js binary and cognito-local's start
// script, or skips the test.
func findCognitoLocal(t *testing.T) (node, script string) {
	t.Helper()
	dir, explicit := os.Getenv("SSOKIT_COGNITO_LOCAL_DIR"), true
	if dir == "" {
		explicit = false
		if cache, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(cache, "ssokit", "cognito-local-"+cognitoLocalVersion)
		}
	}
	if dir != "" {
		pkg := filepath.Join(dir, "node_modules", "cognito-local")
		if _, err := os.Stat(filepath.Join(pkg, "package.json")); err == nil {
			script = startScript(t, pkg)
			if n := filepath.Join(dir, "node_modules", ".bin", "node"); isFile(n) {
				node = n
			}
		} else if explicit {
			t.Fatalf("SSOKIT_COGNITO_LOCAL_DIR=%s holds no node_modules/cognito-local: npm install cognito-local@%s there", dir, cognitoLocalVersion)
		}
	}
	if script == "" {
		if bin, err := exec.LookPath("cognito-local"); err == nil {
			if real, err := filepath.EvalSymlinks(bin); err == nil {
				script = real
			}
		}
	}
	if node == "" {
		node, _ = exec.LookPath("node")
	}
	if script == "" || node == "" {
		t.Skipf("cognito-local test: no cognito-local (or no node) found. Run `npm install cognito-local@%s` in a directory of its own and set "+
			"SSOKIT_COGNITO_LOCAL_DIR to it, or put cognito-local on PATH, or start one on loopback (TokenConfig.IssuerDomain in its "+
			".cognito/config.json equal to its URL) and set SSOKIT_COGNITO_LOCAL=http://127.0.0.1:PORT; .ci/run does the first", cognitoLocalVersion)
	}
	return node, script
}

// startScript returns the start script of the cognito-local package in
// pkg (its package.json's "bin"), and logs its version.
func startScript(t *testing.T, pkg string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	require.NoError(t, err)
	var p struct {
		Version string
		Bin     json.RawMessage
	}
	require.NoError(t, json.Unmarshal(b, &p))
	var bin string
	if json.Unmarshal(p.Bin, &bin) != nil {
		var bins map[string]string
		require.NoError(t, json.Unmarshal(p.Bin, &bins), "%s/package.json: bin", pkg)
		bin = bins["cognito-local"]
	}
	require.NotEmpty(t, bin, "%s/package.json names no start script", pkg)
	if p.Version != cognitoLocalVersion {
		t.Logf("cognito-local %s, not the %s this test is written against", p.Version, cognitoLocalVersion)
	}
	return filepath.Join(pkg, filepath.FromSlash(bin))
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// startCognitoLocal starts cognito-local on a free loopback port, with
// its issuer on that port, in a temporary working directory (its
// .cognito/config.json and database), and stops it when the test ends.
func startCognitoLocal(t *testing.T, node, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	version, err := exec.CommandContext(ctx, node, "--version").Output()
	require.NoError(t, err, "%s --version", node)
	for attempt := 1; ; attempt++ {
		// A port taken between this probe and cognito-local's bind makes it
		// exit with EADDRINUSE, and another port is tried.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		require.NoError(t, ln.Close())
		base := "http://127.0.0.1:" + strconv.Itoa(port)

		dir := t.TempDir()
		config, err := json.Marshal(map[string]any{"TokenConfig": map[string]any{"IssuerDomain": base}})
		require.NoError(t, err)
		require.NoError(t, os.Mkdir(filepath.Join(dir, ".cognito"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".cognito", "config.json"), config, 0o644))

		log := &syncBuffer{}
		cmd := exec.Command(node, script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"HOST=127.0.0.1", // cognito-local's listen address (its default, localhost, may be ::1 only)
			"PORT="+strconv.Itoa(port),
			"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1",
		)
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(t, cmd.Start(), "starting %s %s", node, script)
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})

		err = waitHealthy(base, exited)
		switch {
		case err == nil:
			t.Logf("cognito-local (%s, node %s) on %s", script, strings.TrimSpace(string(version)), base)
			return base
		case errors.Is(err, errExited) && strings.Contains(log.String(), "EADDRINUSE") && attempt < 3:
			continue
		case strings.Contains(log.String(), "ERR_REQUIRE_ESM"):
			t.Fatalf("cognito-local %s needs a Node.js that can require() ES modules (20.19 or later, or 22.12 or later), not %s "+
				"(put one at SSOKIT_COGNITO_LOCAL_DIR/node_modules/.bin/node, as .ci/run does, or first on PATH); its output:\n%s",
				cognitoLocalVersion, strings.TrimSpace(string(version)), log.String())
		}
		t.Fatalf("cognito-local on %s: %v; its output:\n%s", base, err, log.String())
	}
}

var errExited = errors.New("cognito-local exited")

// waitHealthy polls cognito-local's GET /health for 30 s at most, until
// it answers 200 or exited is closed.
func waitHealthy(base string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		res, err := client.Get(base + "/health")
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<10))
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /health: %s", res.Status)
		}
		last = err
		select {
		case <-exited:
			return errExited
		case <-time.After(50 * time.Millisecond): // polling a starting process, not waiting out a timer
		}
	}
	return fmt.Errorf("not healthy within 30 s: %v", last)
}

// syncBuffer collects a child process's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
