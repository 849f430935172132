package ssotoken

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJWSRoundTripKeepsDst(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	ed, err := NewSigningKey("ed", EdDSA, priv)
	require.NoError(t, err)
	hs, err := NewHMACKey("hs", testSecret)
	require.NoError(t, err)
	ring, err := NewKeyring(ed, hs)
	require.NoError(t, err)

	for _, key := range []*Key{ed, hs} {
		t.Run(string(key.Algorithm()), func(t *testing.T) {
			payload := []byte(`{"sub":"u1","n":1}`)
			tok, err := AppendJWS([]byte("prefix:"), key, payload)
			require.NoError(t, err)
			require.Equal(t, "prefix:", string(tok[:7]), "AppendJWS appends")

			got, k, err := ParseJWS([]byte("keep"), ring, string(tok[7:]))
			require.NoError(t, err)
			assert.Same(t, key, k)
			assert.Equal(t, "keep"+string(payload), string(got), "ParseJWS appends the payload only")

			other, err := NewKeyring(mustHMAC(t, "hs", []byte("a different secret of 32 bytes!!")))
			require.NoError(t, err)
			_, _, err = ParseJWS(nil, other, string(tok[7:]))
			assert.Error(t, err, "a ring of another purpose does not verify it")
		})
	}
}

func mustHMAC(t *testing.T, id string, secret []byte) *Key {
	k, err := NewHMACKey(id, secret)
	require.NoError(t, err)
	return k
}
