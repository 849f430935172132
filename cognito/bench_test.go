package cognito

// Benchmarks beside their baselines, in one run, so results read as
// ratios:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./cognito/

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/jose"
)

func benchToken(b *testing.B) string {
	return sign(b, getKeys(b).k1, "k1", accessClaims())
}

// BenchmarkRawRSAVerify is the floor: SHA-256 of the token's signing input
// and crypto/rsa.VerifyPKCS1v15, with the signature already decoded.
func BenchmarkRawRSAVerify(b *testing.B) {
	tok := benchToken(b)
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	sig, err := enc.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &getKeys(b).k1.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAuthenticate(b *testing.B, a *Authenticator, tok string) {
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateCold is every check of a token, cache off.
func BenchmarkAuthenticateCold(b *testing.B) {
	cfg := baseConfig()
	cfg.DisableCache = true
	benchAuthenticate(b, newStatic(b, cfg), benchToken(b))
}

// BenchmarkAuthenticateCold100Keys is the same with 100 keys in the set:
// the cost per token does not grow with the JWKS.
func BenchmarkAuthenticateCold100Keys(b *testing.B) {
	cfg := baseConfig()
	cfg.DisableCache = true
	k := getKeys(b)
	set := []jwkset.JWKMarshal{}
	for i := range 99 {
		key := []*rsa.PrivateKey{k.k2, k.other}[i%2]
		set = append(set, jwkOf(b, key, fmt.Sprintf("kid-%02d", i)))
	}
	set = append(set[:50], append([]jwkset.JWKMarshal{jwkOf(b, k.k1, "k1")}, set[50:]...)...)
	a, err := NewStatic(cfg, jwksJSON(b, set...))
	if err != nil {
		b.Fatal(err)
	}
	if n := len(*a.pools[0].store.keys.Load()); n != 100 {
		b.Fatalf("%d keys", n)
	}
	benchAuthenticate(b, a, benchToken(b))
}

// BenchmarkAuthenticateCached is a repeated token: a cache hit.
func BenchmarkAuthenticateCached(b *testing.B) {
	benchAuthenticate(b, newStatic(b, baseConfig()), benchToken(b))
}

// BenchmarkAuthenticateColdParallel is the cold check on every core.
func BenchmarkAuthenticateColdParallel(b *testing.B) {
	cfg := baseConfig()
	cfg.DisableCache = true
	a := newStatic(b, cfg)
	tok := benchToken(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Authenticate(context.Background(), tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// typedClaims are the claims of BenchmarkBaselineTypedNoPolicy: plain
// encoding/json struct fields, no JSON policy.
type typedClaims struct {
	jwt.RegisteredClaims
	ClientID string   `json:"client_id"`
	TokenUse string   `json:"token_use"`
	Scope    string   `json:"scope"`
	Groups   []string `json:"cognito:groups"`
	Username string   `json:"username"`
}

// BenchmarkBaselineTypedNoPolicy is golang-jwt's parser with the same
// options and key but typed claims decoded by plain encoding/json, without
// the module's JSON policy: the difference to BenchmarkAuthenticateCold is
// what the policy (jose.Object) and the Cognito checks cost.
func BenchmarkBaselineTypedNoPolicy(b *testing.B) {
	tok := benchToken(b)
	pub := &getKeys(b).k1.PublicKey
	parser := jose.Parser([]string{"RS256"}, 0, baseConfig().Now)
	kf := func(*jwt.Token) (any, error) { return pub, nil }
	check := func() error {
		var c typedClaims
		if _, err := parser.ParseWithClaims(tok, &c, kf); err != nil {
			return err
		}
		if c.Issuer != testIssuer || c.TokenUse != "access" || c.ClientID != testClient {
			return fmt.Errorf("claims")
		}
		_ = strings.Split(c.Scope, " ")
		return nil
	}
	if err := check(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := check(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineKeyfuncJWT is what a user would write by hand:
// golang-jwt's Parse with keyfunc's Keyfunc into MapClaims, then the same
// Cognito checks.
func BenchmarkBaselineKeyfuncJWT(b *testing.B) {
	kf, err := keyfunc.NewJWKSetJSON(jwksJSON(b, jwkOf(b, getKeys(b).k1, "k1")))
	if err != nil {
		b.Fatal(err)
	}
	tok := benchToken(b)
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(testIssuer),
		jwt.WithTimeFunc(baseConfig().Now),
	)
	check := func() error {
		t, err := parser.Parse(tok, kf.Keyfunc)
		if err != nil {
			return err
		}
		c := t.Claims.(jwt.MapClaims)
		if _, ok := t.Header["kid"].(string); !ok {
			return fmt.Errorf("kid")
		}
		if use, _ := c["token_use"].(string); use != "access" {
			return fmt.Errorf("token_use")
		}
		if cid, _ := c["client_id"].(string); cid != testClient {
			return fmt.Errorf("client_id")
		}
		scope, _ := c["scope"].(string)
		_ = strings.Fields(scope)
		groups, _ := c["cognito:groups"].([]any)
		_ = slices.Clone(groups)
		return nil
	}
	if err := check(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := check(); err != nil {
			b.Fatal(err)
		}
	}
}
