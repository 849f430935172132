package ssotoken

import (
	"cmp"
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Verifier defaults and limits.
const (
	// DefaultMaxTokenBytes is the longest token a Verifier reads when
	// VerifierConfig.MaxTokenBytes is zero.
	DefaultMaxTokenBytes = 8 << 10
	// MaxLeeway is the largest VerifierConfig.Leeway accepted.
	MaxLeeway = 5 * time.Minute
)

// Codes of the errors Verify returns. All are ErrUnauthorized but for
// CodeReplayStoreFull and store failures (ErrUpstream, ErrTimeout).
const (
	CodeTokenMissing     = "token_missing"       // empty token
	CodeTokenTooLarge    = "token_too_large"     // over MaxTokenBytes
	CodeTokenMalformed   = "token_malformed"     // not three base64url segments of JSON
	CodeAlgNotAllowed    = "alg_not_allowed"     // header alg is not the key's algorithm
	CodeUnknownKey       = "unknown_key"         // no key with the header's kid (or without kid)
	CodeBadSignature     = "bad_signature"       // signature does not verify
	CodeClaimsMalformed  = "claims_malformed"    // payload is not the expected claim set
	CodeExpMissing       = "exp_missing"         // no "exp"
	CodeIatMissing       = "iat_missing"         // no "iat"
	CodeTokenExpired     = "token_expired"       // now is past exp + leeway
	CodeTokenNotYetValid = "token_not_yet_valid" // iat or nbf in the future beyond leeway
	CodeLifetimeTooLong  = "lifetime_too_long"   // exp - iat over MaxLifetime, or not positive
	CodeWrongIssuer      = "wrong_issuer"        // "iss" is not the configured issuer
	CodeWrongAudience    = "wrong_audience"      // "aud" is not the configured audience
	CodeWrongLOB         = "wrong_lob"           // "LOBId" is not this verifier's LOB
	CodeTokenReplayed    = "token_replayed"      // the token was already redeemed
	CodeReplayStore      = "replay_store_error"  // the replay store failed (ErrUpstream)
	CodeKeysUnavailable  = "jwks_unavailable"    // no key of a remote key set was ever fetched (ErrUpstream)
)

// VerifierConfig configures a Verifier: what a linked LOB holds to accept
// the TokenNo values minted for it.
type VerifierConfig struct {
	// Keys are the keys that verify tokens, each pinned to its algorithm:
	// a *Keyring that holds the shared HS256 secret or the issuer's public
	// keys, or a *RemoteKeys that fetches the issuer's public keys from its
	// JWKS URL, for TokenNo signed with RS256, ES256 or EdDSA (ssoserver
	// -sso-key publishes them at /.well-known/jwks.json):
	//
	//	keys, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: "https://sso.example/.well-known/jwks.json"})
	//	...
	//	defer keys.Close()
	//	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: keys, LOBId: "01"})
	//
	// Every check is the same whichever it is. Required.
	Keys KeySet

	// LOBId is the line of business this verifier accepts tokens for; a
	// token whose "LOBId" differs is rejected. Required.
	LOBId string

	// Issuer, when set, must equal the token's "iss".
	Issuer string
	// Audience, when set, must equal the token's "aud".
	Audience string

	// Leeway is the clock skew allowed on "exp", "nbf" and "iat", at most
	// MaxLeeway. Zero means none.
	Leeway time.Duration

	// MaxLifetime is the longest "exp" - "iat" accepted. Zero means
	// DefaultTTL (one hour), the Signer's default: raise both together.
	MaxLifetime time.Duration

	// MaxTokenBytes bounds the token's length: a token of exactly
	// MaxTokenBytes bytes is read, a longer one refused unread
	// (token_too_large). Zero means DefaultMaxTokenBytes (8 KiB).
	MaxTokenBytes int

	// Replay, when set, makes tokens single use: a token is redeemed in it
	// under its RedemptionID, a digest of its signed header and payload,
	// after every other check passed, and a second redemption fails with
	// CodeTokenReplayed. Any token can be single use, with "jti" or without
	// (the API document's tokens have none); two tokens that share a
	// TokenRefNo are still two tokens. Optional.
	Replay ReplayStore

	// OnRedeem, when set, is called once per redemption in Replay with its
	// result (accepted, replayed, store full, store unavailable), to count
	// them in the host's metrics; Stats gives the same counts on demand.
	// It is called by Verify, on the caller's goroutine and with its ctx,
	// after the store answered and before Verify returns: it must not
	// block, and must be safe for concurrent use. Tokens refused before
	// the redemption are not redemptions.
	OnRedeem func(ctx context.Context, result RedeemResult)

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier verifies TokenNo values: the signature under a key of its ring
// (algorithm pinned per key, "kid" looked up, never tried key by key),
// then "exp" (required), "nbf", "iat" (required) with leeway, the maximum
// lifetime, issuer, audience and LOB, and finally single use when a
// ReplayStore is configured. It is safe for concurrent use.
type Verifier struct {
	keys        KeySet
	lob         string
	iss, aud    string
	leeway      time.Duration
	maxLifetime int64
	maxBytes    int
	replay      ReplayStore
	onRedeem    func(context.Context, RedeemResult)
	now         func() time.Time

	redeemed [5]atomic.Uint64 // by redeemIndex
}

// redeemIndex is the slot of a result in Verifier.redeemed.
func redeemIndex(r RedeemResult) int {
	switch r {
	case RedeemAccepted:
		return 0
	case RedeemReplayed:
		return 1
	case RedeemStoreFull:
		return 2
	case RedeemStoreUnavailable:
		return 3
	}
	return 4
}

// NewVerifier returns a Verifier for cfg, or an error if cfg is not usable.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	switch {
	case cfg.Keys == nil || !cfg.Keys.usable():
		return nil, errors.New("ssotoken: VerifierConfig.Keys is required")
	case cfg.LOBId == "":
		return nil, errors.New("ssotoken: VerifierConfig.LOBId is required")
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return nil, errors.New("ssotoken: VerifierConfig.Leeway must be between 0 and 5m")
	case cfg.MaxLifetime < 0 || cfg.MaxTokenBytes < 0:
		return nil, errors.New("ssotoken: VerifierConfig.MaxLifetime and MaxTokenBytes must not be negative")
	}
	cfg.MaxLifetime = cmp.Or(cfg.MaxLifetime, DefaultTTL)
	cfg.MaxTokenBytes = cmp.Or(cfg.MaxTokenBytes, DefaultMaxTokenBytes)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Verifier{
		keys:        cfg.Keys,
		lob:         cfg.LOBId,
		iss:         cfg.Issuer,
		aud:         cfg.Audience,
		leeway:      cfg.Leeway,
		maxLifetime: int64(cfg.MaxLifetime / time.Second),
		maxBytes:    cfg.MaxTokenBytes,
		replay:      cfg.Replay,
		onRedeem:    cfg.OnRedeem,
		now:         cfg.Now,
	}, nil
}

// Stats returns the redemptions counted since the Verifier was made, by
// result. It is a few atomic loads, safe for concurrent use.
func (v *Verifier) Stats() VerifierStats {
	return VerifierStats{
		Accepted:         v.redeemed[0].Load(),
		Replayed:         v.redeemed[1].Load(),
		StoreFull:        v.redeemed[2].Load(),
		StoreUnavailable: v.redeemed[3].Load(),
		CallerLimited:    v.redeemed[4].Load(),
	}
}

// Ready reports whether the Verifier can accept tokens now, for a
// readiness probe: its keys are there (a Keyring always; a RemoteKeys once
// a usable key was fetched: RemoteKeys.Ready's error, which wraps
// ErrKeysUnavailable), and its ReplayStore answers when it can tell (one
// that implements Pinger is pinged under ctx; its failure is an *Error of
// kind ErrUpstream and code CodeReplayStore, or ErrTimeout when ctx ended;
// a store that does not implement Pinger is taken to answer). It is safe
// for concurrent use.
func (v *Verifier) Ready(ctx context.Context) error {
	if err := v.keys.ready(); err != nil {
		return err
	}
	p, ok := v.replay.(Pinger)
	if !ok {
		return nil
	}
	if err := p.Ping(ctx); err != nil {
		if asError(err) != nil || KindOf(err) == ErrTimeout {
			return Wrap(err)
		}
		return NewError(ErrUpstream, CodeReplayStore, "the replay store does not answer", err)
	}
	return nil
}

// The errors of a token that is refused, one per code above; every
// verifier of the module (the LOB's Verifier, package cognito's and package
// cookiesso's authenticators) returns these values, so that
// errors.Is(err, ssotoken.ErrTokenExpired) holds whichever refused it.
var (
	ErrTokenMissing     = unauthorized(CodeTokenMissing, "the token is missing")
	ErrTokenTooLarge    = unauthorized(CodeTokenTooLarge, "the token is too large")
	ErrTokenMalformed   = unauthorized(CodeTokenMalformed, "the token is malformed")
	ErrAlgNotAllowed    = unauthorized(CodeAlgNotAllowed, "the token's algorithm is not allowed")
	ErrUnknownKey       = unauthorized(CodeUnknownKey, "the token's key is not known")
	ErrBadSignature     = unauthorized(CodeBadSignature, "the token's signature is not valid")
	ErrClaimsMalformed  = unauthorized(CodeClaimsMalformed, "the token's claims are malformed")
	ErrExpMissing       = unauthorized(CodeExpMissing, "the token has no expiry")
	ErrIatMissing       = unauthorized(CodeIatMissing, "the token has no issue time")
	ErrTokenExpired     = unauthorized(CodeTokenExpired, "the token has expired")
	ErrTokenNotYetValid = unauthorized(CodeTokenNotYetValid, "the token is not valid yet")
	ErrLifetimeTooLong  = unauthorized(CodeLifetimeTooLong, "the token's lifetime is not allowed")
	ErrWrongIssuer      = unauthorized(CodeWrongIssuer, "the token's issuer is not accepted")
	ErrWrongAudience    = unauthorized(CodeWrongAudience, "the token's audience is not accepted")
	ErrWrongLOB         = unauthorized(CodeWrongLOB, "the token is for another line of business")
	ErrTokenReplayed    = unauthorized(CodeTokenReplayed, "the token was already used")
	ErrKeysUnavailable  = NewError(ErrUpstream, CodeKeysUnavailable, "the issuer's keys are not available", nil)
)

func unauthorized(code, msg string) *Error {
	return NewError(ErrUnauthorized, code, msg, nil)
}

// Verify checks token and returns its claims: Keyring.Parse's checks
// (golang-jwt, the header and claims under the module's JSON policy, the
// signature, "exp", "nbf" and "iat" with Leeway, issuer and audience when
// configured), then "iat" required, the lifetime, the LOB, and single use
// when a ReplayStore is configured. Every failure is an *Error:
// ErrUnauthorized with the codes above, or, with a ReplayStore, ErrUpstream
// or ErrTimeout when the store cannot answer. A bad signature is reported
// before any claim, so an expired forgery reads as a forgery.
//
// With RemoteKeys, a kid the set lacks makes Verify wait, within ctx, for
// the set to be fetched again (see RemoteKeys); while no key was ever
// fetched it fails with ErrKeysUnavailable (ErrUpstream), and when ctx ends
// first with ErrTimeout.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > v.maxBytes {
		return nil, ErrTokenTooLarge
	}
	tc := newTokenClaims()
	if _, err := parse(ctx, v.keys, token, tc, ParseOptions{Leeway: v.leeway, Now: v.now, Issuer: v.iss, Audience: v.aud}); err != nil {
		return nil, err
	}
	c := tc.claims()
	if v.aud != "" {
		c.Audience = v.aud // the one of the token's audiences this LOB accepted
	}
	if err := v.checkClaims(c, tc.HasIat); err != nil {
		return nil, err
	}
	if v.replay != nil {
		first, err := v.redeem(ctx, c, token)
		result := redeemResult(first, err)
		v.redeemed[redeemIndex(result)].Add(1)
		if v.onRedeem != nil {
			v.onRedeem(ctx, result)
		}
		if err != nil {
			if asError(err) == nil && KindOf(err) != ErrTimeout {
				if _, bare := err.(Kind); bare {
					err = errors.New(err.Error()) // keep the text, not a second kind
				}
				err = NewError(ErrUpstream, CodeReplayStore, "the token could not be checked for reuse", err)
			}
			return nil, Wrap(err)
		}
		if !first {
			return nil, ErrTokenReplayed
		}
	}
	return c, nil
}

// redeem records the token in the replay store: under its CIINo when the
// store bounds each caller (a CallerReplayStore).
func (v *Verifier) redeem(ctx context.Context, c *Claims, token string) (bool, error) {
	id, exp := RedemptionID(token), time.Unix(c.ExpiresAt, 0).Add(v.leeway)
	if cs, ok := v.replay.(CallerReplayStore); ok {
		return cs.RedeemFor(ctx, c.CIINo, id, exp)
	}
	return v.replay.Redeem(ctx, id, exp)
}

// checkClaims runs the checks golang-jwt does not: "iat" required, the
// lifetime, and the LOB.
func (v *Verifier) checkClaims(c *Claims, hasIat bool) error {
	switch {
	case !hasIat:
		return ErrIatMissing
	case c.ExpiresAt-c.IssuedAt <= 0 || c.ExpiresAt-c.IssuedAt > v.maxLifetime:
		return ErrLifetimeTooLong
	case c.LOBId != v.lob:
		return ErrWrongLOB
	}
	return nil
}
