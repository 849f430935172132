package ssotoken_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// The secret is shared by the issuer and the linked LOB. Real ones come
// from a secret store and are at least 32 random bytes.
var secret = []byte("example secret, 32 bytes or more!")

// issuedAt is the time of the API document's sample.
var issuedAt = time.Date(2025, 1, 20, 8, 49, 46, 756e6, time.UTC)

// exampleClock stands for time.Now in the examples, so that their output
// is always the same: it reads issuedAt, and the second before it while a
// Signer starts (a Signer issues nothing in the second it was started in,
// so that a restarted process cannot repeat a TokenRefNo). In production
// leave SignerConfig.Now nil: the first Issue then waits for the next
// second, at most one second.
type exampleClock struct{ started atomic.Bool }

func (c *exampleClock) Now() time.Time {
	if c.started.Load() {
		return issuedAt
	}
	return issuedAt.Add(-time.Second)
}

// newExampleSigner returns a Signer for cfg on an exampleClock.
func newExampleSigner(cfg ssotoken.SignerConfig) (*ssotoken.Signer, error) {
	clock := &exampleClock{}
	cfg.Now = clock.Now
	s, err := ssotoken.NewSigner(cfg)
	clock.started.Store(true)
	return s, err
}

func ExampleSigner_Issue() {
	key, err := ssotoken.NewHMACKey("", secret)
	if err != nil {
		log.Fatal(err)
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	// Instance 0 of a fleet of one; a fleet of n numbers its instances
	// 0 to n-1, so that no two issue the same TokenRefNo.
	signer, err := newExampleSigner(ssotoken.SignerConfig{Keys: ring, Instance: 0, Instances: 1})
	if err != nil {
		log.Fatal(err)
	}

	resp, err := signer.Issue(context.Background(), ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.ReturnCode, resp.ReturnMessage)
	fmt.Println(resp.TokenRefNo)
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(resp.TokenNo, ".")[0])
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(resp.TokenNo, ".")[1])
	fmt.Println(string(header))
	fmt.Println(string(payload))
	// Output:
	// 1 Token Generated successfully
	// 173736298600000
	// {"alg":"HS256","typ":"JWT"}
	// {"CIINo":"10001004","LOBId":"01","Functionality":"D","Date":"2025-01-20T08:49:46.756Z","iat":1737362986,"exp":1737366586}
}

func ExampleVerifier_Verify() {
	ctx := context.Background()
	key, _ := ssotoken.NewHMACKey("", secret)
	ring, _ := ssotoken.NewKeyring(key)
	clock := func() time.Time { return issuedAt }
	signer, _ := newExampleSigner(ssotoken.SignerConfig{Keys: ring})
	resp, _ := signer.Issue(ctx, ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})

	// The linked LOB "01", with the shared secret; every token is single
	// use, the API document's tokens included, though they carry no jti.
	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys:   ring,
		LOBId:  "01",
		Leeway: 30 * time.Second,
		Replay: ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{Now: clock}),
		Now:    clock,
	})
	if err != nil {
		log.Fatal(err)
	}

	claims, err := verifier.Verify(ctx, resp.TokenNo)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.CIINo, claims.LOBId, claims.Functionality, claims.Date)
	fmt.Println(claims.ExpiresAtTime().Sub(claims.IssuedAtTime()))

	_, err = verifier.Verify(ctx, resp.TokenNo)
	fmt.Println(errors.Is(err, ssotoken.ErrUnauthorized), ssotoken.CodeOf(err))
	// Output:
	// 10001004 01 D 2025-01-20T08:49:46.756Z
	// 1h0m0s
	// true token_replayed
}

// A LOB's metrics and readiness: OnRedeem tells of each redemption as it
// happens (a host increments its own counter), Stats gives the counts
// when a scrape asks, and Ready answers a readiness probe (the keys, then
// the ReplayStore's Ping).
func ExampleVerifier_Stats() {
	ctx := context.Background()
	key, _ := ssotoken.NewHMACKey("", secret)
	ring, _ := ssotoken.NewKeyring(key)
	clock := func() time.Time { return issuedAt }
	signer, _ := newExampleSigner(ssotoken.SignerConfig{Keys: ring})
	resp, _ := signer.Issue(ctx, ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})

	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys: ring, LOBId: "01", Now: clock,
		Replay: ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{Now: clock}),
		OnRedeem: func(_ context.Context, r ssotoken.RedeemResult) { // on the caller's goroutine: must not block
			fmt.Println("redeemed:", r)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready:", verifier.Ready(ctx))
	for range 2 {
		_, _ = verifier.Verify(ctx, resp.TokenNo)
	}
	fmt.Printf("%+v\n", verifier.Stats())
	// Output:
	// ready: <nil>
	// redeemed: accepted
	// redeemed: replayed
	// {Accepted:1 Replayed:1 StoreFull:0 StoreUnavailable:0 CallerLimited:0}
}

func ExampleKeyring_Rotate() {
	ctx := context.Background()
	old, _ := ssotoken.NewHMACKey("2026-10", secret)
	ring, _ := ssotoken.NewKeyring(old)
	signer, _ := newExampleSigner(ssotoken.SignerConfig{Keys: ring})
	verifier, _ := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Now: func() time.Time { return issuedAt }})
	req := ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}

	before, _ := signer.Issue(ctx, req)

	next, _ := ssotoken.NewHMACKey("2026-11", []byte("the next secret, 32 bytes or more"))
	if err := ring.Rotate(next); err != nil {
		log.Fatal(err)
	}
	after, _ := signer.Issue(ctx, req)

	_, errBefore := verifier.Verify(ctx, before.TokenNo)
	_, errAfter := verifier.Verify(ctx, after.TokenNo)
	fmt.Println("active:", ring.Active().ID(), "old token:", errBefore == nil, "new token:", errAfter == nil)

	// Once every token of the old key has expired:
	_ = ring.Remove("2026-10")
	_, errBefore = verifier.Verify(ctx, before.TokenNo)
	fmt.Println("old token after removal:", ssotoken.CodeOf(errBefore))
	// Output:
	// active: 2026-11 old token: true new token: true
	// old token after removal: unknown_key
}

func ExampleNewSigningKey() {
	// Any crypto.Signer works, so the private key may live in a KMS or HSM.
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	key, err := ssotoken.NewSigningKey("es-1", ssotoken.ES256, priv)
	if err != nil {
		log.Fatal(err)
	}
	ring, _ := ssotoken.NewKeyring(key)

	// Publish the public half for the linked LOBs.
	doc, _ := json.Marshal(ring.JWKS())
	var set ssotoken.JWKS
	_ = json.Unmarshal(doc, &set)
	fmt.Println(set.Keys[0].Kty, set.Keys[0].Crv, set.Keys[0].Alg, set.Keys[0].Kid)
	// Output:
	// EC P-256 ES256 es-1
}

func ExampleKindOf() {
	err := fmt.Errorf("handler: %w", ssotoken.NewError(ssotoken.ErrForbidden, "lob_not_allowed", "this client may not ask for that LOB", nil))
	fmt.Println(ssotoken.KindOf(err).String(), "|", ssotoken.CodeOf(err), "|", ssotoken.MessageOf(err))
	fmt.Println(errors.Is(err, ssotoken.ErrForbidden))
	// Output:
	// forbidden | lob_not_allowed | this client may not ask for that LOB
	// true
}
