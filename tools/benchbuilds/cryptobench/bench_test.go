package cryptobench

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

var (
	benchSecret = []byte("a benchmark secret of 32 bytes or more")
	benchReq    = ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}
	algorithms  = []ssotoken.Algorithm{ssotoken.HS256, ssotoken.RS256, ssotoken.ES256, ssotoken.EdDSA}
)

// key returns a new signing key of alg (RSA of 2048 bits).
func key(tb testing.TB, alg ssotoken.Algorithm) *ssotoken.Key {
	tb.Helper()
	var (
		s   crypto.Signer
		err error
	)
	switch alg {
	case ssotoken.HS256:
		k, err := ssotoken.NewHMACKey("", benchSecret)
		if err != nil {
			tb.Fatal(err)
		}
		return k
	case ssotoken.RS256:
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case ssotoken.ES256:
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ssotoken.EdDSA:
		_, s, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		tb.Fatal(err)
	}
	k, err := ssotoken.NewSigningKey("k1", alg, s)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// signer returns a Signer of ring whose clock runs speed times as fast as
// the real one and reads a second behind while NewSigner runs, as the
// benchmarks of ssotoken do: its start-up second is over when the
// benchmark starts, and at 1000 times an instance's 100,000 TokenRefNo a
// second (the document's 15 digits) are never the limit.
func signer(tb testing.TB, ring *ssotoken.Keyring, speed time.Duration) *ssotoken.Signer {
	tb.Helper()
	start := time.Now()
	var started atomic.Bool
	s, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, Now: func() time.Time {
		now := start.Add(time.Since(start) * speed)
		if !started.Load() {
			now = now.Add(-time.Second)
		}
		return now
	}})
	if err != nil {
		tb.Fatal(err)
	}
	started.Store(true)
	return s
}

// BenchmarkIssue is a whole Issue (validation, TokenRefNo, claims, the
// signature) with a key of each algorithm: the signature is the
// difference between them.
func BenchmarkIssue(b *testing.B) {
	for _, alg := range algorithms {
		b.Run(string(alg), func(b *testing.B) {
			ring, err := ssotoken.NewKeyring(key(b, alg))
			if err != nil {
				b.Fatal(err)
			}
			s := signer(b, ring, 1000)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Issue(ctx, benchReq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify is a whole Verify of a TokenNo of each algorithm, the
// key in a Keyring.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range algorithms {
		b.Run(string(alg), func(b *testing.B) {
			ring, err := ssotoken.NewKeyring(key(b, alg))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			resp, err := signer(b, ring, 1).Issue(ctx, benchReq)
			if err != nil {
				b.Fatal(err)
			}
			v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: benchReq.LOBId})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, resp.TokenNo); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSHA256 is crypto/sha256 alone, over the inputs the library
// hashes on every call: a Cognito access token (about 1 KiB, the key of
// the verified-token cache, cognito's cached path) and an HS256 TokenNo's
// signing input (ssotoken.RedemptionID, single use).
func BenchmarkSHA256(b *testing.B) {
	for _, in := range []struct {
		name string
		size int
	}{{"1KiB", 1024}, {"TokenNo", tokenNoInputLen(b)}} {
		b.Run(in.name, func(b *testing.B) {
			data := make([]byte, in.size)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				sha256.Sum256(data)
			}
		})
	}
}

// tokenNoInputLen is the length of an HS256 TokenNo's signing input.
func tokenNoInputLen(tb testing.TB) int {
	ring, err := ssotoken.NewKeyring(key(tb, ssotoken.HS256))
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := signer(tb, ring, 1).Issue(context.Background(), benchReq)
	if err != nil {
		tb.Fatal(err)
	}
	n := len(resp.TokenNo)
	for n > 0 && resp.TokenNo[n-1] != '.' {
		n--
	}
	return n - 1
}

// TestAlgorithms issues and verifies a TokenNo with each algorithm, so
// that the benchmarks' setup is checked in every build (EdDSA is Go's own
// crypto/ed25519 in both: BoringCrypto has no Ed25519).
func TestAlgorithms(t *testing.T) {
	for _, alg := range algorithms {
		ring, err := ssotoken.NewKeyring(key(t, alg))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		resp, err := signer(t, ring, 1).Issue(ctx, benchReq)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: benchReq.LOBId})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, resp.TokenNo); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
}
