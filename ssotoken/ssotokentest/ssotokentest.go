// Package ssotokentest stands in for the GenerateSSOToken server in the
// tests of a linked LOB: an Issuer signs TokenNo values as the server
// does, with an HS256 secret or with an RS256, ES256 or EdDSA key whose
// JWKS it serves on a local httptest server, and gives the
// ssotoken.VerifierConfig that accepts them.
//
//	iss := ssotokentest.NewIssuer(t)
//	verifier := iss.Verifier(t, "01")
//	h := httpadapter.RequireSSOToken(verifier, httpadapter.SSOTokenOptions{})(arrival)
//	tokenNo := iss.TokenNo(t, ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
//	// POST tokenNo to h as the TokenNo form field
//
// A LOB that takes the shared secret (SSO_SECRET) gets Secret; one that
// verifies with the issuer's JWKS is handed JWKSURL, as it would be the
// real issuer's URL:
//
//	iss := ssotokentest.NewIssuer(t, ssotokentest.Algorithm(ssotoken.ES256))
//	keys, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: iss.JWKSURL()})
//
// Rotate and Retire change the issuer's keys as a rotation does. The
// package is for tests and development: its keys live in memory.
package ssotokentest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// An Option configures an Issuer.
type Option struct{ apply func(*Issuer) error }

// Algorithm sets the signing algorithm: ssotoken.HS256 (the default, as
// the API document's tokens are), RS256 (a new RSA-2048 key), ES256
// (P-256) or EdDSA (Ed25519). The asymmetric ones publish their public
// keys at JWKSURL.
func Algorithm(alg ssotoken.Algorithm) Option {
	return Option{func(i *Issuer) error {
		switch alg {
		case ssotoken.HS256, ssotoken.RS256, ssotoken.ES256, ssotoken.EdDSA:
			i.alg = alg
			return nil
		}
		return fmt.Errorf("ssotokentest: unsupported algorithm %q", alg)
	}}
}

// Secret sets the HS256 secret, at least 32 bytes, for code under test
// that reads a secret of its own. Without it an HS256 Issuer makes a
// random one.
func Secret(secret []byte) Option {
	return Option{func(i *Issuer) error {
		if len(secret) < ssotoken.MinHMACSecretLen {
			return fmt.Errorf("ssotokentest: the secret is %d bytes, want at least %d", len(secret), ssotoken.MinHMACSecretLen)
		}
		i.secret = append([]byte(nil), secret...)
		return nil
	}}
}

// Lifetime sets the tokens' lifetime, "exp" minus "iat" (default
// ssotoken.DefaultTTL, one hour); VerifierConfig allows it as MaxLifetime.
func Lifetime(d time.Duration) Option {
	return Option{func(i *Issuer) error {
		if d < time.Second {
			return errors.New("ssotokentest: a lifetime under a second")
		}
		i.lifetime = d
		return nil
	}}
}

// Clock sets the clock of the tokens' "iat" and "Date"; VerifierConfig
// carries it as Now. Default time.Now. Two tokens of one request in one
// millisecond of the clock are one token (the document's tokens carry no
// jti), which a Verifier with a ReplayStore accepts once.
func Clock(now func() time.Time) Option {
	return Option{func(i *Issuer) error { i.now, i.clock = now, now; return nil }}
}

// IssuerClaim puts iss in every token as "iss"; VerifierConfig asks for it.
func IssuerClaim(iss string) Option {
	return Option{func(i *Issuer) error { i.iss = iss; return nil }}
}

// AudienceClaim puts aud in every token as "aud"; VerifierConfig asks for
// it.
func AudienceClaim(aud string) Option {
	return Option{func(i *Issuer) error { i.aud = aud; return nil }}
}

// Issuer mints TokenNo values as the GenerateSSOToken server does, with a
// ssotoken.Signer. Its methods are safe for concurrent use.
type Issuer struct {
	alg        ssotoken.Algorithm
	secret     []byte
	lifetime   time.Duration
	now, clock func() time.Time // clock: Clock's, or nil
	iss, aud   string

	ring   *ssotoken.Keyring
	signer *ssotoken.Signer
	srv    *httptest.Server // asymmetric only
}

var _ ssotoken.Issuer = (*Issuer)(nil)

// NewIssuer returns an Issuer; it fails t if an option is not usable, and
// stops the Issuer's JWKS server when t ends.
func NewIssuer(t testing.TB, opts ...Option) *Issuer {
	t.Helper()
	i, err := New(opts...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(i.Close)
	return i
}

// New returns an Issuer, for code without a testing.TB (an Example, a
// local demo). Call Close when done.
func New(opts ...Option) (*Issuer, error) {
	i := &Issuer{alg: ssotoken.HS256, lifetime: ssotoken.DefaultTTL, now: time.Now}
	for _, o := range opts {
		if o.apply == nil {
			continue
		}
		if err := o.apply(i); err != nil {
			return nil, err
		}
	}
	if i.secret != nil && i.alg != ssotoken.HS256 {
		return nil, fmt.Errorf("ssotokentest: a secret is for HS256, not %s", i.alg)
	}
	key, err := i.newKey()
	if err != nil {
		return nil, err
	}
	if i.ring, err = ssotoken.NewKeyring(key); err != nil {
		return nil, err
	}
	// A Signer issues nothing in the second it was started in (so that a
	// restarted server never repeats a TokenRefNo): its clock reads the
	// second before while it starts, so that the first token comes at once.
	var started atomic.Bool
	i.signer, err = ssotoken.NewSigner(ssotoken.SignerConfig{
		Keys: i.ring, TTL: i.lifetime, Issuer: i.iss, Audience: i.aud,
		Now: func() time.Time {
			if started.Load() {
				return i.now()
			}
			return i.now().Add(-time.Second)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("ssotokentest: %w", err)
	}
	started.Store(true)
	if i.alg != ssotoken.HS256 {
		i.srv = httptest.NewServer(http.HandlerFunc(i.serveJWKS))
	}
	return i, nil
}

// newKey makes a key of the Issuer's algorithm: for HS256 one without id,
// whose tokens have the API document's header.
func (i *Issuer) newKey() (*ssotoken.Key, error) {
	var priv crypto.Signer
	var err error
	switch i.alg {
	case ssotoken.HS256:
		if i.secret == nil {
			i.secret = []byte(rand.Text() + rand.Text()) // 52 bytes, printable, as an SSO_SECRET is
		}
		return ssotoken.NewHMACKey("", i.secret)
	case ssotoken.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case ssotoken.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ssotoken.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return ssotoken.NewSigningKey("test-"+hex.EncodeToString(id), i.alg, priv)
}

// serveJWKS answers GET with the public keys of the ring, as a JWKS.
func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	b, err := json.Marshal(i.ring.JWKS())
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_, _ = w.Write(b)
}

// Close stops the JWKS server. It is idempotent.
func (i *Issuer) Close() {
	if i.srv != nil {
		i.srv.Close()
	}
}

// Issue implements ssotoken.Issuer: it signs a TokenNo for req, as the
// GenerateSSOToken server does.
func (i *Issuer) Issue(ctx context.Context, req ssotoken.Request) (ssotoken.Response, error) {
	return i.signer.Issue(ctx, req)
}

// TokenNo returns a TokenNo for req; it fails t if req is not valid.
func (i *Issuer) TokenNo(t testing.TB, req ssotoken.Request) string {
	t.Helper()
	resp, err := i.signer.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("ssotokentest: issue: %v", err)
	}
	return resp.TokenNo
}

// Keys returns the ring that signs the tokens; its keys also verify them.
func (i *Issuer) Keys() *ssotoken.Keyring { return i.ring }

// Secret returns a copy of the HS256 secret, for code under test that
// takes the shared secret (an SSO_SECRET); nil for an asymmetric Issuer.
func (i *Issuer) Secret() []byte { return append([]byte(nil), i.secret...) }

// JWKSURL returns the URL of the JWKS document that publishes the public
// keys of an asymmetric Issuer, for ssotoken.RemoteKeysConfig.URL; "" for
// HS256, whose secret is never published.
func (i *Issuer) JWKSURL() string {
	if i.srv == nil {
		return ""
	}
	return i.srv.URL + "/.well-known/jwks.json"
}

// VerifierConfig returns the configuration of a Verifier for lob that
// accepts the Issuer's tokens: its keys (a Keyring: set Keys to
// RemoteKeys of JWKSURL to verify as a LOB that fetches them), the claims
// it puts in, its lifetime and its clock. Leeway and Replay are the
// caller's.
func (i *Issuer) VerifierConfig(lob string) ssotoken.VerifierConfig {
	return ssotoken.VerifierConfig{
		Keys: i.ring, LOBId: lob, Issuer: i.iss, Audience: i.aud,
		MaxLifetime: i.lifetime, Now: i.clock,
	}
}

// Verifier returns a Verifier of VerifierConfig(lob); it fails t if lob is
// empty.
func (i *Issuer) Verifier(t testing.TB, lob string) *ssotoken.Verifier {
	t.Helper()
	v, err := ssotoken.NewVerifier(i.VerifierConfig(lob))
	if err != nil {
		t.Fatalf("ssotokentest: %v", err)
	}
	return v
}

// Rotate makes a new key of the Issuer's algorithm sign from now on and
// returns its kid. The previous key stays in Keys and in the JWKS, so
// that the tokens it signed keep verifying, until Retire; a LOB that
// verifies with JWKSURL sees a new kid and fetches the set again. An
// HS256 Issuer has one secret and cannot rotate.
func (i *Issuer) Rotate() (string, error) {
	if i.alg == ssotoken.HS256 {
		return "", errors.New("ssotokentest: an HS256 Issuer has one secret and cannot rotate")
	}
	key, err := i.newKey()
	if err != nil {
		return "", err
	}
	return key.ID(), i.ring.Rotate(key)
}

// Retire withdraws the key kid from Keys and from the JWKS: the tokens it
// signed stop verifying once a LOB has fetched the set again. The signing
// key cannot be retired; Rotate first.
func (i *Issuer) Retire(kid string) error { return i.ring.Remove(kid) }
