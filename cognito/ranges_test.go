package cognito

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigRanges: Validate (and so New and NewStatic) refuses every
// value out of its range, and accepts the values at the edges: a leeway
// of exactly MaxLeeway, a MaxTokenBytes of exactly MaxMaxTokenBytes, a
// RefetchInterval of exactly MinRefetchInterval.
func TestConfigRanges(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"a negative leeway", func(c *Config) { c.Leeway = -time.Nanosecond }, false},
		{"a leeway a nanosecond over MaxLeeway", func(c *Config) { c.Leeway = MaxLeeway + time.Nanosecond }, false},
		{"a leeway of exactly MaxLeeway", func(c *Config) { c.Leeway = MaxLeeway }, true},
		{"a negative MaxTokenBytes", func(c *Config) { c.MaxTokenBytes = -1 }, false},
		{"a MaxTokenBytes a byte over MaxMaxTokenBytes", func(c *Config) { c.MaxTokenBytes = MaxMaxTokenBytes + 1 }, false},
		{"a MaxTokenBytes of exactly MaxMaxTokenBytes", func(c *Config) { c.MaxTokenBytes = MaxMaxTokenBytes }, true},
		{"a MaxTokenBytes of one", func(c *Config) { c.MaxTokenBytes = 1 }, true},
		{"a negative CacheSize", func(c *Config) { c.CacheSize = -1 }, false},
		{"a CacheSize of one", func(c *Config) { c.CacheSize = 1 }, true},
		{"a negative FetchTimeout", func(c *Config) { c.FetchTimeout = -time.Second }, false},
		{"a negative MaxJWKSBytes", func(c *Config) { c.MaxJWKSBytes = -1 }, false},
		{"a MaxJWKSBytes of one", func(c *Config) { c.MaxJWKSBytes = 1 }, true},
		{"a negative RefreshInterval", func(c *Config) { c.RefreshInterval = -time.Minute }, false},
		{"a RefreshInterval of a nanosecond", func(c *Config) { c.RefreshInterval = time.Nanosecond }, true},
		{"a negative RefetchInterval", func(c *Config) { c.RefetchInterval = -time.Second }, false},
		{"a RefetchInterval a nanosecond under MinRefetchInterval", func(c *Config) { c.RefetchInterval = MinRefetchInterval - time.Nanosecond }, false},
		{"a RefetchInterval of exactly MinRefetchInterval", func(c *Config) { c.RefetchInterval = MinRefetchInterval }, true},
		{"no RefetchInterval (the default)", func(c *Config) { c.RefetchInterval = 0 }, true},
		{"a region that matches the pool id", func(c *Config) { c.Region = "eu-west-1" }, true},
		{"an issuer that matches the pool id", func(c *Config) { c.Issuer = testIssuer }, true},
		{"a GovCloud pool id", func(c *Config) { c.UserPoolID = "us-gov-west-1_Ab1" }, true},
		{"a pool id with no region", func(c *Config) { c.UserPoolID = "_Ab1" }, false},
		{"an issuer without a host", func(c *Config) { c.UserPoolID, c.Issuer = "", "https:///pool" }, false},
		{"a JWKS URL of another scheme", func(c *Config) { c.JWKSURL = "file:///etc/jwks.json" }, false},
		{"an empty client id among others", func(c *Config) { c.ClientIDs = []string{testClient, ""} }, false},
		{"an empty group among others", func(c *Config) { c.RequiredGroups = []string{"admin", ""} }, false},
		{"a second pool that names no pool", func(c *Config) { c.Pools = []Pool{{}} }, false},
		{"a second pool with another issuer", func(c *Config) { c.Pools = []Pool{{Issuer: otherIssuer}} }, true},
		{"pools only", func(c *Config) { c.UserPoolID, c.Pools = "", []Pool{{UserPoolID: testPoolID}} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// exactly returns mk(header, pad) of exactly n bytes, for a header that
// is {"alg":"RS256","kid":"k1"} with or without a space before its
// closing brace (base64url never encodes to 4k+1 characters, so one of
// the two reaches every length) and a pad of 'x's.
func exactly(t *testing.T, n int, mk func(header, pad string) string) string {
	t.Helper()
	for _, header := range []string{`{"alg":"RS256","kid":"k1"}`, `{"alg":"RS256","kid":"k1" }`} {
		base := len(mk(header, ""))
		for extra := max(0, (n-base)*3/4-4); extra <= n; extra++ {
			s := mk(header, strings.Repeat("x", extra))
			if len(s) == n {
				return s
			}
			if len(s) > n {
				break
			}
		}
	}
	t.Fatalf("no token of %d bytes", n)
	return ""
}

// TestMaxTokenBytesBoundary decides the boundary, which fails closed by
// one byte: a genuine token of exactly MaxTokenBytes (the default, 16 KiB,
// or a configured size) verifies; one byte more is token_too_large before
// any decoding.
func TestMaxTokenBytesBoundary(t *testing.T) {
	k := getKeys(t).k1
	payload := accessPayload(t)
	tok := exactly(t, DefaultMaxTokenBytes, func(header, pad string) string {
		return signRaw(t, k, header, strings.TrimSuffix(payload, "}")+`,"pad":"`+pad+`"}`)
	})
	ctx := context.Background()
	for _, max := range []int{0, DefaultMaxTokenBytes, DefaultMaxTokenBytes + 1} {
		cfg := baseConfig()
		cfg.MaxTokenBytes = max
		p, err := newStatic(t, cfg).Authenticate(ctx, tok)
		require.NoError(t, err, "MaxTokenBytes %d", max)
		assert.Equal(t, "jdoe", p.Username)
	}
	for _, tt := range []struct {
		max   int
		token string
	}{{0, tok + "A"}, {DefaultMaxTokenBytes - 1, tok}} {
		cfg := baseConfig()
		cfg.MaxTokenBytes = tt.max
		p, err := newStatic(t, cfg).Authenticate(ctx, tt.token)
		assert.Nil(t, p)
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeTokenTooLarge)
	}
}

// TestMaxLeewayBoundaries: with the largest leeway, MaxLeeway itself, a
// token is still expired from exp + 5 min on and not yet valid one second
// past now + 5 min, cached or not.
func TestMaxLeewayBoundaries(t *testing.T) {
	k := getKeys(t).k1
	now := testNow.Unix()
	l := int64(MaxLeeway / time.Second)
	for _, cached := range []bool{false, true} {
		cfg := baseConfig()
		cfg.Leeway = MaxLeeway
		cfg.DisableCache = !cached
		a := newStatic(t, cfg)
		for _, tt := range []struct {
			name   string
			claims map[string]any
			code   string
		}{
			{"exp a second inside the leeway", with(accessClaims(), "iat", now-3600, "exp", now-l+1), ""},
			{"exp at now minus the leeway", with(accessClaims(), "iat", now-3600, "exp", now-l), ssotoken.CodeTokenExpired},
			{"iat at now plus the leeway", with(accessClaims(), "iat", now+l), ""},
			{"iat a second past the leeway", with(accessClaims(), "iat", now+l+1), ssotoken.CodeTokenNotYetValid},
			{"iat 30 minutes in the future", with(accessClaims(), "iat", now+1800), ssotoken.CodeTokenNotYetValid},
			{"nbf at now plus the leeway", with(accessClaims(), "nbf", now+l), ""},
			{"nbf a second past the leeway", with(accessClaims(), "nbf", now+l+1), ssotoken.CodeTokenNotYetValid},
		} {
			tok := sign(t, k, "k1", tt.claims)
			for range 2 { // the second time from the cache, when on
				_, err := a.Authenticate(context.Background(), tok)
				if tt.code == "" {
					assert.NoError(t, err, tt.name)
				} else {
					assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
				}
			}
		}
	}
}

// rsaPublicOfBits returns an RSA public key whose modulus has exactly
// bits bits (odd, top bit set; not a product of two primes, which no
// check of a public key can see), without the cost of generating one.
func rsaPublicOfBits(t *testing.T, bits int) *rsa.PublicKey {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
	require.NoError(t, err)
	n.SetBit(n, bits-1, 1)
	n.SetBit(n, 0, 1)
	return &rsa.PublicKey{N: n, E: 65537}
}

// TestRSAKeySizeBoundaries decides the key sizes, which fail closed by one
// bit: a key of 2048 to 8192 bits, both included, is usable; 2047 and 8193
// bits are not (a JWKS of nothing else leaves NewStatic without a key).
func TestRSAKeySizeBoundaries(t *testing.T) {
	for _, tt := range []struct {
		bits int
		ok   bool
	}{{2047, false}, {2048, true}, {4096, true}, {8192, true}, {8193, false}} {
		jwk, err := jwkset.NewJWKFromKey(rsaPublicOfBits(t, tt.bits), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: "big", ALG: jwkset.AlgRS256, USE: jwkset.UseSig},
			Validate: jwkset.JWKValidateOptions{SkipAll: true},
		})
		require.NoError(t, err)
		a, err := NewStatic(baseConfig(), jwksJSON(t, jwk.Marshal()))
		if !tt.ok {
			assert.True(t, errors.Is(err, ErrNoUsableKey), "%d bits: %v", tt.bits, err)
			continue
		}
		require.NoError(t, err, "%d bits", tt.bits)
		assert.Equal(t, 1, a.Stats().Pools[0].Keys, "%d bits", tt.bits)
		// A token under the key is looked up and refused as forged: the
		// key is there.
		_, err = a.Authenticate(context.Background(), sign(t, getKeys(t).k1, "big", accessClaims()))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)
	}
}
