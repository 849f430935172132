package ssotokentest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/ssotokentest"
)

var req = ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}

func header(t *testing.T, token string) string {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	return string(b)
}

// The zero Config: HS256 with a random secret, the document's header, and
// a VerifierConfig that accepts the tokens for its LOB only.
func TestHS256Issuer(t *testing.T) {
	iss := ssotokentest.NewIssuer(t)
	assert.GreaterOrEqual(t, len(iss.Secret()), ssotoken.MinHMACSecretLen)
	assert.NotEqual(t, iss.Secret(), ssotokentest.NewIssuer(t).Secret(), "random")
	assert.Empty(t, iss.JWKSURL(), "a secret is never published")
	_, err := iss.Rotate()
	assert.Error(t, err)

	start := time.Now()
	token := iss.TokenNo(t, req)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "no wait for the Signer's start-up second")
	assert.Equal(t, `{"alg":"HS256","typ":"JWT"}`, header(t, token))

	v := iss.Verifier(t, "01")
	c, err := v.Verify(context.Background(), token)
	require.NoError(t, err)
	assert.Equal(t, "10001004", c.CIINo)

	other, err := ssotoken.NewVerifier(iss.VerifierConfig("02"))
	require.NoError(t, err)
	_, err = other.Verify(context.Background(), token)
	assert.Equal(t, ssotoken.CodeWrongLOB, ssotoken.CodeOf(err))

	// The secret is what a LOB configured with SSO_SECRET holds.
	key, err := ssotoken.NewHMACKey("", iss.Secret())
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(t, err)
	bySecret, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01"})
	require.NoError(t, err)
	_, err = bySecret.Verify(context.Background(), token)
	require.NoError(t, err)
}

// Asymmetric Issuers publish their keys at JWKSURL; RemoteKeys of it
// verify their tokens, also after a rotation, and only the public keys
// are served.
func TestAsymmetricIssuer(t *testing.T) {
	for _, alg := range []ssotoken.Algorithm{ssotoken.RS256, ssotoken.ES256, ssotoken.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			iss := ssotokentest.NewIssuer(t, ssotokentest.Algorithm(alg))
			assert.Nil(t, iss.Secret())
			require.NotEmpty(t, iss.JWKSURL())
			res, err := http.Get(iss.JWKSURL())
			require.NoError(t, err)
			var set ssotoken.JWKS
			require.NoError(t, jsonDecode(res, &set))
			require.Len(t, set.Keys, 1)
			assert.Equal(t, string(alg), set.Keys[0].Alg)

			keys, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: iss.JWKSURL()})
			require.NoError(t, err)
			defer keys.Close()
			cfg := iss.VerifierConfig("01")
			cfg.Keys = keys
			v, err := ssotoken.NewVerifier(cfg)
			require.NoError(t, err)
			old := iss.TokenNo(t, req)
			assert.Contains(t, header(t, old), `"alg":"`+string(alg)+`"`)
			_, err = v.Verify(context.Background(), old)
			require.NoError(t, err)

			oldKID := iss.Keys().Active().ID()
			next, err := iss.Rotate()
			require.NoError(t, err)
			rotated := iss.TokenNo(t, req)
			assert.Contains(t, header(t, rotated), `"kid":"`+next+`"`)
			for _, tok := range []string{rotated, old} {
				_, err = v.Verify(context.Background(), tok)
				require.NoError(t, err)
			}
			assert.Len(t, iss.Keys().Keys(), 2)

			require.Error(t, iss.Retire(next), "the signing key")
			require.NoError(t, iss.Retire(oldKID))
			_, err = iss.Verifier(t, "01").Verify(context.Background(), old)
			assert.Equal(t, ssotoken.CodeUnknownKey, ssotoken.CodeOf(err))
		})
	}
}

// Issuer, Audience, TTL and the clock reach the tokens and the
// VerifierConfig.
func TestIssuerConfig(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	iss := ssotokentest.NewIssuer(t, ssotokentest.Algorithm(ssotoken.EdDSA), ssotokentest.Lifetime(2*time.Hour),
		ssotokentest.IssuerClaim("https://sso.example"), ssotokentest.AudienceClaim("lob-01"),
		ssotokentest.Clock(func() time.Time { return now }))
	cfg := iss.VerifierConfig("01")
	assert.Equal(t, "https://sso.example", cfg.Issuer)
	assert.Equal(t, "lob-01", cfg.Audience)
	v, err := ssotoken.NewVerifier(cfg)
	require.NoError(t, err)
	c, err := v.Verify(context.Background(), iss.TokenNo(t, req))
	require.NoError(t, err)
	assert.Equal(t, now.Unix(), c.IssuedAt)
	assert.Equal(t, now.Add(2*time.Hour).Unix(), c.ExpiresAt)
	assert.Equal(t, "https://sso.example", c.Issuer)

	cfg.Now = func() time.Time { return now.Add(2*time.Hour + time.Second) }
	late, err := ssotoken.NewVerifier(cfg)
	require.NoError(t, err)
	_, err = late.Verify(context.Background(), iss.TokenNo(t, req))
	assert.Equal(t, ssotoken.CodeTokenExpired, ssotoken.CodeOf(err))
}

func TestNewErrors(t *testing.T) {
	for name, opts := range map[string][]ssotokentest.Option{
		"unknown algorithm":      {ssotokentest.Algorithm("PS256")},
		"lifetime under 1s":      {ssotokentest.Lifetime(time.Millisecond)},
		"short secret":           {ssotokentest.Secret([]byte("short"))},
		"secret of an ES256 key": {ssotokentest.Algorithm(ssotoken.ES256), ssotokentest.Secret(make([]byte, 32))},
	} {
		t.Run(name, func(t *testing.T) {
			iss, err := ssotokentest.New(opts...)
			assert.ErrorContains(t, err, "ssotokentest: ")
			assert.Nil(t, iss)
		})
	}
}

// A secret of the host's own signs the tokens.
func TestSecret(t *testing.T) {
	secret := []byte("the host's test secret, 32 bytes or more")
	iss := ssotokentest.NewIssuer(t, ssotokentest.Secret(secret))
	assert.Equal(t, secret, iss.Secret())
	key, err := ssotoken.NewHMACKey("", secret)
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(t, err)
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01"})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), iss.TokenNo(t, req))
	require.NoError(t, err)
}

func jsonDecode(res *http.Response, v any) error {
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(v)
}
