package main

// classID names a request class: what is sent, and what must come back.
type classID uint8

// The request classes. The first group is the workload proper; the
// second, about a tenth of the requests, is malformed or forged input
// (malformed), each with the 4xx the README's status table documents.
const (
	clsGenerate         classID = iota // GenerateSSOToken for a user, LOBId XX
	clsRedeem                          // its TokenNo, first presented, at one lobapp
	clsReplay                          // the same TokenNo at another lobapp
	clsSession                         // GET / at a third lobapp with the session cookie the first set
	clsExchange                        // the cookie exchange with a user's SSO cookie
	clsUserJSON                        // user.json with the JWT the exchange returned
	clsLateReplay                      // a TokenNo accepted earlier, presented again at any lobapp
	clsReplayAfter                     // a TokenNo accepted before the Redis restart, presented after it
	clsRetryAfter                      // a TokenNo whose redemption failed in the outage, presented again after it
	clsGenerateLOB01                   // GenerateSSOToken for LOBId 01, which the lobapps are not
	clsGenBadJSON                      // a body that is not JSON
	clsGenBadSignature                 // a token whose signature is another token's
	clsGenAlgNone                      // a token with "alg":"none" and no signature
	clsGenExpired                      // a token of the pool whose exp has passed
	clsGenOtherPool                    // a token of a pool ssoserver does not trust
	clsGenCIINoMismatch                // a body naming another user's CIINo
	clsGenOversized                    // a body over 8 KiB
	clsGenDroppedKey                   // after the drop: a token signed with the old key
	clsExchangeGarbage                 // an SSO cookie that is not a JWT
	clsExchangeForged                  // an SSO cookie signed with another secret
	clsExchangeExpired                 // an SSO cookie whose exp has passed
	clsUserJSONForged                  // user.json with a JWT signed with another secret
	clsRedeemForged                    // a TokenNo signed with another secret
	clsRedeemExpired                   // a TokenNo of the right secret whose exp has passed
	clsRedeemGarbage                   // a TokenNo that is not a JWT
	clsRedeemOversized                 // a form over lobapp's 16 KiB
	clsRedeemWrongLOB                  // a genuine TokenNo for LOBId 01
	clsSessionForged                   // GET / with a session cookie signed with another key
	numClasses
)

// Targets of a class: which kind of process answers it.
const (
	targetSSO = "ssoserver"
	targetLOB = "lobapp"
)

// class describes a request class.
type class struct {
	Name      string
	Target    string
	Malformed bool
	ok        []want           // the answers always expected
	allow     map[fault][]want // more answers expected in a fault's window
}

// The answers of a fault that a class may get inside its window.
var (
	// GenerateSSOToken asks Redis for the caller's allowance last, and
	// fails closed when it cannot answer.
	issueFailsClosed = []want{{502, "rate_limiter_unavailable"}, {504, "deadline_exceeded"}}
	// A redemption fails closed when the replay store cannot answer.
	redeemFailsClosed = []want{{502, "replay_store_unavailable"}, {504, "deadline_exceeded"}}
	// A valid token of the new key before ssoserver has fetched it.
	keyNotYetFetched = []want{{401, "unknown_key"}}
)

var classes = [numClasses]class{
	clsGenerate:      {Name: "generate", Target: targetSSO, ok: []want{{200, ""}}, allow: map[fault][]want{faultRedis: issueFailsClosed, faultRotation: keyNotYetFetched}},
	clsRedeem:        {Name: "redeem", Target: targetLOB, ok: []want{{200, ""}}, allow: map[fault][]want{faultRedis: redeemFailsClosed}},
	clsReplay:        {Name: "replay", Target: targetLOB, ok: []want{{401, "token_replayed"}}, allow: map[fault][]want{faultRedis: redeemFailsClosed}},
	clsSession:       {Name: "session", Target: targetLOB, ok: []want{{200, ""}}},
	clsExchange:      {Name: "exchange", Target: targetSSO, ok: []want{{200, ""}}},
	clsUserJSON:      {Name: "user.json", Target: targetSSO, ok: []want{{200, ""}}},
	clsLateReplay:    {Name: "late-replay", Target: targetLOB, ok: []want{{401, "token_replayed"}}, allow: map[fault][]want{faultRedis: redeemFailsClosed}},
	clsReplayAfter:   {Name: "replay-after-restart", Target: targetLOB, ok: []want{{401, "token_replayed"}}, allow: map[fault][]want{faultRedis: redeemFailsClosed}},
	clsRetryAfter:    {Name: "retry-after-outage", Target: targetLOB, ok: []want{{200, ""}, {401, "token_replayed"}}, allow: map[fault][]want{faultRedis: redeemFailsClosed}},
	clsGenerateLOB01: {Name: "generate-lob01", Target: targetSSO, ok: []want{{200, ""}}, allow: map[fault][]want{faultRedis: issueFailsClosed, faultRotation: keyNotYetFetched}},

	clsGenBadJSON:       {Name: "gen-bad-json", Target: targetSSO, Malformed: true, ok: []want{{400, "malformed_body"}}, allow: map[fault][]want{faultRotation: keyNotYetFetched}},
	clsGenBadSignature:  {Name: "gen-bad-signature", Target: targetSSO, Malformed: true, ok: []want{{401, "bad_signature"}}, allow: map[fault][]want{faultRotation: keyNotYetFetched}},
	clsGenAlgNone:       {Name: "gen-alg-none", Target: targetSSO, Malformed: true, ok: []want{{401, "alg_not_allowed"}}},
	clsGenExpired:       {Name: "gen-expired", Target: targetSSO, Malformed: true, ok: []want{{401, "token_expired"}}, allow: map[fault][]want{faultRotation: keyNotYetFetched}},
	clsGenOtherPool:     {Name: "gen-other-pool", Target: targetSSO, Malformed: true, ok: []want{{401, "unknown_key"}}},
	clsGenCIINoMismatch: {Name: "gen-ciino-mismatch", Target: targetSSO, Malformed: true, ok: []want{{403, "ciino_mismatch"}}, allow: map[fault][]want{faultRotation: keyNotYetFetched}},
	clsGenOversized:     {Name: "gen-oversized", Target: targetSSO, Malformed: true, ok: []want{{413, "body_too_large"}}, allow: map[fault][]want{faultRotation: keyNotYetFetched}},
	// Still accepted (and issued for) while ssoserver holds the old key;
	// the limiter then asks Redis, as for any issue.
	clsGenDroppedKey: {Name: "gen-dropped-key", Target: targetSSO, Malformed: true, ok: []want{{401, "unknown_key"}},
		allow: map[fault][]want{faultDrop: {{200, ""}}, faultRedis: issueFailsClosed}},
	clsExchangeGarbage: {Name: "exchange-garbage-cookie", Target: targetSSO, Malformed: true, ok: []want{{400, "cookie_malformed"}}},
	clsExchangeForged:  {Name: "exchange-forged-cookie", Target: targetSSO, Malformed: true, ok: []want{{401, "cookie_bad_signature"}}},
	clsExchangeExpired: {Name: "exchange-expired-cookie", Target: targetSSO, Malformed: true, ok: []want{{401, "cookie_expired"}}},
	clsUserJSONForged:  {Name: "user.json-forged", Target: targetSSO, Malformed: true, ok: []want{{401, "bad_signature"}}},
	clsRedeemForged:    {Name: "redeem-forged", Target: targetLOB, Malformed: true, ok: []want{{401, "bad_signature"}}},
	clsRedeemExpired:   {Name: "redeem-expired", Target: targetLOB, Malformed: true, ok: []want{{401, "token_expired"}}},
	clsRedeemGarbage:   {Name: "redeem-garbage", Target: targetLOB, Malformed: true, ok: []want{{401, "token_malformed"}}},
	clsRedeemOversized: {Name: "redeem-oversized", Target: targetLOB, Malformed: true, ok: []want{{413, "body_too_large"}}},
	clsRedeemWrongLOB:  {Name: "redeem-wrong-lob", Target: targetLOB, Malformed: true, ok: []want{{401, "wrong_lob"}}},
	clsSessionForged:   {Name: "session-forged", Target: targetLOB, Malformed: true, ok: []want{{401, ""}}},
}

// malformedClasses are the classes a worker's malformed round picks from,
// evenly (clsGenDroppedKey only once the old key has been dropped).
var malformedClasses = []classID{
	clsGenBadJSON, clsGenBadSignature, clsGenAlgNone, clsGenExpired, clsGenOtherPool, clsGenCIINoMismatch,
	clsGenOversized, clsGenDroppedKey, clsExchangeGarbage, clsExchangeForged, clsExchangeExpired, clsUserJSONForged,
	clsRedeemForged, clsRedeemExpired, clsRedeemGarbage, clsRedeemOversized, clsRedeemWrongLOB, clsSessionForged,
}
