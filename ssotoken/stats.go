package ssotoken

import (
	"context"
	"time"

	"github.com/ssokit/ssokit/internal/keyfetch"
)

// What a host can export without this module importing a metrics library:
// the fetches of a JWKS (FetchEvent, KeySetStats), the redemptions of a
// Verifier (RedeemResult, VerifierStats), and readiness (RemoteKeys.Ready,
// Verifier.Ready, Pinger). Package cognito reports its user pools' key
// sets with the same types.

// Results of a JWKS fetch: FetchEvent.Result, KeySetStats.LastResult and
// the keys of KeySetStats.Fetches. A fetch that brought a set is FetchOK
// or FetchNoUsableKey; a failed one is one of the others, or "HTTP nnn"
// (FetchHTTPStatusPrefix and the status: "HTTP 503") for an answer with a
// status other than 200. The set is bounded, so each may be a metric
// label, and none quotes the response or the URL.
const (
	FetchOK               = keyfetch.OK             // a set with at least one usable key
	FetchNoUsableKey      = keyfetch.NoUsableKey    // a set that parsed but holds no usable key (the keys are replaced all the same)
	FetchTimeout          = keyfetch.Timeout        // past FetchTimeout
	FetchCanceled         = keyfetch.Canceled       // canceled
	FetchConnRefused      = keyfetch.Refused        // nothing listens at the host and port
	FetchNameResolution   = keyfetch.NameResolution // the host name did not resolve
	FetchTLS              = keyfetch.TLS            // the TLS handshake failed
	FetchBodyTooLarge     = keyfetch.TooLarge       // a body over MaxJWKSBytes
	FetchNotKeySet        = keyfetch.NotKeySet      // not JSON, truncated, or not a JWKS
	FetchInvalidKey       = keyfetch.InvalidKey     // a key that cannot be read fails the whole set
	FetchHTTPStatus       = keyfetch.HTTPStatus     // a status whose number could not be read
	FetchFailed           = keyfetch.Failed         // any other failure of the request
	FetchHTTPStatusPrefix = "HTTP "                 // then the status: "HTTP 503"
)

// FetchEvent describes one finished fetch of a JWKS, for a metrics hook
// (RemoteKeysConfig.OnFetch, cognito.Config.OnFetch). It holds no key, no
// part of the response, and no query of the URL.
type FetchEvent struct {
	// Issuer is the user pool's issuer for package cognito, "" for a
	// RemoteKeys.
	Issuer string
	// URL is the JWKS URL without its query and user information.
	URL string
	// Result is FetchOK, FetchNoUsableKey, or what failed (see the Fetch
	// constants).
	Result string
	// Keys is the number of usable keys held after the fetch: unchanged
	// by a failed one, zero after FetchNoUsableKey.
	Keys int
}

// KeySetStats describes one key set fetched from a JWKS: a RemoteKeys', or
// one user pool's of a cognito.Authenticator. It is a copy, taken when
// asked for.
type KeySetStats struct {
	// Issuer and URL are as in FetchEvent. URL is "" for a static key set
	// (cognito.NewStatic), which is never fetched.
	Issuer string
	URL    string
	// Keys is the number of usable keys held now.
	Keys int
	// Ready is whether a usable key has been held at least once: until
	// then tokens fail with ErrKeysUnavailable (502), and Ready() reports
	// an error.
	Ready bool
	// LastOK is when the last FetchOK fetch ended (by the key set's
	// clock); zero before the first. The age of the keys is time.Since
	// LastOK: past a few refresh intervals the JWKS has been failing.
	LastOK time.Time
	// LastResult is the result of the last finished fetch, "" before the
	// first.
	LastResult string
	// Fetches counts the finished fetches by result (nil before the
	// first): the first, the periodic refresh, and those caused by an
	// unknown kid.
	Fetches map[string]uint64
}

// Pinger is implemented by a ReplayStore that can tell whether it answers,
// for a readiness check: Verifier.Ready calls Ping. Ping returns nil when
// the store answers, and must return when ctx is done.
// MemoryReplayStore is one (it always answers).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Ping implements Pinger: a store in memory always answers.
func (s *MemoryReplayStore) Ping(context.Context) error { return nil }

// RedeemResult is the result of one redemption of a token in a Verifier's
// ReplayStore: a bounded set, for metric labels.
type RedeemResult string

// The results of a redemption.
const (
	// RedeemAccepted: the token's first redemption; Verify accepts it.
	RedeemAccepted RedeemResult = "accepted"
	// RedeemReplayed: the token was redeemed before (CodeTokenReplayed).
	RedeemReplayed RedeemResult = "replayed"
	// RedeemStoreFull: the store has no room (CodeReplayStoreFull, from a
	// MemoryReplayStore full of unexpired ids).
	RedeemStoreFull RedeemResult = "store_full"
	// RedeemStoreUnavailable: the store could not answer (down,
	// unreachable, or too slow for the call's deadline).
	RedeemStoreUnavailable RedeemResult = "store_unavailable"
	// RedeemCallerLimited: the token's caller holds as many unexpired ids
	// as the store allows one caller (CodeTooManyTokens, from a
	// MemoryReplayStore).
	RedeemCallerLimited RedeemResult = "caller_limited"
)

// VerifierStats counts a Verifier's redemptions by result since it was
// made. Tokens refused before the redemption (a bad signature, expired,
// another LOB) are not redemptions, and a Verifier without a ReplayStore
// counts none.
type VerifierStats struct {
	Accepted         uint64
	Replayed         uint64
	StoreFull        uint64
	StoreUnavailable uint64
	CallerLimited    uint64
}

// redeemResult classifies what a ReplayStore answered.
func redeemResult(first bool, err error) RedeemResult {
	switch {
	case err == nil && first:
		return RedeemAccepted
	case err == nil:
		return RedeemReplayed
	case CodeOf(err) == CodeReplayStoreFull:
		return RedeemStoreFull
	case CodeOf(err) == CodeTooManyTokens:
		return RedeemCallerLimited
	}
	return RedeemStoreUnavailable
}
