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

	// Issuer, when set, is put in every token as "iss".
	Issuer string
	// Audience, when set, is put in every token as "aud" (a single string).
	Audience string

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// RefNos makes the TokenRefNo of each token; nil means a new generator
	// that uses Now.
	RefNos *RefNoGenerator
}

// Signer is the local Issuer: it mints TokenNo values as signed JWS
// compact tokens (HS256 by default) with the API document's claims plus
// "jti" = TokenRefNo. It is safe for concurrent use.
type Signer struct {
	keys    *Keyring
	lobKeys map[string]*Keyring
	ttl     int64
	iss     string
	aud     string
	now     func() time.Time
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
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	refNos := cfg.RefNos
	if refNos == nil {
		refNos = &RefNoGenerator{Now: now}
	}
	return &Signer{
		keys:    cfg.Keys,
		lobKeys: lobKeys,
		ttl:     int64(ttl / time.Second),
		iss:     cfg.Issuer,
		aud:     cfg.Audience,
		now:     now,
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
// ErrTimeout error if ctx is already done, and an ErrUpstream error if the
// signing key fails (a remote crypto.Signer, say).
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

	now := s.now()
	ref := s.refNos.append(b.ref[:0])
	b.ref = ref
	c := Claims{
		CIINo:         req.CIINo,
		LOBId:         req.LOBId,
		Functionality: req.Functionality,
		IssuedAt:      now.Unix(),
		ExpiresAt:     now.Unix() + s.ttl,
		Issuer:        s.iss,
		Audience:      s.aud,
	}
	token, err := sign(b, key, &c, now, ref)
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
	return &tokenBuf{json: make([]byte, 0, 512), ref: make([]byte, 0, RefNoLen)}
}}

// sign encodes c and signs it with key. A non-zero date and a non-nil
// jti are written in place of c.Date and c.ID (see Claims.appendJSON).
func sign(b *tokenBuf, key *Key, c *Claims, date time.Time, jti []byte) (string, error) {
	b.json = c.appendJSON(b.json[:0], date, jti)
	return key.sign(b.json)
}
