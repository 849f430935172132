package main

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/cognito/cognitotest"
)

// issueOnce calls GenerateSSOToken with tok and returns the status and
// the Retry-After header.
func issueOnce(t *testing.T, base, tok string) (int, string) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, base+"/v2/get_sso_token", strings.NewReader(`{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`))
	require.NoError(t, err)
	r.Header.Set("x-api-version", "1.0.0")
	r.Header.Set("x-lob-client-id", "cid")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tok)
	res, _ := do(t, r)
	return res.StatusCode, res.Header.Get("Retry-After")
}

// TestIssueLimit: one caller gets its burst, then 429 with Retry-After; a
// second caller is not affected.
func TestIssueLimit(t *testing.T) {
	pool := newFakePool(t)
	_, base := startReal(t, pool, "-issue-burst", "3", "-issue-rate", "1")
	mallory := pool.token(t, pool.k1)
	victim := credential(pool.AccessToken(t, cognitotest.With("sub", "a-victim-of-the-flood")))

	var codes []int
	for range 5 {
		status, retry := issueOnce(t, base, mallory)
		codes = append(codes, status)
		if status == http.StatusTooManyRequests {
			assert.Equal(t, "60", retry, "one a minute: the next in a minute at most")
		}
	}
	assert.Equal(t, []int{200, 200, 200, 429, 429}, codes)
	status, _ := issueOnce(t, base, victim)
	assert.Equal(t, http.StatusOK, status, "another caller has its own limit")
}

// TestIssueLimitSharedThroughRedis: two instances with
// -issue-limit-redis count one caller's tokens together.
func TestIssueLimitSharedThroughRedis(t *testing.T) {
	addr := os.Getenv("SSOKIT_REDIS_ADDR")
	if addr == "" {
		t.Skip("needs a Redis server: set SSOKIT_REDIS_ADDR=127.0.0.1:6379, or run .ci/run, which starts one")
	}
	pool := newFakePool(t) // its issuer URL is new, so the caller's key is too
	var bases []string
	for i := range 2 {
		_, base := startReal(t, pool, "-issue-burst", "4", "-issue-rate", "1", "-issue-limit-redis", addr,
			"-instances", "2", "-instance", string(rune('0'+i)))
		bases = append(bases, base)
	}
	tok := pool.token(t, pool.k1)
	ok := 0
	for i := range 10 {
		if status, _ := issueOnce(t, bases[i%2], tok); status == http.StatusOK {
			ok++
		}
	}
	assert.Equal(t, 4, ok, "the burst is shared, not 4 per instance")
}
