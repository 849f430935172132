package main

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/ssotokentest"
)

// TestMain fails the run if the tests leave a goroutine behind (the key
// set's refresh, say).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newJWKSApp returns an app that verifies with the JWKS of an ES256 test
// issuer, on a test clock, and that issuer's issue func.
func newJWKSApp(t *testing.T) (*app, *clock, *ssotokentest.Issuer, func() string) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	iss := ssotokentest.NewIssuer(t, ssotokentest.Algorithm(ssotoken.ES256), ssotokentest.Clock(clk.now))
	a, err := newApp(appConfig{jwksURL: iss.JWKSURL(), lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	issue := func() string {
		clk.add(time.Millisecond) // two tokens of one request in one millisecond are one token
		return iss.TokenNo(t, ssotoken.Request{CIINo: "10001XXX", LOBId: "XX", Functionality: "D"})
	}
	return a, clk, iss, issue
}

// With -sso-jwks-url the LOB verifies asymmetric TokenNo with the issuer's
// public keys: once each; after the issuer rotates, tokens of the new key
// and of the old one; once the old key is withdrawn and the set fetched
// again, no token of it.
func TestJWKSArrival(t *testing.T) {
	a, clk, iss, issue := newJWKSApp(t)
	tok := issue()
	rec := post(a, tok, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"CIINo":"10001XXX","LOBId":"XX","Functionality":"D"`)
	rec = post(a, tok, "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Body.String(), `"ErrorCode":"token_replayed"`)

	oldKey := iss.Keys().Active()
	beforeRotation, retired := issue(), issue()
	_, err := iss.Rotate() // the new key signs; the old one stays published
	require.NoError(t, err)
	for _, tok := range []string{issue(), beforeRotation} {
		rec = post(a, tok, "")
		assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}

	require.NoError(t, iss.Keys().Remove(oldKey.ID())) // the old key is withdrawn
	clk.add(ssotoken.DefaultRefetchInterval)
	stranger := ssotokentest.NewIssuer(t, ssotokentest.Algorithm(ssotoken.ES256), ssotokentest.Clock(clk.now))
	rec = post(a, stranger.TokenNo(t, ssotoken.Request{CIINo: "10001XXX", LOBId: "XX", Functionality: "D"}), "")
	assert.Contains(t, rec.Body.String(), `"ErrorCode":"unknown_key"`, "an unknown kid: the set is fetched again")
	rec = post(a, retired, browserAccept)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Body.String(), `<code id="code">unknown_key</code>`)
	assert.Contains(t, rec.Body.String(), "signed with a key the portal does not publish")
	rec = post(a, issue(), "")
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

// A JWKS that cannot be fetched: 502, with a page that says so.
func TestJWKSUnavailable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	url := down.URL + "/.well-known/jwks.json"
	down.Close()
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	a, err := newApp(appConfig{jwksURL: url, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now})
	require.NoError(t, err)
	defer a.Close()
	iss := ssotokentest.NewIssuer(t, ssotokentest.Algorithm(ssotoken.EdDSA), ssotokentest.Clock(clk.now))
	tok := iss.TokenNo(t, ssotoken.Request{CIINo: "10001XXX", LOBId: "XX", Functionality: "D"})

	rec := post(a, tok, "")
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	assert.Contains(t, rec.Body.String(), `"ErrorCode":"jwks_unavailable"`)
	rec = post(a, tok, browserAccept)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	assert.Contains(t, rec.Body.String(), "The portal&#39;s keys could not be fetched")
}

func TestParseOptions(t *testing.T) {
	const jwks = "http://127.0.0.1:8080/.well-known/jwks.json"
	env := func(secret string) func(string) string {
		return func(k string) string {
			if k == "SSO_SECRET" {
				return secret
			}
			return ""
		}
	}
	for _, tt := range []struct {
		name     string
		args     []string
		env      string
		parseErr string // from the command line
		appErr   string // from newApp
		check    func(t *testing.T, c appConfig)
	}{
		{name: "secret from the environment", env: testSecret, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, testSecret, c.secret)
			assert.Empty(t, c.jwksURL)
		}},
		{name: "secret flag over the environment", args: []string{"-sso-secret", testSecret}, env: "another", check: func(t *testing.T, c appConfig) {
			assert.Equal(t, testSecret, c.secret)
		}},
		{name: "JWKS, SSO_SECRET not read", args: []string{"-sso-jwks-url", jwks, "-sso-jwks-refetch", "2s", "-sso-jwks-refresh", "5m"}, env: testSecret, check: func(t *testing.T, c appConfig) {
			assert.Empty(t, c.secret)
			assert.Equal(t, jwks, c.jwksURL)
			assert.Equal(t, 2*time.Second, c.refetch)
			assert.Equal(t, 5*time.Minute, c.refresh)
		}},
		{name: "JWKS defaults", args: []string{"-sso-jwks-url", jwks}, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, ssotoken.DefaultRefetchInterval, c.refetch)
			assert.Equal(t, ssotoken.DefaultRefreshInterval, c.refresh)
		}},
		{name: "no key", appErr: "no TokenNo key: give the HS256 secret shared with the issuer (-sso-secret or SSO_SECRET), or the issuer's JWKS (-sso-jwks-url)"},
		{name: "short secret", args: []string{"-sso-secret", "short"}, appErr: "-sso-secret: ssotoken: HS256 secret is 5 bytes"},
		{name: "JWKS and secret", args: []string{"-sso-jwks-url", jwks, "-sso-secret", testSecret}, appErr: "-sso-jwks-url and -sso-secret are exclusive"},
		{name: "JWKS URL not http", args: []string{"-sso-jwks-url", "ftp://sso.example/jwks.json"}, appErr: `-sso-jwks-url, -sso-jwks-refresh or -sso-jwks-refetch: ssotoken: JWKS URL "ftp://sso.example/jwks.json" is not an http or https URL`},
		{name: "refetch too often", args: []string{"-sso-jwks-url", jwks, "-sso-jwks-refetch", "1ms"}, appErr: "RefetchInterval must be at least 100ms"},
		{name: "refetch without JWKS", args: []string{"-sso-jwks-refetch", "1s"}, env: testSecret, parseErr: "-sso-jwks-refresh and -sso-jwks-refetch need -sso-jwks-url"},
		{name: "refresh without JWKS", args: []string{"-sso-jwks-refresh", "1m"}, parseErr: "need -sso-jwks-url"},
		{name: "stray argument", args: []string{"extra"}, parseErr: `unexpected argument "extra"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, env(tt.env), &bytes.Buffer{})
			if tt.parseErr != "" {
				require.ErrorContains(t, err, tt.parseErr)
				return
			}
			require.NoError(t, err)
			o.app.lob = "XX"
			a, err := newApp(o.app)
			if tt.appErr != "" {
				require.ErrorContains(t, err, tt.appErr)
				return
			}
			require.NoError(t, err)
			a.Close()
			if tt.check != nil {
				tt.check(t, o.app)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := parseOptions([]string{"-h"}, func(string) string { return "a secret that -h must never show" }, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, s := range []string{"-sso-jwks-url URL", "-sso-jwks-refetch", "-sso-jwks-refresh", "-sso-secret", "SSO_SECRET", "/.well-known/jwks.json", "jwks_unavailable"} {
		assert.Contains(t, out.String(), s)
	}
	assert.NotContains(t, out.String(), "must never show")
	assert.True(t, strings.HasPrefix(out.String(), "Usage: lobapp [flags]"))
}
