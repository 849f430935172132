package ssotoken

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
)

// Keyring is a set of keys with one active signing key. Retired keys stay
// in the ring and keep verifying the tokens they signed until they are
// removed, so a key can be rotated without failing tokens in flight:
//
//	ring.Rotate(next) // next signs from now on; the old key still verifies
//	// ... wait at least one token lifetime plus leeway ...
//	ring.Remove(old.ID())
//
// Key ids are unique within a ring, and at most one key has an empty id:
// a token without "kid" verifies only under that key, so verification
// never tries keys in turn. Reads are lock-free; a Keyring is safe for
// concurrent use, including rotation while tokens are signed and verified.
type Keyring struct {
	mu   sync.Mutex // serializes writers
	snap atomic.Pointer[keySnapshot]
}

type keySnapshot struct {
	active   *Key
	keys     []*Key          // in the order they were added
	byID     map[string]*Key // kid -> key; "" for the key without id
	byHeader map[string]*Key // encoded header segment (without '.') -> key
	algs     []string        // the algorithms of keys, for golang-jwt's WithValidMethods
}

// NewKeyring returns a ring whose active key is active, with others as
// further verification keys. The active key must be able to sign if the
// ring is used by a Signer; a ring used only by a Verifier may hold
// verify-only keys.
func NewKeyring(active *Key, others ...*Key) (*Keyring, error) {
	if active == nil {
		return nil, errors.New("ssotoken: keyring needs a key")
	}
	s, err := (&keySnapshot{}).with(append([]*Key{active}, others...)...)
	if err != nil {
		return nil, err
	}
	s.active = active
	r := &Keyring{}
	r.snap.Store(s)
	return r, nil
}

func (s *keySnapshot) with(add ...*Key) (*keySnapshot, error) {
	n := &keySnapshot{
		active:   s.active,
		keys:     slices.Clone(s.keys),
		byID:     make(map[string]*Key, len(s.keys)+len(add)),
		byHeader: make(map[string]*Key, len(s.keys)+len(add)),
	}
	for _, k := range s.keys {
		n.byID[k.id], n.byHeader[k.headerSegment()] = k, k
	}
	for _, k := range add {
		if k == nil {
			return nil, errors.New("ssotoken: keyring: nil key")
		}
		if _, dup := n.byID[k.id]; dup {
			if k.id == "" {
				return nil, errors.New("ssotoken: keyring: only one key may have no id")
			}
			return nil, errors.New("ssotoken: keyring: duplicate key id " + k.id)
		}
		n.byID[k.id], n.byHeader[k.headerSegment()] = k, k
		n.keys = append(n.keys, k)
	}
	for _, k := range n.keys {
		if !slices.Contains(n.algs, string(k.alg)) {
			n.algs = append(n.algs, string(k.alg))
		}
	}
	return n, nil
}

// emptySnapshot is what a zero Keyring holds: no key at all.
var emptySnapshot = &keySnapshot{byID: map[string]*Key{}, byHeader: map[string]*Key{}}

// load returns the current snapshot; a zero Keyring (not made by
// NewKeyring) has no key, verifies nothing and cannot sign.
func (r *Keyring) load() *keySnapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	return emptySnapshot
}

// Active returns the key that signs new tokens, or nil for a zero Keyring.
func (r *Keyring) Active() *Key { return r.load().active }

// Key returns the key with the given id ("" for the key without id).
func (r *Keyring) Key(id string) (*Key, bool) {
	k, ok := r.load().byID[id]
	return k, ok
}

// Keys returns every key of the ring, the active one included, in the
// order they were added.
func (r *Keyring) Keys() []*Key { return slices.Clone(r.load().keys) }

// Add adds a key that verifies but does not sign: a retired key, or the
// next key published ahead of a rotation.
func (r *Keyring) Add(k *Key) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.load().with(k)
	if err != nil {
		return err
	}
	r.snap.Store(n)
	return nil
}

// Rotate makes next the active signing key, adding it to the ring if it is
// not there yet. The previously active key stays, to verify the tokens it
// signed, until Remove.
func (r *Keyring) Rotate(next *Key) error {
	if next == nil {
		return errors.New("ssotoken: keyring: nil key")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, add := r.load(), []*Key{next}
	if cur, ok := n.byID[next.id]; ok {
		if cur != next {
			return errors.New("ssotoken: keyring: another key already has id " + next.id)
		}
		add = nil // already in the ring: only the active key changes
	}
	n, err := n.with(add...)
	if err != nil {
		return err
	}
	n.active = next
	r.snap.Store(n)
	return nil
}

// Remove removes the key with the given id: tokens it signed stop
// verifying. The active key cannot be removed; rotate first.
func (r *Keyring) Remove(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.load()
	k, ok := s.byID[id]
	switch {
	case !ok:
		return errors.New("ssotoken: keyring: no key with id " + id)
	case k == s.active:
		return errors.New("ssotoken: keyring: cannot remove the active key " + id)
	}
	n, err := (&keySnapshot{active: s.active}).with(slices.DeleteFunc(slices.Clone(s.keys), func(x *Key) bool { return x == k })...)
	if err != nil {
		return err
	}
	r.snap.Store(n)
	return nil
}

// JWK is one public key of a JSON Web Key Set (RFC 7517, RFC 7518
// section 6, RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS is a JSON Web Key Set document.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the public keys of the ring's asymmetric keys as a JWKS
// document, for publication to linked LOBs (keyfunc and other JWKS clients
// read it). HS256 secrets are never exported: a ring of HS256 keys gives
// an empty set.
func (r *Keyring) JWKS() JWKS {
	set := JWKS{Keys: []JWK{}}
	for _, k := range r.load().keys {
		if j, ok := k.jwk(); ok {
			set.Keys = append(set.Keys, j)
		}
	}
	return set
}

func (k *Key) jwk() (JWK, bool) {
	b64 := base64.RawURLEncoding.EncodeToString
	j := JWK{Kid: k.id, Use: "sig", Alg: string(k.alg)}
	switch p := k.public.(type) {
	case *rsa.PublicKey:
		j.Kty, j.N, j.E = "RSA", b64(p.N.Bytes()), b64(big.NewInt(int64(p.E)).Bytes())
	case *ecdsa.PublicKey:
		pt, err := p.Bytes() // 0x04 || X || Y
		if err != nil {
			return JWK{}, false
		}
		j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", b64(pt[1:33]), b64(pt[33:])
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(p)
	default:
		return JWK{}, false
	}
	return j, true
}

// MarshalJSON encodes the set; it exists so that a JWKS value and a
// *Keyring's JWKS() encode the same way.
func (s JWKS) MarshalJSON() ([]byte, error) {
	type plain JWKS
	if s.Keys == nil {
		s.Keys = []JWK{}
	}
	return json.Marshal(plain(s))
}
