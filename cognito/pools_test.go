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
