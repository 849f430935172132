package main

import (
	"bytes"
	"flag"
	"fmt"
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
	env := func(secret string, more map[string]string) func(string) string {
		return func(k string) string {
			if k == "SSO_SECRET" {
				return secret
			}
			return more[k]
		}
	}
	for _, tt := range []struct {
		name     string
		args     []string
		env      string            // SSO_SECRET
		envs     map[string]string // the other variables
		parseErr string            // from the command line
		appErr   string            // from newApp
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

		{name: "no session key: a random one", env: testSecret, check: func(t *testing.T, c appConfig) {
			assert.Empty(t, c.sessionKeyText)
		}},
		{name: "session key from the environment", env: testSecret, envs: map[string]string{"SSO_SESSION_KEY": testSessionKey}, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, testSessionKey, c.sessionKeyText)
		}},
		{name: "session key flag over the environment", args: []string{"-session-key", testSessionKey}, env: testSecret, envs: map[string]string{"SSO_SESSION_KEY": "another"}, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, testSessionKey, c.sessionKeyText)
		}},
		{name: "short session key", env: testSecret, envs: map[string]string{"SSO_SESSION_KEY": "0123456789abcdef0123456789abcde"}, appErr: "-session-key (SSO_SESSION_KEY) is 31 bytes: at least 32"},
		{name: "session key is the TokenNo secret", args: []string{"-session-key", testSecret}, env: testSecret, appErr: "-session-key is the TokenNo secret"},
		{name: "session key with JWKS", args: []string{"-sso-jwks-url", jwks, "-session-key", testSessionKey}, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, testSessionKey, c.sessionKeyText)
		}},

		{name: "replay store defaults", env: testSecret, check: func(t *testing.T, c appConfig) {
			assert.Empty(t, c.redisAddr)
			assert.Equal(t, ssotoken.DefaultReplayEntries, c.replayEntries)
			assert.Equal(t, ssotoken.DefaultReplayEntriesPerCaller, c.replayPerCaller)
			assert.Equal(t, "memory", c.replayStoreName())
		}},
		{name: "replay store sizes", args: []string{"-replay-entries", "500", "-replay-entries-per-caller", "50"}, env: testSecret, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, 500, c.replayEntries)
			assert.Equal(t, 50, c.replayPerCaller)
		}},
		{name: "replay store sizes from the environment", env: testSecret, envs: map[string]string{"SSO_REPLAY_ENTRIES": "500", "SSO_REPLAY_ENTRIES_PER_CALLER": " 50 "}, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, 500, c.replayEntries)
			assert.Equal(t, 50, c.replayPerCaller)
		}},
		{name: "replay store size flag over the environment", args: []string{"-replay-entries", "7000"}, env: testSecret, envs: map[string]string{"SSO_REPLAY_ENTRIES": "5000"}, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, 7000, c.replayEntries)
		}},
		{name: "one CIINo may fill the store", args: []string{"-replay-entries", "10", "-replay-entries-per-caller", "10"}, env: testSecret},
		{name: "replay entries not a number", env: testSecret, envs: map[string]string{"SSO_REPLAY_ENTRIES": "1e5"}, parseErr: `SSO_REPLAY_ENTRIES="1e5": want a whole number`},
		{name: "replay entries flag not a number", args: []string{"-replay-entries", "many"}, parseErr: `invalid value "many" for flag -replay-entries`},
		{name: "no replay entries", args: []string{"-replay-entries", "0"}, parseErr: "-replay-entries (SSO_REPLAY_ENTRIES) is 0: the store must hold at least one TokenNo"},
		{name: "negative share", envs: map[string]string{"SSO_REPLAY_ENTRIES_PER_CALLER": "-1"}, parseErr: "-replay-entries-per-caller (SSO_REPLAY_ENTRIES_PER_CALLER) is -1: every CIINo must be able to redeem at least one TokenNo"},
		{name: "share over the store", args: []string{"-replay-entries", "500", "-replay-entries-per-caller", "501"}, parseErr: "-replay-entries-per-caller (501) is more than -replay-entries (500): one CIINo's share cannot be more than the whole store"},
		{name: "default share over the store", args: []string{"-replay-entries", "500"}, parseErr: "-replay-entries (500) is less than the default -replay-entries-per-caller (1000): give -replay-entries-per-caller too"},

		{name: "Redis", args: []string{"-redis-addr", "127.0.0.1:6379"}, env: testSecret, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, "127.0.0.1:6379", c.redisAddr)
			assert.Equal(t, "redis", c.replayStoreName())
		}},
		{name: "Redis from the environment", env: testSecret, envs: map[string]string{"SSO_REDIS_ADDR": "redis://:s3cret@127.0.0.1:6379/1"}, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, "redis://:s3cret@127.0.0.1:6379/1", c.redisAddr)
			assert.NotContains(t, fmt.Sprint(c.verification()...), "s3cret", "never in the log")
		}},
		{name: "Redis flag over the environment", args: []string{"-redis-addr", "10.0.0.1:7000,10.0.0.2:7000"}, env: testSecret, envs: map[string]string{"SSO_REDIS_ADDR": "127.0.0.1:6379"}, check: func(t *testing.T, c appConfig) {
			assert.Equal(t, "10.0.0.1:7000,10.0.0.2:7000", c.redisAddr)
		}},
		{name: "Redis URL that is not one", args: []string{"-redis-addr", "redis://:s3cret@127.0.0.1:port"}, env: testSecret, appErr: "-redis-addr: not a redis:// or rediss:// URL"},
		{name: "Redis and the memory store's size", args: []string{"-redis-addr", "127.0.0.1:6379", "-replay-entries-per-caller", "50"}, parseErr: "-replay-entries and -replay-entries-per-caller (SSO_REPLAY_ENTRIES, SSO_REPLAY_ENTRIES_PER_CALLER) size the memory replay store; with -redis-addr (SSO_REDIS_ADDR) TokenNo are redeemed in Redis"},
		{name: "Redis and the memory store's size, from the environment", envs: map[string]string{"SSO_REDIS_ADDR": "127.0.0.1:6379", "SSO_REPLAY_ENTRIES": "500"}, parseErr: "size the memory replay store; with -redis-addr"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, env(tt.env, tt.envs), &bytes.Buffer{})
			if tt.parseErr != "" {
				require.ErrorContains(t, err, tt.parseErr)
				return
			}
			require.NoError(t, err)
			o.app.lob = "XX"
			a, err := newApp(o.app)
			if tt.appErr != "" {
				require.ErrorContains(t, err, tt.appErr)
				assert.NotContains(t, err.Error(), "s3cret")
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
	for _, s := range []string{"-sso-jwks-url URL", "-sso-jwks-refetch", "-sso-jwks-refresh", "-sso-secret", "SSO_SECRET", "/.well-known/jwks.json", "jwks_unavailable",
		"-session-key key", "SSO_SESSION_KEY", "-redis-addr address", "SSO_REDIS_ADDR", "redis://", "-replay-entries int", "SSO_REPLAY_ENTRIES",
		"-replay-entries-per-caller int", "SSO_REPLAY_ENTRIES_PER_CALLER", "too_many_tokens", "(default 100000)", "(default 1000)"} {
		assert.Contains(t, out.String(), s)
	}
	assert.NotContains(t, out.String(), "must never show")
	assert.True(t, strings.HasPrefix(out.String(), "Usage: lobapp [flags]"))
}
