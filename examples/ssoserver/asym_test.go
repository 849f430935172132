package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// TestAsymmetricTokenNo: with -sso-key the server signs TokenNo with ES256
// and publishes its public key, so a LOB verifies with keyfunc and
// golang-jwt, or with ssotoken, from the JWKS alone.
func TestAsymmetricTokenNo(t *testing.T) {
	ssoserver, _ := binaries(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "sso.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))

	p := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-sso-key", keyFile)
	dev := readDevOutput(t, p)

	res, jwks := do(t, mustRequest(t, http.MethodGet, dev.base+"/.well-known/jwks.json"))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "application/jwk-set+json", res.Header.Get("Content-Type"))

	res, body := do(t, curlRequest(t, dev.curls[0]))
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	var resp ssotoken.Response
	require.NoError(t, json.Unmarshal(body, &resp))

	kf, err := keyfunc.NewJWKSetJSON(jwks)
	require.NoError(t, err)
	tok, err := jwt.Parse(resp.TokenNo, kf.Keyfunc, jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired())
	require.NoError(t, err)
	assert.Equal(t, sampleCIINo, tok.Claims.(jwt.MapClaims)["CIINo"])

	var set ssotoken.JWKS
	require.NoError(t, json.Unmarshal(jwks, &set))
	require.Len(t, set.Keys, 1)
	key, err := ssotoken.NewVerifyingKey(set.Keys[0].Kid, ssotoken.ES256, &priv.PublicKey)
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key)
	require.NoError(t, err)
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: sampleLOBId})
	require.NoError(t, err)
	_, err = v.Verify(t.Context(), resp.TokenNo)
	assert.NoError(t, err)
}
