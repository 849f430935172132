package cognito

import (
	"context"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSameKIDInTwoPoolsEitherOrder strengthens TestSameKIDInTwoPools: two
// pools publish the same kid under their own keys, configured in either
// order; a token of each pool verifies only under its own pool's key and
// names that pool, cold and from the cache, and a token under either key
// that names the other pool, or no pool, is refused.
func TestSameKIDInTwoPoolsEitherOrder(t *testing.T) {
	k := getKeys(t)
	fa := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "shared")))
	fb := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.other, "shared")))
	poolA := Pool{Issuer: testIssuer, JWKSURL: fa.srv.URL + "/jwks.json"}
	poolB := Pool{Issuer: otherIssuer, JWKSURL: fb.srv.URL + "/jwks.json"}
	for _, order := range []struct {
		name  string
		pools []Pool
	}{{"A first", []Pool{poolA, poolB}}, {"B first", []Pool{poolB, poolA}}} {
		t.Run(order.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.UserPoolID, cfg.Pools = "", order.pools
			a := newRemote(t, cfg)
			ctx := ctxTimeout(t, testDeadline)
			for _, tt := range []struct {
				name  string
				key   *rsa.PrivateKey
				iss   string
				codes []string // nil: accepted
			}{
				{"pool A's token", k.k1, testIssuer, nil},
				{"pool B's token", k.other, otherIssuer, nil},
				{"A's key, B's issuer", k.k1, otherIssuer, []string{ssotoken.CodeBadSignature}},
				{"B's key, A's issuer", k.other, testIssuer, []string{ssotoken.CodeBadSignature}},
				// Naming no pool, the token meets the first pool's key: a
				// forgery under the other's, a wrong issuer under its own.
				{"A's key, no pool's issuer", k.k1, "https://example.com/x", []string{ssotoken.CodeWrongIssuer, ssotoken.CodeBadSignature}},
				{"B's key, no pool's issuer", k.other, "https://example.com/x", []string{ssotoken.CodeWrongIssuer, ssotoken.CodeBadSignature}},
				{"A's key, no issuer", k.k1, "", []string{ssotoken.CodeWrongIssuer, ssotoken.CodeBadSignature}},
			} {
				tok := sign(t, tt.key, "shared", with(accessClaims(), "iss", tt.iss))
				for _, pass := range []string{"cold", "again"} {
					p, err := a.Authenticate(ctx, tok)
					if tt.codes == nil {
						require.NoError(t, err, "%s, %s", tt.name, pass)
						assert.Equal(t, tt.iss, p.Issuer, "%s, %s", tt.name, pass)
						continue
					}
					assert.Nil(t, p)
					assert.ErrorIs(t, err, ssotoken.ErrUnauthorized, "%s, %s", tt.name, pass)
					assert.Contains(t, tt.codes, ssotoken.CodeOf(err), "%s, %s: %v", tt.name, pass, err)
				}
			}
			assert.Equal(t, 2, a.Stats().CacheEntries, "the two genuine tokens only")
		})
	}
}

// TestSameKeyInTwoPools: local stand-ins often publish one key under one
// kid for several pools. A token then verifies under either pool's copy,
// and is the token of the pool its "iss" names, never of the other.
func TestSameKeyInTwoPools(t *testing.T) {
	k := getKeys(t)
	jwks := jwksJSON(t, jwkOf(t, k.k1, "shared"))
	fa, fb := newFakeCognito(t, jwks), newFakeCognito(t, jwks)
	cfg := fa.config()
	cfg.Pools = []Pool{{Issuer: otherIssuer, JWKSURL: fb.srv.URL + "/jwks.json"}}
	a := newRemote(t, cfg)
	ctx := ctxTimeout(t, testDeadline)
	for _, iss := range []string{testIssuer, otherIssuer, testIssuer} {
		p, err := a.Authenticate(ctx, sign(t, k.k1, "shared", with(accessClaims(), "iss", iss)))
		require.NoError(t, err)
		assert.Equal(t, iss, p.Issuer)
	}
	_, err := a.Authenticate(ctx, sign(t, k.k1, "shared", with(accessClaims(), "iss", "https://example.com/x")))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeWrongIssuer)
}

// TestSameKIDWhileAPoolLoads: while the pool a token names has no keys
// yet (its JWKS is down), its token is not tried under another pool's
// key of the same kid (which would refuse a genuine token as forged): it
// gets jwks_unavailable (502), and verifies once the pool's keys arrive;
// the other pool's tokens verify all along.
func TestSameKIDWhileAPoolLoads(t *testing.T) {
	k := getKeys(t)
	fa := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "shared")))
	fb := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.other, "shared")))
	fb.mode.Store(modeDown)
	cfg := fa.config()
	cfg.Pools = []Pool{{Issuer: otherIssuer, JWKSURL: fb.srv.URL + "/jwks.json"}}
	cfg.RefetchInterval = MinRefetchInterval
	a := newRemote(t, cfg)
	ctx := ctxTimeout(t, testDeadline)
	aTok := sign(t, k.k1, "shared", accessClaims())
	bTok := sign(t, k.other, "shared", with(accessClaims(), "iss", otherIssuer))

	_, err := a.Authenticate(ctx, aTok)
	require.NoError(t, err)
	for range 3 {
		_, err = a.Authenticate(ctx, bTok)
		assert.ErrorIs(t, err, ssotoken.ErrUpstream)
		assert.Equal(t, ssotoken.CodeOf(ssotoken.ErrKeysUnavailable), ssotoken.CodeOf(err), "%v", err)
	}
	fb.mode.Store(modeOK)
	require.Eventually(t, func() bool {
		p, err := a.Authenticate(ctx, bTok)
		return err == nil && p.Issuer == otherIssuer
	}, testDeadline, 10*time.Millisecond)
	_, err = a.Authenticate(ctx, sign(t, k.k1, "shared", with(accessClaims(), "iss", otherIssuer)))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)
	_, err = a.Authenticate(context.Background(), aTok)
	assert.NoError(t, err)
}

// TestUnknownKIDFetchesOnlyTheNamedPool: a token with a kid no pool holds
// makes only the pool its "iss" names fetch its JWKS again; one naming no
// pool fetches nothing and is refused at once. So a flood of forged kids
// under one pool's issuer (or none) spends no other pool's allowance: a
// key the other pool rotates in meanwhile is accepted on its first token.
func TestUnknownKIDFetchesOnlyTheNamedPool(t *testing.T) {
	k := getKeys(t)
	fa := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "a1")))
	fb := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.other, "b1")))
	cfg := baseConfig()
	cfg.UserPoolID = ""
	cfg.Pools = []Pool{{Issuer: testIssuer, JWKSURL: fa.srv.URL + "/jwks.json"}, {Issuer: otherIssuer, JWKSURL: fb.srv.URL + "/jwks.json"}}
	cfg.RefetchInterval = time.Hour // one refetch per pool for the whole test
	a := newRemote(t, cfg)
	ctx := ctxTimeout(t, testDeadline)
	_, err := a.Authenticate(ctx, sign(t, k.k1, "a1", accessClaims()))
	require.NoError(t, err)
	_, err = a.Authenticate(ctx, sign(t, k.other, "b1", with(accessClaims(), "iss", otherIssuer)))
	require.NoError(t, err)
	require.Equal(t, int64(1), fa.hits.Load())
	require.Equal(t, int64(1), fb.hits.Load())

	for _, iss := range []any{"https://example.com/no-pool", "", 42} {
		start := time.Now()
		_, err := a.Authenticate(ctx, sign(t, k.k2, randomKID(t), with(accessClaims(), "iss", iss)))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
		assert.Less(t, time.Since(start), time.Second, "iss %v: refused without waiting", iss)
	}
	assert.Equal(t, int64(1), fa.hits.Load(), "a token naming no pool fetches nothing")
	assert.Equal(t, int64(1), fb.hits.Load(), "a token naming no pool fetches nothing")

	for range 20 { // forged kids under pool A's issuer: one fetch of A, none of B
		_, err := a.Authenticate(ctx, sign(t, k.k2, randomKID(t), accessClaims()))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	}
	assert.Equal(t, int64(2), fa.hits.Load(), "pool A fetched again once")
	assert.Equal(t, int64(1), fb.hits.Load(), "pool B not fetched for pool A's tokens")

	fb.setJWKS(jwksJSON(t, jwkOf(t, k.other, "b1"), jwkOf(t, k.k2, "b2")))
	p, err := a.Authenticate(ctx, sign(t, k.k2, "b2", with(accessClaims(), "iss", otherIssuer)))
	require.NoError(t, err, "pool B's rotation, its allowance unspent")
	assert.Equal(t, otherIssuer, p.Issuer)
	assert.Equal(t, int64(2), fb.hits.Load())
}
