package ssotokentest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/ssotokentest"
)

// issuedAt is the time of the API document's sample.
var issuedAt = time.Date(2025, 1, 20, 8, 49, 46, 756e6, time.UTC)

func clock() time.Time { return issuedAt }

// A LOB's test verifies a test TokenNo as the LOB verifies a real one. In
// a test, NewIssuer(t, opts...) does what New does and closes at the end.
func Example() {
	iss, err := ssotokentest.New(ssotokentest.Clock(clock))
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()
	verifier, err := ssotoken.NewVerifier(iss.VerifierConfig("01"))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := iss.Issue(context.Background(), ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := verifier.Verify(context.Background(), resp.TokenNo)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.CIINo, claims.LOBId, claims.Functionality, claims.Date)

	_, err = verifier.Verify(context.Background(), resp.TokenNo[:len(resp.TokenNo)-2]+"AA")
	fmt.Println(ssotoken.CodeOf(err))
	// Output:
	// 10001004 01 D 2025-01-20T08:49:46.756Z
	// bad_signature
}

// An issuer that signs with ES256 publishes its key at JWKSURL; the LOB
// verifies with the keys it fetches from there, and keeps up when the
// issuer rotates its key.
func Example_jwks() {
	iss, err := ssotokentest.New(ssotokentest.Algorithm(ssotoken.ES256), ssotokentest.Clock(clock))
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()
	keys, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: iss.JWKSURL()})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	cfg := iss.VerifierConfig("01")
	cfg.Keys = keys
	verifier, err := ssotoken.NewVerifier(cfg)
	if err != nil {
		log.Fatal(err)
	}
	req := ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}
	before, err := iss.Issue(context.Background(), req)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := iss.Rotate(); err != nil {
		log.Fatal(err)
	}
	after, err := iss.Issue(context.Background(), req)
	if err != nil {
		log.Fatal(err)
	}
	for _, resp := range []ssotoken.Response{before, after} {
		claims, err := verifier.Verify(context.Background(), resp.TokenNo)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(claims.CIINo, claims.LOBId, claims.Functionality)
	}
	fmt.Println(len(keys.Keys()), "keys")
	// Output:
	// 10001004 01 D
	// 10001004 01 D
	// 2 keys
}
