package ssotoken_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/ssotokentest"
)

// The benchmarks run in pairs: ours beside what a user would hand-write
// with golang-jwt, and beside the raw crypto, in one `go test -bench` run,
// so that the figures read as ratios:
//
//	go test -run '^$' -bench . -benchmem ./ssotoken/

var benchSecret = []byte("a benchmark secret of 32 bytes or more")

var benchReq = ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}

// benchSigner returns a Signer for cfg whose clock runs speed times as fast
// as the real one, and reads a second behind while NewSigner runs, so that
// the Signer's start-up second (in which it issues nothing) is over when
// the benchmark starts.
func benchSigner(b *testing.B, cfg ssotoken.SignerConfig, speed time.Duration) (*ssotoken.Signer, *ssotoken.Keyring) {
	key, err := ssotoken.NewHMACKey("", benchSecret)
	if err != nil {
		b.Fatal(err)
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var started atomic.Bool
	cfg.Keys = ring
	cfg.Now = func() time.Time {
		now := start.Add(time.Since(start) * speed)
		if !started.Load() {
			now = now.Add(-time.Second)
		}
		return now
	}
	s, err := ssotoken.NewSigner(cfg)
	if err != nil {
		b.Fatal(err)
	}
	started.Store(true)
	return s, ring
}

// fastClock is the speed of the clock of the Issue benchmarks. An instance
// issues at most 100,000 tokens a second (a 15-digit TokenRefNo has 5
// digits for them), fewer than a benchmark asks for; on a clock 1,000
// times as fast as the real one it never runs out, so the benchmarks
// measure the work of an Issue, not the cap.
const fastClock = 1000

// BenchmarkIssue is a whole Issue: validation, TokenRefNo, claims, HS256.
func BenchmarkIssue(b *testing.B) {
	s, _ := benchSigner(b, ssotoken.SignerConfig{}, fastClock)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Issue(ctx, benchReq); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueWide is Issue with 20-digit TokenRefNo values and jti, the
// tokens of earlier versions, on the real clock: 10^9 numbers a second and
// more, which no benchmark runs out of.
func BenchmarkIssueWide(b *testing.B) {
	s, _ := benchSigner(b, ssotoken.SignerConfig{WideRefNo: true, IncludeJTI: true}, 1)
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
		}).SignedString(benchSecret)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawHMAC is the floor: one HMAC-SHA256 over a token's signing
// input, with a new MAC each time as a one-off caller would.
func BenchmarkRawHMAC(b *testing.B) {
	s, _ := benchSigner(b, ssotoken.SignerConfig{}, 1)
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
	s, _ := benchSigner(b, ssotoken.SignerConfig{}, fastClock)
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

func benchToken(b *testing.B, replay ssotoken.ReplayStore) (*ssotoken.Verifier, string) {
	s, ring := benchSigner(b, ssotoken.SignerConfig{}, 1)
	resp, err := s.Issue(context.Background(), benchReq)
	if err != nil {
		b.Fatal(err)
	}
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Replay: replay})
	if err != nil {
		b.Fatal(err)
	}
	return v, resp.TokenNo
}

// BenchmarkVerify is a whole Verify: structure, HS256, typed claims, every
// check.
func BenchmarkVerify(b *testing.B) {
	v, token := benchToken(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRemoteKeys is a whole Verify of an ES256 and an RS256
// TokenNo both ways: with the issuer's key in a Keyring, and with
// RemoteKeys of the issuer's JWKS, fetched before the timer starts. The
// two differ by the key lookup only; the signature check is the cost.
func BenchmarkVerifyRemoteKeys(b *testing.B) {
	for _, alg := range []ssotoken.Algorithm{ssotoken.ES256, ssotoken.RS256} {
		iss, err := ssotokentest.New(ssotokentest.Algorithm(alg))
		if err != nil {
			b.Fatal(err)
		}
		defer iss.Close()
		remote, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: iss.JWKSURL()})
		if err != nil {
			b.Fatal(err)
		}
		defer remote.Close()
		token := iss.TokenNo(b, benchReq)
		for _, way := range []struct {
			name string
			keys ssotoken.KeySet
		}{{"Keyring", iss.Keys()}, {"RemoteKeys", remote}} {
			b.Run(string(alg)+"/"+way.name, func(b *testing.B) {
				v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: way.keys, LOBId: "01"})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if _, err := v.Verify(ctx, token); err != nil { // the first fetch
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(ctx, token); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// benchFirstStore is a ReplayStore that answers every redemption as the
// first: it costs nothing, so BenchmarkVerifySingleUse measures what
// single use adds to a Verify (the redemption id), not a store.
type benchFirstStore struct{}

func (benchFirstStore) Redeem(context.Context, string, time.Time) (bool, error) { return true, nil }

// BenchmarkVerifySingleUse is Verify with a ReplayStore.
func BenchmarkVerifySingleUse(b *testing.B) {
	v, token := benchToken(b, benchFirstStore{})
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
	_, token := benchToken(b, nil)
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

// The memory replay store under a flood, at its default capacity: a first
// redemption by a user with room, a redemption refused because its user
// holds its whole share (MaxEntriesPerCaller), and one refused because the
// store is full. The refusals cost no more than an acceptance: a flood
// does not slow the store down for the others.
//
//	go test -run '^$' -bench 'MemoryReplay' -benchmem ./ssotoken/
func BenchmarkMemoryReplayAccept(b *testing.B) {
	s := ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{MaxEntriesPerCaller: 1 << 30, MaxEntries: 1 << 30})
	benchReplay(b, s, func(int) string { return "victim" }, true)
}

func BenchmarkMemoryReplayCallerLimited(b *testing.B) {
	s := ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{})
	fillReplay(b, s, ssotoken.DefaultReplayEntries/2, func(i int) string { return "user-" + strconv.Itoa(i/ssotoken.DefaultReplayEntriesPerCaller) })
	benchReplay(b, s, func(int) string { return "user-0" }, false) // user-0 holds its whole share
}

func BenchmarkMemoryReplayFull(b *testing.B) {
	s := ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{})
	fillReplay(b, s, ssotoken.DefaultReplayEntries, func(i int) string { return "user-" + strconv.Itoa(i/ssotoken.DefaultReplayEntriesPerCaller) })
	benchReplay(b, s, func(int) string { return "victim" }, false)
}

// fillReplay redeems n ids of callers caller(i), expiring in an hour.
func fillReplay(b *testing.B, s *ssotoken.MemoryReplayStore, n int, caller func(int) string) {
	exp := time.Now().Add(time.Hour)
	for i := range n {
		if first, err := s.RedeemFor(context.Background(), caller(i), "fill-"+strconv.Itoa(i), exp); err != nil || !first {
			b.Fatal(first, err)
		}
	}
}

// benchReplay redeems fresh ids of caller(i) and expects them accepted,
// or refused when accept is false.
func benchReplay(b *testing.B, s *ssotoken.MemoryReplayStore, caller func(int) string, accept bool) {
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = ssotoken.RedemptionID("bench-" + strconv.Itoa(i))
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		id := ids[i%len(ids)]
		if i >= len(ids) {
			id = ssotoken.RedemptionID("bench-" + strconv.Itoa(i)) // past the prepared ids: a fresh one, allocated
		}
		first, err := s.RedeemFor(ctx, caller(i), id, exp)
		if accept != (err == nil && first) {
			b.Fatal(first, err)
		}
		i++
	}
}
