package ssotoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/internal/jose"
)

// Algorithm is a JWS signing algorithm (RFC 7518 section 3, RFC 8037).
type Algorithm string

// The algorithms a Key can use. A key is pinned to one of them: a token
// whose header names any other algorithm never verifies under that key.
const (
	HS256 Algorithm = "HS256" // HMAC with SHA-256; the default and the API document's choice
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 bits or more
	ES256 Algorithm = "ES256" // ECDSA on P-256 with SHA-256
	EdDSA Algorithm = "EdDSA" // Ed25519
)

// Key limits.
const (
	// MinHMACSecretLen is the shortest HS256 secret NewHMACKey accepts, in
	// bytes: the hash size, as RFC 7518 section 3.2 requires.
	MinHMACSecretLen = 32
	// MinRSABits is the smallest RSA modulus accepted, in bits.
	MinRSABits = 2048
	// MaxKeyIDLen is the longest key id accepted, in bytes.
	MaxKeyIDLen = 128
)

// Key is one signing or verification key, pinned to one algorithm and
// named by an optional key id ("kid"). Keys are immutable and safe for
// concurrent use. Signing and verification are golang-jwt/jwt/v5's.
//
// A key with an empty id signs tokens whose header has no "kid"; with one
// HS256 key and no id the header is exactly {"alg":"HS256","typ":"JWT"}, as
// in the API document. A key with an id puts it in the header. Asymmetric
// keys must have an id, since they are published in a JWKS.
type Key struct {
	id     string
	alg    Algorithm
	header string // the base64url JOSE header, with the trailing '.'

	method    jwt.SigningMethod // golang-jwt's method for alg: verifies
	verifyKey any               // the key in the form method.Verify takes
	signer    jwt.SigningMethod // signs; nil for a verify-only key
	signKey   any               // the key in the form signer.Sign takes

	public crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// NewHMACKey returns an HS256 key that both signs and verifies. The secret
// is copied; it must be at least MinHMACSecretLen (32) bytes.
func NewHMACKey(id string, secret []byte) (*Key, error) {
	if len(secret) < MinHMACSecretLen {
		return nil, fmt.Errorf("ssotoken: HS256 secret is %d bytes, want at least %d", len(secret), MinHMACSecretLen)
	}
	b := append([]byte(nil), secret...)
	return (&Key{id: id, alg: HS256, method: jwt.SigningMethodHS256, verifyKey: b, signer: jwt.SigningMethodHS256, signKey: b}).init()
}

// NewSigningKey returns an asymmetric key that signs with s, which may be a
// key held in a KMS or HSM: any crypto.Signer whose public key fits alg
// (an RSA key of at least 2048 bits for RS256, a P-256 key for ES256, an
// Ed25519 key for EdDSA). The id is required.
func NewSigningKey(id string, alg Algorithm, s crypto.Signer) (*Key, error) {
	if s == nil {
		return nil, errors.New("ssotoken: signing key: nil crypto.Signer")
	}
	k, err := NewVerifyingKey(id, alg, s.Public())
	if err != nil {
		return nil, err
	}
	// golang-jwt signs RS256 and ES256 with *rsa.PrivateKey and
	// *ecdsa.PrivateKey; any other crypto.Signer (a KMS key, say) goes
	// through signerMethod. EdDSA takes any crypto.Signer.
	k.signer, k.signKey = k.method, s
	switch s.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		if alg != EdDSA {
			k.signer = signerMethod{k.method}
		}
	}
	return k, nil
}

// NewVerifyingKey returns an asymmetric key that only verifies: what a
// linked LOB holds when the issuer signs with RS256, ES256 or EdDSA. The id
// is required.
func NewVerifyingKey(id string, alg Algorithm, pub crypto.PublicKey) (*Key, error) {
	if id == "" {
		return nil, fmt.Errorf("ssotoken: %s key needs a key id", alg)
	}
	switch alg {
	case RS256:
		p, ok := pub.(*rsa.PublicKey)
		if !ok || p == nil || p.N == nil {
			return nil, fmt.Errorf("ssotoken: RS256 needs an RSA key, got %T", pub)
		}
		if p.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("ssotoken: RSA key is %d bits, want at least %d", p.N.BitLen(), MinRSABits)
		}
		if p.E < 3 || p.E%2 == 0 {
			return nil, errors.New("ssotoken: RSA public exponent must be odd and at least 3")
		}
	case ES256:
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok || p == nil || p.Curve != elliptic.P256() || p.X == nil || p.Y == nil {
			return nil, fmt.Errorf("ssotoken: ES256 needs a P-256 ECDSA key, got %T", pub)
		}
		if _, err := p.Bytes(); err != nil { // off the curve, or the point at infinity
			return nil, errors.New("ssotoken: ES256 public key is not a valid P-256 point")
		}
	case EdDSA:
		p, ok := pub.(ed25519.PublicKey)
		if !ok || len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("ssotoken: EdDSA needs an Ed25519 key, got %T", pub)
		}
	case HS256:
		return nil, errors.New("ssotoken: HS256 keys are made with NewHMACKey")
	default:
		return nil, fmt.Errorf("ssotoken: unsupported algorithm %q", alg)
	}
	return (&Key{id: id, alg: alg, public: pub, method: jwt.GetSigningMethod(string(alg)), verifyKey: pub}).init()
}

func (k *Key) init() (*Key, error) {
	if len(k.id) > MaxKeyIDLen || !printable(k.id) {
		return nil, errors.New("ssotoken: key id is too long or holds control characters")
	}
	k.header = jose.HeaderSegment(string(k.alg), k.id)
	return k, nil
}

// headerSegment returns the base64url JOSE header, without the '.'.
func (k *Key) headerSegment() string { return k.header[:len(k.header)-1] }

// ID returns the key id; it may be empty for an HS256 key.
func (k *Key) ID() string { return k.id }

// Algorithm returns the algorithm the key is pinned to.
func (k *Key) Algorithm() Algorithm { return k.alg }

// CanSign reports whether the key can sign (an HS256 key or one made with
// NewSigningKey).
func (k *Key) CanSign() bool { return k.signer != nil }

// Public returns the public key of an asymmetric key, and nil for HS256.
func (k *Key) Public() crypto.PublicKey { return k.public }

// sign returns the compact JWS of payload, a JSON object, signed with k
// through golang-jwt.
func (k *Key) sign(payload []byte) (string, error) {
	if k.signer == nil {
		return "", errors.New("ssotoken: key " + k.id + " cannot sign")
	}
	return jose.Sign(k.signer, k.signKey, k.header, payload)
}

// signerMethod signs RS256 or ES256 with any crypto.Signer, such as a key
// held in a KMS or HSM, and verifies as golang-jwt's method of the same
// name, which it embeds: golang-jwt's own methods sign only with
// *rsa.PrivateKey and *ecdsa.PrivateKey.
type signerMethod struct{ jwt.SigningMethod }

// Sign implements jwt.SigningMethod.
func (m signerMethod) Sign(input string, key any) ([]byte, error) {
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, jwt.ErrInvalidKeyType
	}
	d := sha256.Sum256([]byte(input))
	sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil || m.Alg() != string(ES256) {
		return sig, err
	}
	return ecdsaASN1ToRaw(sig)
}

// ecdsaASN1ToRaw turns an ASN.1 ECDSA signature into the 64-byte r||s form
// of RFC 7518 section 3.4.
func ecdsaASN1ToRaw(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 {
		return nil, errors.New("ssotoken: signer returned a malformed ECDSA signature")
	}
	out := make([]byte, 64)
	if !fitLeft(out[:32], sig.R.Bytes()) || !fitLeft(out[32:], sig.S.Bytes()) {
		return nil, errors.New("ssotoken: signer returned an ECDSA signature that is not P-256")
	}
	return out, nil
}

// fitLeft copies the big-endian integer b right-aligned into dst.
func fitLeft(dst, b []byte) bool {
	if len(b) > len(dst) {
		return false
	}
	copy(dst[len(dst)-len(b):], b)
	return true
}
