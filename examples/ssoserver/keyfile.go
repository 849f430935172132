package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/ssokit/ssokit/ssotoken"
)

// loadSigningKey reads a PEM private key (PKCS #8, PKCS #1 RSA or SEC 1
// EC) and returns it as a TokenNo signing key: RS256 for RSA, ES256 for
// P-256, EdDSA for Ed25519. The key id is keyID's.
func loadSigningKey(path string) (*ssotoken.Key, error) {
	key, err := readPEMKey(path)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok || isPublic(key) {
		return nil, errors.New("not a private key: the first -sso-key signs")
	}
	id, alg, err := keyID(signer.Public())
	if err != nil {
		return nil, err
	}
	return ssotoken.NewSigningKey(id, alg, signer)
}

// loadVerifyingKey reads a PEM public key (PKIX, "PUBLIC KEY") or private
// key and returns its public key as a key that only verifies, under the
// id loadSigningKey gives the same key.
func loadVerifyingKey(path string) (*ssotoken.Key, error) {
	key, err := readPEMKey(path)
	if err != nil {
		return nil, err
	}
	pub := key
	if s, ok := key.(crypto.Signer); ok && !isPublic(key) {
		pub = s.Public()
	}
	id, alg, err := keyID(pub)
	if err != nil {
		return nil, err
	}
	return ssotoken.NewVerifyingKey(id, alg, pub)
}

// readPEMKey parses the first PEM block of the file at path: a private
// key, or a PKIX public key.
func readPEMKey(path string) (any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, errors.New("no PEM block in the file")
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private or public key", block.Type)
	}
	if err != nil {
		return nil, errors.New("the key does not parse") // the parser's text may quote key bytes
	}
	return key, nil
}

// isPublic reports whether key is a public key.
func isPublic(key any) bool {
	switch key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return true
	}
	return false
}

// keyID returns the key id and algorithm of a public key: RS256 for RSA,
// ES256 for ECDSA, EdDSA for Ed25519 (ssotoken refuses curves and sizes
// that do not fit). The id is the first 16 hex digits of the SHA-256 of
// the key's DER, so that it changes when the key does and is the same
// whether the key is read from its private or its public PEM.
func keyID(pub crypto.PublicKey) (string, ssotoken.Algorithm, error) {
	var alg ssotoken.Algorithm
	switch pub.(type) {
	case *rsa.PublicKey:
		alg = ssotoken.RS256
	case *ecdsa.PublicKey:
		alg = ssotoken.ES256
	case ed25519.PublicKey:
		alg = ssotoken.EdDSA
	default:
		return "", "", fmt.Errorf("unsupported key type %T", pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8]), alg, nil
}
