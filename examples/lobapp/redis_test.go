package main

import (
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedisUnavailable: with a Redis that does not answer, /readyz says
// so (503), and a TokenNo is refused 502 replay_store_unavailable: the
// store fails closed.
func TestRedisUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	a, err := newApp(appConfig{secret: testSecret, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now, redisAddr: addr})
	require.NoError(t, err)
	t.Cleanup(a.Close)

	// The three at once: each fails fast (one retry of a refused dial,
	// internal/redisaddr), and together they show no answer waits on
	// another.
	signer := newSigner(t, clk)
	api, browser := issueTo(t, signer, "10001XXX", "D"), issueTo(t, signer, "10001XXX", "D")
	var ready, apiRec, browserRec *httptest.ResponseRecorder
	var wg sync.WaitGroup
	wg.Go(func() {
		ready = httptest.NewRecorder()
		a.ServeHTTP(ready, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	})
	wg.Go(func() { apiRec = post(a, api, "") })
	wg.Go(func() { browserRec = post(a, browser, browserAccept) })
	wg.Wait()

	assert.Equal(t, http.StatusServiceUnavailable, ready.Code)
	assert.Contains(t, ready.Body.String(), "not ready: ")
	assert.Equal(t, http.StatusBadGateway, apiRec.Code)
	assert.Contains(t, apiRec.Body.String(), `"ErrorCode":"replay_store_unavailable"`)
	assert.Empty(t, apiRec.Result().Cookies())
	assert.Equal(t, http.StatusBadGateway, browserRec.Code)
	assert.Contains(t, browserRec.Body.String(), "The LOB cannot check this TokenNo right now")
	assert.Contains(t, browserRec.Body.String(), `<code id="code">replay_store_unavailable</code>`)
}

// TestRedisSharedByInstances: two lobapp instances, each with its own
// Redis client and the same -session-key, share single use and
// sessions: a TokenNo accepted by one is refused by the other, and a
// session begun at one is a session at the other. Against the Redis at
// SSOKIT_REDIS_ADDR, and the Redis Cluster at SSOKIT_REDIS_CLUSTER_ADDRS
// (host:port,host:port,...: -redis-addr's cluster form) when set.
func TestRedisSharedByInstances(t *testing.T) {
	for _, env := range []string{"SSOKIT_REDIS_ADDR", "SSOKIT_REDIS_CLUSTER_ADDRS"} {
		t.Run(env, func(t *testing.T) {
			addr := os.Getenv(env)
			if addr == "" {
				t.Skip("needs a Redis server: set " + env + "=127.0.0.1:6379 (SSOKIT_REDIS_CLUSTER_ADDRS: a cluster's host:port,host:port,...), or run .ci/run, which starts them")
			}
			clk := &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
			instances := make([]*app, 2)
			for i := range instances {
				a, err := newApp(appConfig{secret: testSecret, sessionKeyText: testSessionKey, lob: "XX", leeway: 30 * time.Second, maxLifetime: time.Hour, now: clk.now, redisAddr: addr})
				require.NoError(t, err)
				t.Cleanup(a.Close)
				rec := httptest.NewRecorder()
				a.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
				require.Equal(t, http.StatusOK, rec.Code, "instance %d: %s", i, rec.Body.String())
				instances[i] = a
			}
			one, two := instances[0], instances[1]
			signer := newSigner(t, clk)
			// The tests' clock stands still, so this run's tokens differ
			// from an earlier run's, still in Redis, by their Functionality.
			run := "D-" + rand.Text()[:10]

			tok := issueTo(t, signer, "10001XXX", run)
			rec := post(one, tok, "")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			session := sessionOf(t, rec)
			rec = post(two, tok, "")
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Contains(t, rec.Body.String(), `"ErrorCode":"token_replayed"`, "accepted by one instance, refused by the other")

			tok = issueTo(t, signer, "10001XXX", run)
			require.Equal(t, http.StatusOK, post(two, tok, "").Code)
			assert.Contains(t, post(one, tok, "").Body.String(), `"ErrorCode":"token_replayed"`, "and the other way round")

			rec = get(two, session)
			assert.Equal(t, http.StatusOK, rec.Code, "a session begun at one instance, at the other")
			assert.Contains(t, rec.Body.String(), "for functionality "+run)

			// Each token is redeemed once among any number of concurrent
			// attempts at both instances.
			tok = issueTo(t, signer, "10001XXX", run)
			results := make(chan int, 16)
			for i := range 16 {
				go func() { results <- post(instances[i%2], tok, "").Code }()
			}
			ok := 0
			for range 16 {
				if <-results == http.StatusOK {
					ok++
				}
			}
			assert.Equal(t, 1, ok, "one of 16 concurrent redemptions")
		})
	}
}
