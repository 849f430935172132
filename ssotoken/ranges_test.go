package ssotoken_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// TestConfigRanges: every out-of-range setting is refused by its
// constructor, and the value at the edge of its range is accepted: the
// ranges are inclusive, as each setting's documentation says.
func TestConfigRanges(t *testing.T) {
	ring := krRing(t, krHMAC(t, "", 1))
	pub, err := ssotoken.NewVerifyingKey("v1", ssotoken.EdDSA, ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	require.NoError(t, err)
	verifyOnly := krRing(t, pub)
	const url = "https://sso.example/.well-known/jwks.json"

	tests := []struct {
		name string
		make func() (any, error)
		err  string // "" is accepted
	}{
		{"verifier: leeway negative", func() (any, error) {
			return ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Leeway: -time.Nanosecond})
		}, "Leeway"},
		{"verifier: leeway over the maximum", func() (any, error) {
			return ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Leeway: ssotoken.MaxLeeway + time.Nanosecond})
		}, "Leeway"},
		{"verifier: leeway exactly the maximum", func() (any, error) {
			return ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Leeway: ssotoken.MaxLeeway})
		}, ""},
		{"verifier: a verify-only ring verifies", func() (any, error) {
			return ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: verifyOnly, LOBId: "01"})
		}, ""},

		{"signer: an active key that cannot sign", func() (any, error) {
			return ssotoken.NewSigner(ssotoken.SignerConfig{Keys: verifyOnly})
		}, "cannot sign"},
		{"signer: a LOB's active key that cannot sign", func() (any, error) {
			return ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, LOBKeys: map[string]*ssotoken.Keyring{"02": verifyOnly}})
		}, "LOBKeys[02]"},
		{"signer: TTL of one second", func() (any, error) {
			return ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, TTL: time.Second})
		}, ""},
		{"signer: TTL a nanosecond under one second", func() (any, error) {
			return ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, TTL: time.Second - time.Nanosecond})
		}, "TTL"},
		{"signer: TTL negative", func() (any, error) {
			return ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, TTL: -time.Hour})
		}, "TTL"},

		{"remote keys: JWKS size negative", func() (any, error) {
			return ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: url, MaxJWKSBytes: -1})
		}, "must not be negative"},
		{"remote keys: refresh interval negative", func() (any, error) {
			return ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: url, RefreshInterval: -time.Nanosecond})
		}, "must not be negative"},
		{"remote keys: refetch interval negative", func() (any, error) {
			return ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: url, RefetchInterval: -time.Second})
		}, "must not be negative"},
		{"remote keys: fetch timeout negative", func() (any, error) {
			return ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: url, FetchTimeout: -time.Second})
		}, "must not be negative"},
		{"remote keys: refetch interval a nanosecond under the minimum", func() (any, error) {
			return ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: url, RefetchInterval: ssotoken.MinRefetchInterval - time.Nanosecond})
		}, "at least"},
		{"remote keys: refetch interval exactly the minimum", func() (any, error) {
			return ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: url, RefetchInterval: ssotoken.MinRefetchInterval, RefreshInterval: time.Hour})
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.make()
			if c, ok := v.(interface{ Close() error }); ok && err == nil {
				t.Cleanup(func() { _ = c.Close() })
			}
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.err)
		})
	}
}

// TestSignerTTLOneSecond: the shortest TTL, one second, makes tokens whose
// "exp" is "iat" + 1, which verify during their second and are expired
// from "exp" on; a TTL is rounded down to whole seconds.
func TestSignerTTLOneSecond(t *testing.T) {
	ring := krRing(t, krHMAC(t, "", 1))
	for _, ttl := range []time.Duration{time.Second, time.Second + 999*time.Millisecond} {
		clock := &rkClock{}
		s, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, TTL: ttl, Now: clock.now})
		require.NoError(t, err)
		resp, err := s.Issue(context.Background(), ssotoken.Request{CIINo: "1", LOBId: "01", Functionality: "D"})
		require.NoError(t, err)
		iat := clock.now().Unix()
		for _, tt := range []struct {
			at   time.Duration // after iat
			code string
		}{
			{at: 0},
			{at: 999 * time.Millisecond},
			{at: time.Second, code: ssotoken.CodeTokenExpired},
		} {
			v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", MaxLifetime: time.Second,
				Now: func() time.Time { return time.Unix(iat, 0).Add(tt.at) }})
			require.NoError(t, err)
			c, err := v.Verify(context.Background(), resp.TokenNo)
			if tt.code != "" {
				assert.Equal(t, tt.code, ssotoken.CodeOf(err), "TTL %s, %s after iat", ttl, tt.at)
				continue
			}
			require.NoError(t, err, "TTL %s, %s after iat", ttl, tt.at)
			assert.Equal(t, c.IssuedAt+1, c.ExpiresAt, "TTL %s", ttl)
		}
	}
}

// TestRemoteKeysRSASizeLimit: a JWKS key of exactly MaxRemoteRSABits
// (8192) bits is taken, one of 8193 bits is left out (verifying under it
// would only be slow), as are keys under MinRSABits; 2048 bits are taken.
// The moduli are not real keys: only their size is judged here.
func TestRemoteKeysRSASizeLimit(t *testing.T) {
	good := rkES256(t, "good")
	set := []any{good.key}
	for kid, bits := range map[string]int{
		"rsa-2047": ssotoken.MinRSABits - 1, "rsa-2048": ssotoken.MinRSABits,
		"rsa-8192": ssotoken.MaxRemoteRSABits, "rsa-8193": ssotoken.MaxRemoteRSABits + 1,
	} {
		set = append(set, jwkOf(t, krRSAPublic(bits), kid, jwkset.AlgRS256))
	}
	f := newRKIssuer(t, rkSet(t, set...))
	remote, _ := rkRemote(t, f, &rkClock{})
	_, err := rkVerifier(t, remote).Verify(rkCtx(t), good.token) // waits for the first fetch
	require.NoError(t, err)

	for kid, usable := range map[string]bool{"rsa-2047": false, "rsa-2048": true, "rsa-8192": true, "rsa-8193": false} {
		k, ok := remote.Key(kid)
		assert.Equal(t, usable, ok, kid)
		if ok {
			assert.Equal(t, ssotoken.RS256, k.Algorithm())
		}
	}
}

// TestRSAPublicExponent: the exponent of an RSA key is odd and at least
// 3: 3 is the smallest accepted, even ones are refused however large.
func TestRSAPublicExponent(t *testing.T) {
	for e, ok := range map[int]bool{1: false, 2: false, 3: true, 4: false, 5: true, 65536: false, 65537: true} {
		pub := krRSAPublic(ssotoken.MinRSABits)
		pub.E = e
		_, err := ssotoken.NewVerifyingKey("k", ssotoken.RS256, pub)
		if ok {
			assert.NoError(t, err, "e = %d", e)
		} else {
			assert.ErrorContains(t, err, "exponent", "e = %d", e)
		}
	}
}
