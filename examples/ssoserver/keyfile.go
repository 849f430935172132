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
// P-256, EdDSA for Ed25519. The key id is the first 16 hex digits of the
// SHA-256 of the public key's DER, so it changes when the key does.
func loadSigningKey(path string) (*ssotoken.Key, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, errors.New("no PEM block in the file")
	}
	var priv any
	switch block.Type {
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, errors.New("the private key does not parse") // the parser's text may quote key bytes
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T cannot sign", priv)
	}
	var alg ssotoken.Algorithm
	switch signer.(type) {
	case *rsa.PrivateKey:
		alg = ssotoken.RS256
	case *ecdsa.PrivateKey:
		alg = ssotoken.ES256
	case ed25519.PrivateKey:
		alg = ssotoken.EdDSA
	default:
		return nil, fmt.Errorf("unsupported key type %T", priv)
	}
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return ssotoken.NewSigningKey(hex.EncodeToString(sum[:8]), alg, signer)
}
