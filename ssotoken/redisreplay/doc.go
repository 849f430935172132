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
// On a Redis Cluster, the Store takes a *redis.ClusterClient made with
// redis.NewClusterClient (redis.UniversalOptions have no
// ClusterStateReloadInterval: set it on what their Cluster method returns):
//
//	client := redis.NewClusterClient(&redis.ClusterOptions{
//		Addrs:                      []string{"redis-0:6379", "redis-1:6379", "redis-2:6379"},
//		ContextTimeoutEnabled:      true,        // required: the request's deadline bounds each redemption
//		ClusterStateReloadInterval: time.Second, // learn of a promoted replica within a second
//		DialTimeout:                500 * time.Millisecond,
//		ReadTimeout:                500 * time.Millisecond,
//		WriteTimeout:               500 * time.Millisecond,
//	})
//
// go-redis learns that a replica took over from a MOVED reply or when it
// reloads the slot map; a master that died sends no MOVED, so with the
// default interval, a minute, every instance keeps dialing the dead master,
// and refusing the tokens of its slots, for up to a minute after its
// replica took over. Timeouts well under the request's deadline let a hung
// node fail one attempt rather than the request. Each node needs
// cluster-node-timeout (how long a dead master goes unnoticed, its slots
// refused meanwhile: the default, 15 s, is long), maxmemory-policy
// noeviction (an evicted key lets its token be redeemed again), and
// appendonly yes with a replica per master (a master restarted without its
// data forgets what was redeemed, and its replica then copies the empty
// data set). The keys spread over every master, unless Prefix holds a hash
// tag ("{lob01}"), which puts them all in one slot.
//
// TestClusterFailover measures it on six local nodes with
// cluster-node-timeout 1000 and ClusterStateReloadInterval 1 s: four
// instances redeem the same 1,000 tokens while a replica is promoted with
// CLUSTER FAILOVER, which refused no redemption (the master holds writes
// until its replica has caught up), and then another master is killed with
// SIGKILL. Its replica served its slots 2.0 to 2.7 s after the kill, the
// last redemption was refused (502, CodeUnavailable) 2.4 to 3.6 s after
// it, and no token was accepted twice; about 300 to 450 redemptions were
// refused, and succeeded when tried again.
//
// The tests that need Redis read its address from SSOKIT_REDIS_ADDR, and
// the cluster's from SSOKIT_REDIS_CLUSTER_ADDRS; TestClusterFailover
// starts a cluster of its own when SSOKIT_REDIS_FAILOVER is 1. They skip
// otherwise; .ci/run starts a private Redis and cluster, and sets all
// three.
package redisreplay
