package redisreplay_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// TestRedeemRedisGoneFailsClosed: a real client whose Redis is gone (every
// connection closed at once) gets 502 CodeUnavailable from Redeem, and
// from a Verifier's Verify, never "not the first redemption" without an
// error, which a Verifier would report as a replay. It needs no Redis (the
// proxy closes every connection), and fails in about a second: it is in
// a file that sorts before redis_test.go, so that with -failfast (as a
// mutation run tests) a store that stops failing closed is caught here,
// not by TestRedisOutageMidRun, which then walks a thousand tokens through
// a dead Redis.
func TestRedeemRedisGoneFailsClosed(t *testing.T) {
	p := newProxy(t, "127.0.0.1:1") // never dialled: the proxy is cut
	p.set(cut)
	client := newClient(t, p.Addr())
	store := newStore(t, redisreplay.Config{Client: client})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first, err := store.Redeem(ctx, "gone", time.Now().Add(time.Hour))
	assert.False(t, first)
	require.Error(t, err, "Redis is gone: the redemption must fail, not report a replay")
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)
	assert.Equal(t, redisreplay.CodeUnavailable, ssotoken.CodeOf(err))
	assert.Equal(t, http.StatusBadGateway, httpadapter.StatusFor(err))

	ring := testRing(t)
	tokens, _ := issueTokens(t, ring, 1)
	_, err = newVerifier(t, ring, store).Verify(ctx, tokens[0])
	require.Error(t, err)
	assert.Equal(t, redisreplay.CodeUnavailable, ssotoken.CodeOf(err), "%v", err)
	assert.NoError(t, ctx.Err(), "failed before the deadline")
}
