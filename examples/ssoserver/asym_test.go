package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/ssotokentest"
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

// TestJWKSRotationEndToEnd: a lobapp that holds no secret verifies the
// TokenNo of an ssoserver -sso-key with the keys of its JWKS
// (lobapp -sso-jwks-url), and follows a key rotation: restarted with a new
// key signing and the old one still published, the server's tokens of
// both keys are accepted (the lobapp fetches the set again for the new
// kid); restarted without the old key, a token of it is refused.
func TestJWKSRotationEndToEnd(t *testing.T) {
	ssoserver, lobapp := binaries(t)
	dir := t.TempDir()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	oldPEM := writePEM(t, dir, "old.pem", "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(ecKey)))
	oldPub := writePEM(t, dir, "old.pub.pem", "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&ecKey.PublicKey)))
	newPEM := writePEM(t, dir, "new.pem", "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(edKey)))

	// 1. The server signs with the old key (ES256); the LOB verifies with
	// its JWKS.
	srv := start(t, ssoserver, nil, "-addr", "127.0.0.1:0", "-demo=false", "-sso-key", oldPEM)
	dev := readDevOutput(t, srv)
	addr := strings.TrimPrefix(dev.base, "http://")
	jwksURL := dev.base + "/.well-known/jwks.json"
	oldKID := publishedKIDs(t, jwksURL)[0]

	lob := start(t, lobapp, nil, "-addr", "127.0.0.1:0", "-sso-jwks-url", jwksURL, "-sso-jwks-refetch", "100ms")
	lobURL := waitListening(t, lob)
	first := issueTokenNo(t, dev, "D")
	assert.Equal(t, oldKID, tokenKID(t, first))
	res, body := do(t, formPost(t, lobURL+"/sso", first))
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	assert.Contains(t, string(body), `"CIINo":"10001XXX","LOBId":"XX","Functionality":"D"`)
	res, body = do(t, formPost(t, lobURL+"/sso", first))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, string(body), `"ErrorCode":"token_replayed"`)
	beforeRotation, retired := issueTokenNo(t, dev, "D2"), issueTokenNo(t, dev, "D3")

	// 2. Restarted at the same address with the new key (EdDSA) signing
	// and the old one published, from its public PEM only.
	stopProc(t, srv)
	srv = start(t, ssoserver, nil, "-addr", addr, "-demo=false", "-sso-key", newPEM, "-sso-key", oldPub)
	dev = readDevOutput(t, srv)
	kids := publishedKIDs(t, jwksURL)
	require.Len(t, kids, 2)
	assert.Equal(t, oldKID, kids[1], "the old key under the same kid, read from its public PEM")
	rotated := issueTokenNo(t, dev, "E")
	assert.Equal(t, kids[0], tokenKID(t, rotated))
	sent := time.Now()
	res, body = do(t, formPost(t, lobURL+"/sso", rotated))
	require.Equal(t, http.StatusOK, res.StatusCode, "a new kid: the LOB fetches the set again: %s", body)
	refetched := time.Now()
	assert.Less(t, refetched.Sub(sent), 5*time.Second)
	res, body = do(t, formPost(t, lobURL+"/sso", beforeRotation))
	assert.Equal(t, http.StatusOK, res.StatusCode, "the old key still verifies: %s", body)

	// 3. Restarted without the old key. The LOB still holds it until it
	// fetches the set again: any unknown kid makes it, at most once per
	// -sso-jwks-refetch (100 ms, mostly spent restarting the server).
	stopProc(t, srv)
	srv = start(t, ssoserver, nil, "-addr", addr, "-demo=false", "-sso-key", newPEM)
	dev = readDevOutput(t, srv)
	assert.Equal(t, kids[:1], publishedKIDs(t, jwksURL))
	time.Sleep(time.Until(refetched.Add(100 * time.Millisecond)))
	stranger := ssotokentest.NewIssuer(t, ssotokentest.Algorithm(ssotoken.ES256))
	res, body = do(t, formPost(t, lobURL+"/sso", stranger.TokenNo(t, ssotoken.Request{CIINo: sampleCIINo, LOBId: sampleLOBId, Functionality: "X"})))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, string(body), `"ErrorCode":"unknown_key"`)
	res, body = do(t, formPost(t, lobURL+"/sso", retired))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, string(body), `"ErrorCode":"unknown_key"`, "the old key's token, unused, is refused once its key is gone")
	res, body = do(t, formPost(t, lobURL+"/sso", issueTokenNo(t, dev, "F")))
	assert.Equal(t, http.StatusOK, res.StatusCode, string(body))
	assert.NotContains(t, lob.logs(), "JWKS fetch failed", "the JWKS was always there: the restarts fell between fetches")
}

// TestSSOKeyFlags: -sso-key files that cannot work stop the server at
// start, with one line that names the file.
func TestSSOKeyFlags(t *testing.T) {
	dir := t.TempDir()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	priv := writePEM(t, dir, "k.pem", "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(ecKey)))
	pub := writePEM(t, dir, "k.pub.pem", "PUBLIC KEY", must(x509.MarshalPKIXPublicKey(&ecKey.PublicKey)))
	rsaSmall := writePEM(t, dir, "small.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(mustRSA(t, 1024)))
	for _, tt := range []struct {
		name string
		args []string
		err  string
	}{
		{"public key signs", []string{"-sso-key", pub}, "-sso-key " + pub + ": not a private key: the first -sso-key signs"},
		{"the same key twice", []string{"-sso-key", priv, "-sso-key", pub}, "-sso-key " + pub + ": the same key as -sso-key " + priv},
		{"small RSA key published", []string{"-sso-key", priv, "-sso-key", rsaSmall}, "-sso-key " + rsaSmall + ": ssotoken: RSA key is 1024 bits"},
		{"missing second file", []string{"-sso-key", priv, "-sso-key", filepath.Join(dir, "none.pem")}, "-sso-key " + filepath.Join(dir, "none.pem")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseOptions(append([]string{"-addr", "127.0.0.1:0"}, tt.args...), func(string) string { return "" }, io.Discard)
			require.ErrorContains(t, err, tt.err)
		})
	}
	o, err := parseOptions([]string{"-addr", "127.0.0.1:0", "-sso-key", priv, "-sso-key", writePEM(t, dir, "other.pem", "PRIVATE KEY", must(x509.MarshalPKCS8PrivateKey(mustRSA(t, 2048))))}, func(string) string { return "" }, io.Discard)
	require.NoError(t, err)
	assert.True(t, o.ssoKey.CanSign())
	require.Len(t, o.ssoVerifyKeys, 1)
	assert.False(t, o.ssoVerifyKeys[0].CanSign(), "a published key only verifies, even from a private PEM")
	assert.Equal(t, ssotoken.RS256, o.ssoVerifyKeys[0].Algorithm())

	var usage strings.Builder
	_, err = parseOptions([]string{"-h"}, func(string) string { return "" }, &usage)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, usage.String(), "Repeatable, to rotate keys: the first signs")
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

func must(der []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return der
}

func mustRSA(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(t, err)
	return k
}

// issueTokenNo asks the dev server for a TokenNo of the request sample
// with the given Functionality, so that every token is a new one.
func issueTokenNo(t *testing.T, dev devOutput, functionality string) string {
	t.Helper()
	r := curlRequest(t, dev.curls[0])
	body, err := json.Marshal(ssotoken.Request{CIINo: sampleCIINo, LOBId: sampleLOBId, Functionality: functionality})
	require.NoError(t, err)
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	res, b := do(t, r)
	require.Equal(t, http.StatusOK, res.StatusCode, string(b))
	var resp ssotoken.Response
	require.NoError(t, json.Unmarshal(b, &resp))
	return credential(resp.TokenNo)
}

// publishedKIDs returns the kids of the JWKS at url, in order.
func publishedKIDs(t *testing.T, url string) []string {
	t.Helper()
	res, body := do(t, mustRequest(t, http.MethodGet, url))
	require.Equal(t, http.StatusOK, res.StatusCode)
	var set ssotoken.JWKS
	require.NoError(t, json.Unmarshal(body, &set))
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// tokenKID returns the kid of a compact token's header.
func tokenKID(t *testing.T, token string) string {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	var h struct{ Kid string }
	require.NoError(t, json.Unmarshal(raw, &h))
	return h.Kid
}

// stopProc stops p as its cleanup would, now.
func stopProc(t *testing.T, p *proc) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	_ = p.cmd.Wait()
}
