package ssotoken_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/ssotoken"
)

// The benchmarks run in pairs: ours beside what a user would hand-write
// with golang-jwt, and beside the raw crypto, in one `go test -bench` run,
// so that the figures read as ratios:
//
//	go test -run '^$' -bench . -benchmem ./ssotoken/

var benchSecret = []byte("a benchmark secret of 32 bytes or more")

var benchReq = ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}

func benchSigner(b *testing.B) (*ssotoken.Signer, *ssotoken.Keyring) {
	key, err := ssotoken.NewHMACKey("", benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		b.Fatal(err)
	}
	s, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
	if err != nil {
		b.Fatal(err)
	}
	return s, ring
}

// BenchmarkIssue is a whole Issue: validation, TokenRefNo, claims, HS256.
func BenchmarkIssue(b *testing.B) {
	s, _ := benchSigner(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Issue(ctx, benchReq); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineGolangJWT signs the same claims the way a user would
// with golang-jwt and MapClaims.
func BenchmarkBaselineGolangJWT(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"CIINo":         benchReq.CIINo,
			"LOBId":         benchReq.LOBId,
			"Functionality": benchReq.Functionality,
			"Date":          now.UTC().Format(ssotoken.DateLayout),
			"iat":           now.Unix(),
			"exp":           now.Unix() + 3600,
			"jti":           "17373629860123456789",
		}).SignedString(benchSecret)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawHMAC is the floor: one HMAC-SHA256 over a token's signing
// input, with a new MAC each time as a one-off caller would.
func BenchmarkRawHMAC(b *testing.B) {
	s, _ := benchSigner(b)
	resp, err := s.Issue(context.Background(), benchReq)
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(resp.TokenNo[:strings.LastIndexByte(resp.TokenNo, '.')])
	b.ReportAllocs()
	for b.Loop() {
		m := hmac.New(sha256.New, benchSecret)
		m.Write(input)
		m.Sum(nil)
	}
}

// BenchmarkIssueParallel is Issue from every core at once.
func BenchmarkIssueParallel(b *testing.B) {
	s, _ := benchSigner(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Issue(ctx, benchReq); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchToken(b *testing.B) (*ssotoken.Verifier, string) {
	s, ring := benchSigner(b)
	resp, err := s.Issue(context.Background(), benchReq)
	if err != nil {
		b.Fatal(err)
	}
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01"})
	if err != nil {
		b.Fatal(err)
	}
	return v, resp.TokenNo
}

// BenchmarkVerify is a whole Verify: structure, HS256, typed claims, every
// check.
func BenchmarkVerify(b *testing.B) {
	v, token := benchToken(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineGolangJWTParse parses the same token the way a user
// would with golang-jwt: Parse into MapClaims, HS256 pinned, exp required.
func BenchmarkBaselineGolangJWTParse(b *testing.B) {
	_, token := benchToken(b)
	keyfunc := func(*jwt.Token) (any, error) { return benchSecret, nil }
	b.ReportAllocs()
	for b.Loop() {
		t, err := jwt.Parse(token, keyfunc, jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
		if err != nil {
			b.Fatal(err)
		}
		if t.Claims.(jwt.MapClaims)["LOBId"] != "01" {
			b.Fatal("wrong LOB")
		}
	}
}
