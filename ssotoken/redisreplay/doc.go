// Package redisreplay is a ssotoken.ReplayStore in Redis, for a linked LOB
// that runs several instances behind a load balancer: every instance
// redeems into the same Redis, so a TokenNo is accepted once across all of
// them. The happy path:
//
//	client := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	replay, err := redisreplay.New(redisreplay.Config{Client: client})
//	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Replay: replay})
//
// A redemption is one atomic SET key NX PX ttl, written by the Verifier
// only after the token's signature and claims checked out, so forged or
// expired tokens never reach Redis. The key is Config.Prefix (by default
// DefaultPrefix, "ssokit:redeemed:") followed by the token's
// ssotoken.RedemptionID: the SHA-256 of its signing input (header and
// payload segments as received, "header.payload"), in base64url without
// padding, 43 characters. The API document's sample TokenNo, for one, is
// redeemed under the key
//
//	ssokit:redeemed:BCZ9KCqXk39m_JfPVIfxZtu9sC5V5_Tao01gKrGQQk4
//
// So every token is single use, with or without "jti" (the API document's
// tokens have none), and two tokens that share a TokenRefNo are two keys.
// The TTL is the token's remaining lifetime, leeway included, plus
// Config.MaxClockSkew. The value is a random nonce of the redemption.
//
// When Redis cannot answer, Redeem fails closed: the token is refused with
// an ErrUpstream error (code "replay_store_unavailable", 502 through
// httpadapter), or an ErrTimeout (504) when the caller's context ran out
// first. Config.InsecureFailOpen accepts tokens unchecked instead; its
// documentation says when it must not be used.
//
// Single use holds as long as Redis keeps its keys until they expire: run
// it with maxmemory-policy noeviction, and, if a restart of Redis must not
// forget the tokens redeemed within the last token lifetime, with
// persistence (appendonly yes). Replication is asynchronous: a failover can
// lose the last writes, and with them a few redemptions.
//
// The tests that need Redis read its address from SSOKIT_REDIS_ADDR and
// skip without it; .ci/run starts a private Redis and sets it.
package redisreplay
