package ssotoken

import (
	"context"

	"github.com/ssokit/ssokit/internal/jose"
)

// KeySet is where a Verifier finds the keys that verify a token: a
// *Keyring, whose keys the process holds, or a *RemoteKeys, whose keys
// come from the issuer's JWKS. Tokens are parsed and checked by the same
// code whichever it is; the interface is closed (its methods are
// unexported), so that no key source can leave a check out.
type KeySet interface {
	// snapshot returns the keys as they are now.
	snapshot() *keySnapshot
	// methods returns the algorithms the parser allows with snap; none
	// means no token can verify.
	methods(snap *keySnapshot) []string
	// missing is asked when snap has no key with the kid of header h. It
	// returns the key that a fresher set holds for h, that set, and the
	// error of the lookup in it.
	missing(ctx context.Context, snap *keySnapshot, h jose.Header) (*Key, *keySnapshot, error)
	// usable reports whether the set is not a nil pointer.
	usable() bool
	// ready returns nil when the set holds, or has held, a key.
	ready() error
}

var (
	_ KeySet = (*Keyring)(nil)
	_ KeySet = (*RemoteKeys)(nil)
)

func (r *Keyring) snapshot() *keySnapshot { return r.load() }

// methods are the algorithms of the ring's keys: a token of any other
// algorithm is refused before its key is looked up.
func (r *Keyring) methods(snap *keySnapshot) []string { return snap.algs }

// missing: a ring holds every key it will ever have.
func (r *Keyring) missing(_ context.Context, snap *keySnapshot, _ jose.Header) (*Key, *keySnapshot, error) {
	return nil, snap, ErrUnknownKey
}

func (r *Keyring) usable() bool { return r != nil }

// ready: a ring made by NewKeyring holds a key from the start.
func (r *Keyring) ready() error { return nil }
