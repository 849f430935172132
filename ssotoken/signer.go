package ssotoken

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"
)

// DefaultTTL is the lifetime of a TokenNo when SignerConfig.TTL is zero:
// one hour, as in the API document's sample (exp = iat + 3600).
const DefaultTTL = time.Hour

// SignerConfig configures a Signer. Only Keys is required.
type SignerConfig struct {
	// Keys signs the tokens of every LOB that has no ring in LOBKeys. Its
	// active key must be able to sign. Required.
	Keys *Keyring

	// LOBKeys gives a LOB its own keys, keyed by LOBId. A LOB listed here
	// is signed only with its own ring, so a token minted for it cannot be
	// verified with another LOB's keys, nor the reverse. Optional.
	LOBKeys map[string]*Keyring

	// TTL is the lifetime of a token, "exp" minus "iat". Zero means
	// DefaultTTL (one hour); it is rounded down to whole seconds and must be
	// at least one second.
	TTL time.Duration

	// Issuer, when set, is put in every token as "iss", after the API
	// document's claims.
	Issuer string
	// Audience, when set, is put in every token as "aud" (a single string),
	// after "iss".
	Audience string
	// IncludeJTI puts the TokenRefNo in every token as "jti", the last
	// claim. The API document's tokens have none, and a Verifier needs
	// none for single use.
	IncludeJTI bool

	// Instance and Instances number this issuer in its fleet, so that no
	// two instances make the same TokenRefNo: Instance is this instance's
	// number, from 0 to Instances-1, and Instances the size of the fleet,
	// at most MaxInstances; 0 means 1. See RefNoGenerator for the scheme
	// and its limits.
	Instance  int
	Instances int
	// WideRefNo makes 20-digit TokenRefNo values (WideRefNoLen) instead of
	// the API document's 15 (RefNoLen).
	WideRefNo bool

	// Now is the clock of the Signer's TokenRefNo generator, which gives
	// every token its issue time ("Date", "iat"); nil means time.Now. An
	// injected clock is taken for a test's: the generator then issues in
	// the second it was created in (a fixed test clock can issue), which
	// the real clock does not (see RefNoGenerator), so leave Now nil in
	// production, even as time.Now.
	Now func() time.Time

	// RefNos, when set, makes the TokenRefNo and issue time of each token
	// instead of a generator of the Signer's own: give every Signer of a
	// process the same one. Instance, Instances, WideRefNo and Now are then
	// the generator's, and must be left zero here.
	RefNos *RefNoGenerator
}

// Signer is the local Issuer: it mints TokenNo values as signed JWS
// compact tokens (HS256 by default) whose claims are the API document's,
// in its order, and TokenRefNo values of the document's shape. It is safe
// for concurrent use.
//
// A new Signer issues nothing in the second in which it was created (see
// RefNoGenerator): the first Issue after start-up may wait up to a second.
type Signer struct {
	keys    *Keyring
	lobKeys map[string]*Keyring
	ttl     int64
	iss     string
	aud     string
	jti     bool
	refNos  *RefNoGenerator
}

var _ Issuer = (*Signer)(nil)

// NewSigner returns a Signer for cfg, or an error if cfg is not usable.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	if cfg.Keys == nil {
		return nil, errors.New("ssotoken: SignerConfig.Keys is required")
	}
	if k := cfg.Keys.Active(); k == nil || !k.CanSign() {
		return nil, errors.New("ssotoken: the active key of SignerConfig.Keys cannot sign")
	}
	lobKeys := make(map[string]*Keyring, len(cfg.LOBKeys))
	for lob, ring := range cfg.LOBKeys {
		if ring == nil || ring.Active() == nil || !ring.Active().CanSign() {
			return nil, errors.New("ssotoken: SignerConfig.LOBKeys[" + lob + "] has no active key that can sign")
		}
		lobKeys[lob] = ring
	}
	ttl := cmp.Or(cfg.TTL, DefaultTTL)
	if ttl < time.Second {
		return nil, errors.New("ssotoken: SignerConfig.TTL must be at least one second")
	}
	for name, v := range map[string]string{"Issuer": cfg.Issuer, "Audience": cfg.Audience} {
		if !printable(v) {
			return nil, errors.New("ssotoken: SignerConfig." + name + " holds control characters")
		}
	}
	refNos := cfg.RefNos
	if refNos != nil {
		if cfg.Instance != 0 || cfg.Instances != 0 || cfg.WideRefNo || cfg.Now != nil {
			return nil, errors.New("ssotoken: SignerConfig.RefNos is set: leave Instance, Instances, WideRefNo and Now to its RefNoConfig")
		}
	} else {
		var err error
		refNos, err = newRefNoGenerator(RefNoConfig{Instance: cfg.Instance, Instances: cfg.Instances, Wide: cfg.WideRefNo, Now: cfg.Now}, "SignerConfig")
		if err != nil {
			return nil, err
		}
	}
	return &Signer{
		keys:    cfg.Keys,
		lobKeys: lobKeys,
		ttl:     int64(ttl / time.Second),
		iss:     cfg.Issuer,
		aud:     cfg.Audience,
		jti:     cfg.IncludeJTI,
		refNos:  refNos,
	}, nil
}

// Keys returns the ring that signs tokens for lobID: its own ring from
// SignerConfig.LOBKeys, or the default ring.
func (s *Signer) Keys(lobID string) *Keyring {
	if r, ok := s.lobKeys[lobID]; ok {
		return r
	}
	return s.keys
}

// Issue validates req and mints a token for it. It fails with an
// ErrBadRequest error for an invalid request (see Request.Validate), an
// ErrTimeout error if ctx is done before the token's second has come (see
// RefNoGenerator.Next), and an ErrUpstream error if the signing key fails
// (a remote crypto.Signer, say).
func (s *Signer) Issue(ctx context.Context, req Request) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, Wrap(err)
	}
	if err := req.Validate(); err != nil {
		return Response{}, err
	}
	key := s.Keys(req.LOBId).Active()

	b := bufPool.Get().(*tokenBuf)
	defer bufPool.Put(b)

	ref, at, err := s.refNos.append(ctx, b.ref[:0])
	if err != nil {
		return Response{}, err
	}
	b.ref = ref
	c := Claims{
		CIINo:         req.CIINo,
		LOBId:         req.LOBId,
		Functionality: req.Functionality,
		IssuedAt:      at.Unix(),
		ExpiresAt:     at.Unix() + s.ttl,
		Issuer:        s.iss,
		Audience:      s.aud,
	}
	var jti []byte
	if s.jti {
		jti = ref
	}
	token, err := sign(b, key, &c, at, jti)
	if err != nil {
		return Response{}, NewError(ErrUpstream, CodeSigningFailed, "the token could not be signed", err)
	}
	return Response{
		ReturnCode:    ReturnCodeSuccess,
		ReturnMessage: MessageGenerated,
		TokenRefNo:    string(ref),
		TokenNo:       token,
	}, nil
}

// CodeSigningFailed is the code of an Issue that failed in its key.
const CodeSigningFailed = "signing_failed"

// tokenBuf holds the scratch space of one signing.
type tokenBuf struct {
	json []byte
	ref  []byte
}

var bufPool = sync.Pool{New: func() any {
	return &tokenBuf{json: make([]byte, 0, 512), ref: make([]byte, 0, WideRefNoLen)}
}}

// sign encodes c and signs it with key. A non-zero date and a non-nil
// jti are written in place of c.Date and c.ID (see Claims.appendJSON).
func sign(b *tokenBuf, key *Key, c *Claims, date time.Time, jti []byte) (string, error) {
	b.json = c.appendJSON(b.json[:0], date, jti)
	return key.sign(b.json)
}
