package ssotoken

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds arbitrary strings to Verify. It must never panic, every
// failure must be an ErrUnauthorized *Error, and nothing but a token the
// signer minted may ever verify: a token that verifies is byte for byte
// what the signer makes of its claims. The seed corpus is in
// testdata/fuzz/FuzzVerify; `go test` replays it, `go test -fuzz
// FuzzVerify ./ssotoken/` explores.
func FuzzVerify(f *testing.F) {
	ring := testRing(f, testSecret)
	s, _ := newTestSigner(f, SignerConfig{Keys: ring}, seedTime)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: fixedClock(seedTime)})
	if err != nil {
		f.Fatal(err)
	}
	for _, req := range []Request{
		{CIINo: "10001004", LOBId: "01", Functionality: "D"},
		{CIINo: "x", LOBId: "01", Functionality: "Ünïcödé \"quoted\""},
	} {
		resp, err := s.Issue(context.Background(), req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(resp.TokenNo)
	}
	f.Add(seedTokenNo)
	f.Add("")
	f.Add("a.b.c")

	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err == nil {
			if remint := mint(t, ring.Active(), *c); remint != token {
				t.Fatalf("a token the signer never minted verified: %q", token)
			}
			if c.LOBId != "01" {
				t.Fatalf("verified claims for LOB %q", c.LOBId)
			}
			return
		}
		if KindOf(err) != ErrUnauthorized || asError(err) == nil {
			t.Fatalf("Verify(%q) = %v, want an ErrUnauthorized *Error", token, err)
		}
	})
}

// FuzzIssueRoundTrip issues tokens for arbitrary request fields: either the
// request is refused as a bad request, or the token verifies and carries
// exactly the fields that were asked for (so no value can inject a claim),
// with "iat" the second of its TokenRefNo. Tokens are issued without jti,
// as the API document's are, and with it (IncludeJTI).
func FuzzIssueRoundTrip(f *testing.F) {
	ring := testRing(f, testSecret)
	t0 := time.Unix(1737362986, 0)
	clock := newTestClock(t0)
	signers := map[bool]*Signer{
		false: newTestSignerOn(f, SignerConfig{Keys: ring}, clock),
		true:  newTestSignerOn(f, SignerConfig{Keys: ring, IncludeJTI: true}, clock),
	}
	f.Add("10001004", "01", "D")
	f.Add(`1","exp":1`, "01", "\\\"")
	f.Add("\u2028", "é", "\xff")

	f.Fuzz(func(t *testing.T, ciino, lob, fn string) {
		req := Request{CIINo: ciino, LOBId: lob, Functionality: fn}
		for jti, s := range signers {
			resp, err := s.Issue(context.Background(), req)
			if err != nil {
				if KindOf(err) != ErrBadRequest {
					t.Fatalf("Issue(%+v) = %v, want a bad request", req, err)
				}
				return
			}
			v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: lob, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(context.Background(), resp.TokenNo)
			if err != nil {
				t.Fatalf("issued token does not verify: %v", err)
			}
			if c.CIINo != ciino || c.LOBId != lob || c.Functionality != fn {
				t.Fatalf("claims %+v do not match request %+v", c, req)
			}
			if wantID := map[bool]string{true: resp.TokenRefNo}[jti]; c.ID != wantID {
				t.Fatalf("jti = %q, want %q", c.ID, wantID)
			}
			if c.IssuedAt < t0.Unix() || c.ExpiresAt != c.IssuedAt+3600 || resp.TokenRefNo[:10] != strconv.FormatInt(c.IssuedAt, 10) {
				t.Fatalf("iat = %d, exp = %d, TokenRefNo %s", c.IssuedAt, c.ExpiresAt, resp.TokenRefNo)
			}
		}
	})
}

// FuzzVerifyDifferential signs arbitrary header and claims JSON with the
// verifier's key and holds Verify against golang-jwt's plain Parse: a
// token Verify accepts, golang-jwt (HS256 pinned, exp required, the same
// clock) accepts too, with the same claims.
func FuzzVerifyDifferential(f *testing.F) {
	ring := testRing(f, testSecret)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: fixedClock(seedTime), Leeway: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	hdr := `{"alg":"HS256","typ":"JWT"}`
	f.Add(hdr, seedPayload)
	f.Add(`{"typ":"JWT","alg":"HS256","kid":""}`, seedPayload)
	f.Add(`{"ALG":"HS256"}`, seedPayload)
	f.Add(hdr, `{"LOBId":"01","lobid":"02","iat":1737362986,"exp":1737366586}`)
	f.Add(hdr, `{"LOBId":"01","iat":1737362986,"exp":1,"exp":1737366586}`)
	f.Add(hdr, `{"LOBId":"01","iat":1737362986.5,"exp":1737366586e0,"nbf":0}`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		tok := signRaw(t, testSecret, header, payload)
		c, err := v.Verify(context.Background(), tok)
		if err != nil {
			if KindOf(err) != ErrUnauthorized || asError(err) == nil {
				t.Fatalf("Verify = %v, want an ErrUnauthorized *Error", err)
			}
			return
		}
		gj, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return testSecret, nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
			jwt.WithLeeway(time.Minute), jwt.WithTimeFunc(fixedClock(seedTime)))
		if err != nil {
			t.Fatalf("Verify accepted %s.%s, golang-jwt refuses it: %v", header, payload, err)
		}
		m := gj.Claims.(jwt.MapClaims)
		if lob, _ := m["LOBId"].(string); lob != c.LOBId {
			t.Fatalf("claims differ: golang-jwt %v, Verify %+v", m, c)
		}
		if ciino, _ := m["CIINo"].(string); ciino != c.CIINo {
			t.Fatalf("claims differ: golang-jwt %v, Verify %+v", m, c)
		}
		if exp, _ := m.GetExpirationTime(); exp == nil || exp.Unix() != c.ExpiresAt {
			t.Fatalf("exp differs: golang-jwt %v, Verify %d", exp, c.ExpiresAt)
		}
	})
}
