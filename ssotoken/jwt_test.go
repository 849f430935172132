package ssotoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kmsSigner stands for a key held in a KMS: a crypto.Signer that is not
// one of the standard library's private key types.
type kmsSigner struct{ s crypto.Signer }

func (k kmsSigner) Public() crypto.PublicKey { return k.s.Public() }
func (k kmsSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return k.s.Sign(r, d, o)
}

// TestKeyringSignAndParse signs with every kind of key through golang-jwt,
// and golang-jwt's own parser agrees with Keyring.Parse.
func TestKeyringSignAndParse(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	keys := map[string]*Key{
		"HS256":         mustHMAC(t, "", testSecret),
		"RS256":         mustSigning(t, "rs", RS256, rsaKey),
		"RS256 via KMS": mustSigning(t, "rs-kms", RS256, kmsSigner{rsaKey}),
		"ES256":         mustSigning(t, "es", ES256, ecKey),
		"ES256 via KMS": mustSigning(t, "es-kms", ES256, kmsSigner{ecKey}),
		"EdDSA":         mustSigning(t, "ed", EdDSA, edKey),
		"EdDSA via KMS": mustSigning(t, "ed-kms", EdDSA, kmsSigner{edKey}),
	}
	now := time.Unix(1737362986, 0)
	payload := []byte(`{"CIINo":"10001004","LOBId":"01","Functionality":"D","Date":"2025-01-20T08:49:46.756Z","iat":1737362986,"exp":1737366586}`)
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			ring, err := NewKeyring(key)
			require.NoError(t, err)
			tok, err := ring.Sign(payload)
			require.NoError(t, err)

			c := newTokenClaims()
			got, err := ring.Parse(tok, c, ParseOptions{Now: func() time.Time { return now }})
			require.NoError(t, err)
			assert.Same(t, key, got)
			assert.Equal(t, "10001004", c.claims().CIINo)

			gj, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return key.verifyKey, nil },
				jwt.WithValidMethods([]string{string(key.Algorithm())}), jwt.WithTimeFunc(func() time.Time { return now }))
			require.NoError(t, err, "golang-jwt's own parser verifies it")
			assert.Equal(t, "01", gj.Claims.(jwt.MapClaims)["LOBId"])

			other, err := NewKeyring(mustHMAC(t, key.ID(), []byte("a different secret of 32 bytes!!")))
			require.NoError(t, err)
			_, err = other.Parse(tok, newTokenClaims(), ParseOptions{Now: func() time.Time { return now }})
			assert.Error(t, err, "a ring of another purpose does not verify it")
		})
	}

	// The document's header, byte for byte.
	ring, err := NewKeyring(keys["HS256"])
	require.NoError(t, err)
	tok, err := ring.Sign(payload)
	require.NoError(t, err)
	assert.Equal(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", tok[:36])

	verifyOnly, err := NewVerifyingKey("rs", RS256, &rsaKey.PublicKey)
	require.NoError(t, err)
	ring, err = NewKeyring(verifyOnly)
	require.NoError(t, err)
	_, err = ring.Sign(payload)
	assert.ErrorContains(t, err, "cannot sign")
}

func mustSigning(t *testing.T, id string, alg Algorithm, s crypto.Signer) *Key {
	k, err := NewSigningKey(id, alg, s)
	require.NoError(t, err)
	return k
}

func mustHMAC(t *testing.T, id string, secret []byte) *Key {
	k, err := NewHMACKey(id, secret)
	require.NoError(t, err)
	return k
}
