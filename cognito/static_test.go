package cognito

import (
	"encoding/json"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// NewStatic refuses a JWKS document that leaves it no usable key: an
// Authenticator that refuses every token is a configuration error, not a
// running service.
func TestNewStaticRefusesEmptyKeySet(t *testing.T) {
	k := getKeys(t)
	mk := func(edit func(*jwkset.JWKMarshal)) jwkset.JWKMarshal {
		m := jwkOf(t, k.k1, "k1")
		edit(&m)
		return m
	}
	oct, err := jwkset.NewJWKFromKey([]byte("0123456789abcdef0123456789abcdef"), jwkset.JWKOptions{
		Marshal:  jwkset.JWKMarshalOptions{Private: true},
		Metadata: jwkset.JWKMetadataOptions{KID: "oct", ALG: jwkset.AlgHS256},
	})
	require.NoError(t, err)
	octDoc, err := json.Marshal(map[string]any{"keys": []any{oct.Marshal()}})
	require.NoError(t, err)

	tests := []struct {
		name string
		doc  []byte
	}{
		{"empty keys", []byte(`{"keys":[]}`)},
		{"null keys", []byte(`{"keys":null}`)},
		{"no keys member", []byte(`{}`)},
		{"null document", []byte(`null`)},
		{"an encryption key only", jwksJSON(t, mk(func(m *jwkset.JWKMarshal) { m.USE = jwkset.UseEnc }))},
		{"an RS512 key only", jwksJSON(t, mk(func(m *jwkset.JWKMarshal) { m.ALG = jwkset.AlgRS512 }))},
		{"a key without kid", jwksJSON(t, mk(func(m *jwkset.JWKMarshal) { m.KID = "" }))},
		{"a 1024-bit key only", jwksJSON(t, jwkOf(t, k.small, "small"))},
		{"one kid twice", jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k1"))},
		{"a symmetric key only", octDoc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.Logger = discardLogger()
			a, err := NewStatic(cfg, tt.doc)
			require.ErrorIs(t, err, ErrNoUsableKey)
			assert.Nil(t, a)
			assert.Contains(t, err.Error(), "no usable key")
		})
	}

	t.Run("one usable key among unusable ones", func(t *testing.T) {
		doc := jwksJSON(t, jwkOf(t, k.small, "small"), mk(func(m *jwkset.JWKMarshal) { m.USE = jwkset.UseEnc; m.KID = "enc" }), jwkOf(t, k.k2, "k2"))
		a, err := NewStatic(baseConfig(), doc)
		require.NoError(t, err)
		assert.NoError(t, a.Close())
	})
}
