package ssotoken

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/internal/jose"
)

// Sign returns a compact JWS (RFC 7515 section 7.1) of payload, a JSON
// object, signed through golang-jwt with the ring's active key under that
// key's header. A Keyring signs one token class: give each class its own,
// so that a token of one never verifies as another.
func (r *Keyring) Sign(payload []byte) (string, error) {
	k := r.Active()
	if k == nil {
		return "", errors.New("ssotoken: the keyring has no key")
	}
	return k.sign(payload)
}

// ParseOptions are the checks of Keyring.Parse beyond the signature.
type ParseOptions struct {
	// Leeway is the clock skew allowed for "exp", "nbf" and "iat".
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Issuer, when set, is the "iss" a token must have.
	Issuer string
	// Audience, when set, is an "aud" a token must have.
	Audience string
}

// Parse verifies token with the ring's keys through golang-jwt/jwt/v5 and
// decodes its claims into claims, and returns the key that verified it.
// The checks, in order: three segments of strict base64url (no padding,
// no stray bits); the header under the module's JSON policy (no name
// twice, no case variant of a header parameter, no key carried in the
// header, no "crit", "typ" JWT if present); a key of the ring named by the
// header's "kid" (or the ring's key without id when there is none), whose
// algorithm the header names; the signature; "exp" (required), "nbf" and
// "iat" with opts.Leeway; the issuer and audience when opts set them.
//
// claims decodes itself: the module's token classes apply the same JSON
// policy to their claims in their UnmarshalJSON. Failures are
// ErrUnauthorized *Errors with the codes of Verifier (token_malformed,
// claims_malformed, unknown_key, alg_not_allowed, bad_signature,
// exp_missing, token_expired, token_not_yet_valid, wrong_issuer,
// wrong_audience). The caller bounds the token's size first.
func (r *Keyring) Parse(token string, claims jwt.Claims, opts ParseOptions) (*Key, error) {
	return parse(context.Background(), r, token, claims, opts)
}

// parse is Parse over any key set: the keys of src's snapshot, and, when
// no key has the token's kid, those src.missing finds (a *RemoteKeys
// fetches its JWKS again, waiting within ctx).
func parse(ctx context.Context, src KeySet, token string, claims jwt.Claims, opts ParseOptions) (*Key, error) {
	switch {
	case token == "":
		return nil, ErrTokenMissing
	case !jose.Compact(token):
		return nil, ErrTokenMalformed
	}
	snap := src.snapshot()
	methods := src.methods(snap)
	if len(methods) == 0 {
		return nil, ErrUnknownKey
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	var extra []jwt.ParserOption
	if opts.Issuer != "" {
		extra = append(extra, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		extra = append(extra, jwt.WithAudience(opts.Audience))
	}
	p := jose.Parser(methods, opts.Leeway, now, extra...)
	var key *Key
	kf := jose.Keyfunc(p, func(seg string) (any, bool) {
		key = snap.byHeader[seg]
		return keyOf(key), key != nil
	}, func(h jose.Header) (any, error) {
		var err error
		key, err = snap.lookup(h)
		if errors.Is(err, ErrUnknownKey) && h.Kid != "" {
			key, snap, err = src.missing(ctx, snap, h)
		}
		return keyOf(key), err
	})
	t, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		k, err := kf(t)
		if jose.IsPolicy(err) {
			return nil, ErrTokenMalformed // the header's policy
		}
		return k, err
	})
	if err != nil {
		return nil, snap.tokenError(p, t, claims, &opts, methods, err)
	}
	return key, nil
}

// keyOf returns k's verification key, or nil.
func keyOf(k *Key) any {
	if k == nil {
		return nil
	}
	return k.verifyKey
}

// lookup finds the key for a header that the ring did not produce.
func (s *keySnapshot) lookup(h jose.Header) (*Key, error) {
	switch {
	case h.HasTyp && !strings.EqualFold(h.Typ, "JWT"):
		return nil, ErrTokenMalformed
	case h.HasKid && h.Kid == "":
		return nil, ErrUnknownKey
	}
	k, ok := s.byID[h.Kid]
	if !ok {
		return nil, ErrUnknownKey
	}
	if Algorithm(h.Alg) != k.alg {
		return nil, ErrAlgNotAllowed
	}
	return k, nil
}

// tokenError turns a failure of golang-jwt's parser p into the taxonomy.
// claims and opts tell which claim a failed validation is about; methods
// are the algorithms the parser allowed.
func (s *keySnapshot) tokenError(p *jwt.Parser, t *jwt.Token, claims jwt.Claims, opts *ParseOptions, methods []string, err error) *Error {
	if e := asError(err); e != nil {
		return e // the key lookup's
	}
	switch {
	case jose.IsPolicy(err):
		return ErrClaimsMalformed
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrTokenMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// No "alg", or one golang-jwt does not know.
		if t != nil {
			if _, ok := t.Header["alg"].(string); ok {
				return ErrAlgNotAllowed
			}
		}
		return ErrTokenMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if t != nil && t.Method != nil && !slices.Contains(methods, t.Method.Alg()) {
			// golang-jwt refused the algorithm before the key lookup; as
			// the lookup would have, the header's policy is judged first,
			// then a key the ring lacks is named. So a key set whose
			// parser allows more algorithms (RemoteKeys) gives the same
			// answer (FuzzRemoteKeysSameChecks).
			if _, herr := jose.CheckHeader(p, t); jose.IsPolicy(herr) {
				return ErrTokenMalformed
			}
			kid, _ := t.Header["kid"].(string)
			if _, ok := s.byID[kid]; !ok {
				return ErrUnknownKey
			}
			return ErrAlgNotAllowed
		}
		return ErrBadSignature
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		// golang-jwt reports every failed check at once: the first in
		// the order of the documentation wins.
		exp, _ := claims.GetExpirationTime()
		iss, _ := claims.GetIssuer()
		switch {
		case exp == nil:
			return ErrExpMissing
		case errors.Is(err, jwt.ErrTokenExpired):
			return ErrTokenExpired
		case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return ErrTokenNotYetValid
		case errors.Is(err, jwt.ErrTokenInvalidIssuer), opts.Issuer != "" && iss == "":
			return ErrWrongIssuer
		case errors.Is(err, jwt.ErrTokenInvalidAudience), opts.Audience != "":
			return ErrWrongAudience
		}
	}
	return ErrTokenMalformed
}
