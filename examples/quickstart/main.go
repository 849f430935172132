// Command quickstart issues a TokenNo the way GenerateSSOToken does and
// then verifies it the way the linked LOB does, single use included.
//
//	go run ./examples/quickstart
//
// It needs no network and no configuration: the HS256 secret comes from
// SSO_SECRET when set (32 bytes or more), else a random one is made.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/ssokit/ssokit/ssotoken"
)

func main() {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), `usage: go run ./examples/quickstart

Issues a TokenNo as GenerateSSOToken does, then verifies it as the linked LOB does, twice:
accepted the first time, refused as replayed the second. No flags, no network.

environment:
  SSO_SECRET  the HS256 secret of TokenNo, 32 bytes or more (default: a random one)
`)
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	secret := []byte(os.Getenv("SSO_SECRET"))
	if len(secret) == 0 {
		secret = []byte(rand.Text() + rand.Text()) // 52 random base32 characters
	}
	key, err := ssotoken.NewHMACKey("", secret)
	if err != nil {
		return err
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		return err
	}

	// The issuer's side: POST /v2/get_sso_token's body in, the envelope out.
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
	if err != nil {
		return err
	}
	req := ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}
	resp, err := signer.Issue(ctx, req)
	if err != nil {
		return err
	}
	fmt.Println("request: ", mustJSON(req))
	fmt.Println("response:", mustJSON(resp))
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(resp.TokenNo, ".")[1])
	if err != nil {
		return err
	}
	fmt.Println("claims:  ", string(payload))

	// The linked LOB's side: verify, and accept each token once.
	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys:   ring,
		LOBId:  "01",
		Replay: ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{}),
	})
	if err != nil {
		return err
	}
	claims, err := verifier.Verify(ctx, resp.TokenNo)
	if err != nil {
		return err
	}
	fmt.Printf("LOB 01 accepted the token: CIINo %s, Functionality %s, valid until %s\n",
		claims.CIINo, claims.Functionality, claims.ExpiresAtTime().UTC().Format("2006-01-02 15:04:05Z"))

	_, err = verifier.Verify(ctx, resp.TokenNo)
	fmt.Printf("LOB 01 refused it the second time: %s (%s)\n", ssotoken.MessageOf(err), ssotoken.CodeOf(err))

	other, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "02"})
	if err != nil {
		return err
	}
	_, err = other.Verify(ctx, resp.TokenNo)
	fmt.Printf("LOB 02 refused it: %s (%s)\n", ssotoken.MessageOf(err), ssotoken.CodeOf(err))
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
