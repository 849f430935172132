package ssotoken

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mint signs c with key, exactly as the Signer would, but with any claims.
func mint(t testing.TB, key *Key, c Claims) string {
	t.Helper()
	b := bufPool.Get().(*tokenBuf)
	defer bufPool.Put(b)
	tok, err := sign(b, key, &c, time.Time{}, nil)
	require.NoError(t, err)
	return tok
}

// golangJWT signs claims with golang-jwt under any method and key.
func golangJWT(t testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// validClaims are the claims of a token issued at seedTime for LOB 01.
func validClaims() Claims {
	return Claims{
		CIINo: "10001004", LOBId: "01", Functionality: "D", Date: "2025-01-20T08:49:46.756Z",
		IssuedAt: seedTime.Unix(), ExpiresAt: seedTime.Unix() + 3600, ID: "17373629860000000001",
	}
}

func mapClaims(c Claims) jwt.MapClaims {
	return jwt.MapClaims{
		"CIINo": c.CIINo, "LOBId": c.LOBId, "Functionality": c.Functionality, "Date": c.Date,
		"iat": c.IssuedAt, "exp": c.ExpiresAt, "jti": c.ID,
	}
}

func encodeSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// testRSAKey returns an RSA-2048 key made once per test binary.
func testRSAKey(t testing.TB) *rsa.PrivateKey {
	rsaOnce.Do(func() {
		var err error
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return rsaKey
}

func TestVerify(t *testing.T) {
	key, err := NewHMACKey("", testSecret)
	require.NoError(t, err)
	otherKey, err := NewHMACKey("", []byte("another secret that is 32 bytes long!"))
	require.NoError(t, err)
	kid2, err := NewHMACKey("k2", testSecret)
	require.NoError(t, err)
	ring, err := NewKeyring(key)
	require.NoError(t, err)

	at := func(d time.Duration) func() time.Time { return fixedClock(seedTime.Add(d)) }
	expT := time.Unix(validClaims().ExpiresAt, 0)
	atExp := func(d time.Duration) func() time.Time { return fixedClock(expT.Add(d)) }
	with := func(f func(*Claims)) Claims { c := validClaims(); f(&c); return c }
	good := mint(t, key, validClaims())
	parts := strings.Split(good, ".")
	mc := mapClaims(validClaims())

	pubDER, err := x509.MarshalPKIXPublicKey(&testRSAKey(t).PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	tests := []struct {
		name   string
		token  string
		now    func() time.Time
		cfg    func(*VerifierConfig)
		code   string // "" means the token verifies
		reason string
	}{
		{name: "valid", token: good},
		{name: "valid at the last instant before exp", token: good, now: atExp(-time.Nanosecond)},
		{name: "expired at exp", token: good, now: atExp(0), code: CodeTokenExpired},
		{name: "within leeway after exp (leeway - 1 s)", token: good, now: atExp(29 * time.Second), cfg: func(c *VerifierConfig) { c.Leeway = 30 * time.Second }},
		{name: "at leeway after exp", token: good, now: atExp(30 * time.Second), cfg: func(c *VerifierConfig) { c.Leeway = 30 * time.Second }, code: CodeTokenExpired},
		{name: "beyond leeway after exp (leeway + 1 s)", token: good, now: atExp(31 * time.Second), cfg: func(c *VerifierConfig) { c.Leeway = 30 * time.Second }, code: CodeTokenExpired},
		{name: "iat in the future", token: good, now: at(-time.Second), code: CodeTokenNotYetValid},
		{name: "iat in the future within leeway", token: good, now: at(-29 * time.Second), cfg: func(c *VerifierConfig) { c.Leeway = 30 * time.Second }},
		{name: "iat beyond leeway", token: good, now: at(-31 * time.Second), cfg: func(c *VerifierConfig) { c.Leeway = 30 * time.Second }, code: CodeTokenNotYetValid},
		{name: "nbf in the future", token: mint(t, key, with(func(c *Claims) { c.NotBefore = c.IssuedAt + 60 })), code: CodeTokenNotYetValid},
		{name: "no exp", token: mint(t, key, with(func(c *Claims) { c.ExpiresAt = 0 })), code: CodeExpMissing},
		{name: "no iat", token: mint(t, key, with(func(c *Claims) { c.IssuedAt = 0 })), code: CodeIatMissing},
		{name: "beyond max lifetime", token: mint(t, key, with(func(c *Claims) { c.ExpiresAt = c.IssuedAt + 3601 })), code: CodeLifetimeTooLong},
		{name: "longer lifetime allowed", token: mint(t, key, with(func(c *Claims) { c.ExpiresAt = c.IssuedAt + 7200 })), cfg: func(c *VerifierConfig) { c.MaxLifetime = 2 * time.Hour }},
		{name: "exp before iat", token: mint(t, key, with(func(c *Claims) { c.ExpiresAt = c.IssuedAt - 1 })), now: at(-2 * time.Second), cfg: func(c *VerifierConfig) { c.Leeway = time.Minute }, code: CodeLifetimeTooLong},
		{name: "wrong LOB", token: mint(t, key, with(func(c *Claims) { c.LOBId = "02" })), code: CodeWrongLOB},
		{name: "issuer required", token: good, cfg: func(c *VerifierConfig) { c.Issuer = "https://sso.example" }, code: CodeWrongIssuer},
		{name: "issuer matches", token: mint(t, key, with(func(c *Claims) { c.Issuer = "https://sso.example" })), cfg: func(c *VerifierConfig) { c.Issuer = "https://sso.example" }},
		{name: "audience required", token: good, cfg: func(c *VerifierConfig) { c.Audience = "lob-01" }, code: CodeWrongAudience},
		{name: "wrong key", token: mint(t, otherKey, validClaims()), code: CodeBadSignature},
		{name: "unknown kid", token: mint(t, kid2, validClaims()), code: CodeUnknownKey},
		{name: "empty kid", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, mc, map[string]any{"kid": ""}), code: CodeUnknownKey},
		{name: "numeric kid", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, mc, map[string]any{"kid": 7}), code: CodeTokenMalformed},
		{name: "crit header", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, mc, map[string]any{"crit": []string{"exp"}}), code: CodeTokenMalformed},
		{name: "golang-jwt HS256 token verifies", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, mc, nil)},
		{name: "HS384 under the same secret", token: golangJWT(t, jwt.SigningMethodHS384, testSecret, mc, nil), code: CodeAlgNotAllowed},
		{name: "HS512 under the same secret", token: golangJWT(t, jwt.SigningMethodHS512, testSecret, mc, nil), code: CodeAlgNotAllowed},
		{name: "alg none", token: encodeSeg(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", code: CodeAlgNotAllowed},
		{name: "alg None with the HMAC signature", token: encodeSeg(`{"alg":"None","typ":"JWT"}`) + "." + parts[1] + "." + parts[2], code: CodeAlgNotAllowed},
		{name: "RS256 header over an HMAC signature", token: func() string {
			in := encodeSeg(`{"alg":"RS256","typ":"JWT"}`) + "." + parts[1]
			sig, _ := jwt.SigningMethodHS256.Sign(in, testSecret)
			return in + "." + base64.RawURLEncoding.EncodeToString(sig)
		}(), code: CodeAlgNotAllowed},
		{name: "RS256 signed with a real RSA key", token: golangJWT(t, jwt.SigningMethodRS256, testRSAKey(t), mc, nil), code: CodeAlgNotAllowed},
		{name: "HS256 keyed with an RSA public key (PEM)", token: golangJWT(t, jwt.SigningMethodHS256, pubPEM, mc, nil), code: CodeBadSignature},
		{name: "missing alg", token: encodeSeg(`{"typ":"JWT"}`) + "." + parts[1] + "." + parts[2], code: CodeTokenMalformed},
		{name: "typ not JWT", token: encodeSeg(`{"alg":"HS256","typ":"JWE"}`) + "." + parts[1] + "." + parts[2], code: CodeTokenMalformed},
		{name: "payload edited without re-signing", token: parts[0] + "." + encodeSeg(strings.Replace(seedPayload, `"01"`, `"02"`, 1)) + "." + parts[2], code: CodeBadSignature},
		{name: "signature removed", token: parts[0] + "." + parts[1] + ".", code: CodeBadSignature},
		{name: "signature truncated", token: good[:len(good)-4], code: CodeBadSignature},
		{name: "signature from another token", token: parts[0] + "." + parts[1] + "." + strings.Split(mint(t, key, with(func(c *Claims) { c.CIINo = "2" })), ".")[2], code: CodeBadSignature},
		{name: "expired and bad signature: the signature is reported", token: mint(t, otherKey, with(func(c *Claims) { c.ExpiresAt = c.IssuedAt + 1 })), now: at(time.Hour), code: CodeBadSignature},
		{name: "exp a string", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"LOBId": "01", "iat": seedTime.Unix(), "exp": "1737366586"}, nil), code: CodeClaimsMalformed},
		{name: "LOBId a number", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"LOBId": 1, "iat": seedTime.Unix(), "exp": seedTime.Unix() + 60}, nil), code: CodeClaimsMalformed},
		{name: "aud an array that holds ours", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"CIINo": "10001004", "LOBId": "01", "aud": []string{"lob-02", "lob-01"}, "iat": seedTime.Unix(), "exp": seedTime.Unix() + 60}, nil), cfg: func(c *VerifierConfig) { c.Audience = "lob-01" }},
		{name: "aud an array without ours", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"CIINo": "10001004", "LOBId": "01", "aud": []string{"lob-02"}, "iat": seedTime.Unix(), "exp": seedTime.Unix() + 60}, nil), cfg: func(c *VerifierConfig) { c.Audience = "lob-01" }, code: CodeWrongAudience},
		{name: "aud a number", token: golangJWT(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"LOBId": "01", "aud": 1, "iat": seedTime.Unix(), "exp": seedTime.Unix() + 60}, nil), code: CodeClaimsMalformed},
		{name: "payload not JSON", token: func() string {
			in := parts[0] + "." + encodeSeg("not json")
			sig, _ := jwt.SigningMethodHS256.Sign(in, testSecret)
			return in + "." + base64.RawURLEncoding.EncodeToString(sig)
		}(), code: CodeTokenMalformed},
		{name: "empty", token: "", code: CodeTokenMissing},
		{name: "two segments", token: parts[0] + "." + parts[1], code: CodeTokenMalformed},
		{name: "four segments", token: good + ".x", code: CodeTokenMalformed},
		{name: "JWE-like five segments", token: "a.b.c.d.e", code: CodeTokenMalformed},
		{name: "padded signature", token: good + "=", code: CodeTokenMalformed},
		{name: "JSON serialization", token: `{"payload":"` + parts[1] + `","signatures":[]}`, code: CodeTokenMalformed},
		{name: "header not base64", token: "!!!." + parts[1] + "." + parts[2], code: CodeTokenMalformed},
		{name: "a newline in the signature (base64 decoding skips it)", token: parts[0] + "." + parts[1] + "." + parts[2][:10] + "\n" + parts[2][10:], code: CodeTokenMalformed},
		{name: "a CR in the payload", token: parts[0] + "." + parts[1][:5] + "\r" + parts[1][5:] + "." + parts[2], code: CodeTokenMalformed},
		{name: "too large", token: strings.Repeat(".", DefaultMaxTokenBytes+1), code: CodeTokenTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := VerifierConfig{Keys: ring, LOBId: "01", Now: fixedClock(seedTime)}
			if tt.now != nil {
				cfg.Now = tt.now
			}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			v, err := NewVerifier(cfg)
			require.NoError(t, err)

			c, err := v.Verify(context.Background(), tt.token)
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, "10001004", c.CIINo)
				return
			}
			require.Error(t, err, tt.reason)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrUnauthorized, tt.reason)
			assert.Equal(t, tt.code, CodeOf(err), tt.reason)
			assert.NotContains(t, err.Error(), string(testSecret))
		})
	}
}

func TestVerifyKidlessTokenAfterRotation(t *testing.T) {
	old, err := NewHMACKey("", testSecret)
	require.NoError(t, err)
	next, err := NewHMACKey("2026-11", []byte("the next secret, also 32 bytes or more"))
	require.NoError(t, err)
	ring, err := NewKeyring(old)
	require.NoError(t, err)
	s, _ := newTestSigner(t, SignerConfig{Keys: ring}, seedTime)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: fixedClock(seedTime)})
	require.NoError(t, err)

	req := Request{CIINo: "1", LOBId: "01", Functionality: "D"}
	before, err := s.Issue(context.Background(), req)
	require.NoError(t, err)
	require.NoError(t, ring.Rotate(next))
	after, err := s.Issue(context.Background(), req)
	require.NoError(t, err)

	assert.Equal(t, seedHeader, string(segment(t, before.TokenNo, 0)))
	assert.Equal(t, `{"alg":"HS256","typ":"JWT","kid":"2026-11"}`, string(segment(t, after.TokenNo, 0)))
	for _, tok := range []string{before.TokenNo, after.TokenNo} {
		_, err := v.Verify(context.Background(), tok)
		assert.NoError(t, err)
	}
	require.NoError(t, ring.Remove(""))
	_, err = v.Verify(context.Background(), before.TokenNo)
	assert.Equal(t, CodeUnknownKey, CodeOf(err))
	_, err = v.Verify(context.Background(), after.TokenNo)
	assert.NoError(t, err)
}

func TestNewVerifierErrors(t *testing.T) {
	ring := testRing(t, testSecret)
	tests := []struct {
		name string
		cfg  VerifierConfig
	}{
		{"no keys", VerifierConfig{LOBId: "01"}},
		{"no LOB", VerifierConfig{Keys: ring}},
		{"negative leeway", VerifierConfig{Keys: ring, LOBId: "01", Leeway: -time.Second}},
		{"huge leeway", VerifierConfig{Keys: ring, LOBId: "01", Leeway: time.Hour}},
		{"negative lifetime", VerifierConfig{Keys: ring, LOBId: "01", MaxLifetime: -1}},
		{"negative size", VerifierConfig{Keys: ring, LOBId: "01", MaxTokenBytes: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.cfg)
			assert.Error(t, err)
			assert.Nil(t, v)
		})
	}
}

func TestVerifyParallel(t *testing.T) {
	ring := testRing(t, testSecret)
	s, clock := newTestSigner(t, SignerConfig{Keys: ring}, seedTime)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: clock.Now})
	require.NoError(t, err)
	good, err := s.Issue(context.Background(), Request{CIINo: "1", LOBId: "01", Functionality: "D"})
	require.NoError(t, err)
	bad := good.TokenNo[:len(good.TokenNo)-2] + "AA"

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				_, err := v.Verify(context.Background(), good.TokenNo)
				assert.NoError(t, err)
				_, err = v.Verify(context.Background(), bad)
				assert.Error(t, err)
			}
		})
	}
	wg.Wait()
}

// signRaw signs header and payload, both JSON text, with HS256 under
// secret: a token whose signature is good whatever its JSON says.
func signRaw(t testing.TB, secret []byte, header, payload string) string {
	t.Helper()
	in := encodeSeg(header) + "." + encodeSeg(payload)
	sig, err := jwt.SigningMethodHS256.Sign(in, secret)
	require.NoError(t, err)
	return in + "." + encodeSeg(string(sig))
}

// TestVerifyJSONPolicy: a TokenNo signed with the right key is still
// refused when its header or claims break the module's JSON policy,
// where encoding/json alone would let the last copy of a name win or
// fill a field from a name of another case.
func TestVerifyJSONPolicy(t *testing.T) {
	ring := testRing(t, testSecret)
	v, err := NewVerifier(VerifierConfig{Keys: ring, LOBId: "01", Now: fixedClock(seedTime)})
	require.NoError(t, err)
	const hdr = `{"alg":"HS256","typ":"JWT"}`
	claims := func(extra string) string { return strings.TrimSuffix(seedPayload, "}") + extra + "}" }
	for _, tt := range []struct {
		name, header, payload, code string
	}{
		{"the seed's token, re-signed", hdr, seedPayload, ""},
		{"header names in capitals", `{"ALG":"HS256","TYP":"JWT"}`, seedPayload, CodeTokenMalformed},
		{"alg twice", `{"alg":"none","alg":"HS256"}`, seedPayload, CodeTokenMalformed},
		{"alg and a case variant", `{"alg":"HS256","Alg":"none"}`, seedPayload, CodeTokenMalformed},
		{"kid twice", `{"alg":"HS256","kid":"","kid":"x"}`, seedPayload, CodeTokenMalformed},
		{"embedded jwk", `{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}`, seedPayload, CodeTokenMalformed},
		{"jku", `{"alg":"HS256","jku":"https://evil.example/jwks.json"}`, seedPayload, CodeTokenMalformed},
		{"x5u", `{"alg":"HS256","x5u":"https://evil.example/cert.pem"}`, seedPayload, CodeTokenMalformed},
		{"x5c", `{"alg":"HS256","x5c":["MIIB"]}`, seedPayload, CodeTokenMalformed},
		{"crit", `{"alg":"HS256","crit":["b64"],"b64":false}`, seedPayload, CodeTokenMalformed},
		{"invalid UTF-8 in the header", "{\"alg\":\"HS256\",\"x\":\"\xff\"}", seedPayload, CodeTokenMalformed},
		{"LOBId and lobid", hdr, claims(`,"lobid":"02"`), CodeClaimsMalformed},
		{"LOBId twice", hdr, claims(`,"LOBId":"02"`), CodeClaimsMalformed},
		{"LOBId twice through an escape", hdr, claims(`,"\u004cOBId":"02"`), CodeClaimsMalformed},
		{"EXP beside exp", hdr, claims(`,"EXP":9999999999`), CodeClaimsMalformed},
		{"exp twice, the later in the future", hdr, strings.Replace(seedPayload, `"exp":1737366586`, `"exp":1,"exp":1737366586`, 1), CodeClaimsMalformed},
		{"an unknown claim twice", hdr, claims(`,"x":1,"x":2`), CodeClaimsMalformed},
		{"a duplicate inside an unknown claim", hdr, claims(`,"x":{"y":1,"y":2}`), CodeClaimsMalformed},
		{"invalid UTF-8 in a claim", hdr, claims(",\"note\":\"\xc3\""), CodeClaimsMalformed},
		{"iat a string", hdr, strings.Replace(seedPayload, `"iat":1737362986`, `"iat":"1737362986"`, 1), CodeClaimsMalformed},
		{"CIINo null", hdr, strings.Replace(seedPayload, `"10001004"`, `null`, 1), CodeClaimsMalformed},
		{"unknown claims of any case are fine", hdr, claims(`,"Note":"x","NOTE2":1`), ""},
		{"typ empty", `{"alg":"HS256","typ":""}`, seedPayload, CodeTokenMalformed},
		{"LOBId by Unicode folding (Kelvin sign)", hdr, strings.Replace(seedPayload, `"LOBId":"01"`, `"LOBId":"01","\u212Aid":"x"`, 1), ""},
		{"lobId spelled with a long s", hdr, claims(`,"ſub":"x"`), CodeClaimsMalformed},
		{"nbf that would overflow into the past", hdr, claims(`,"nbf":9223372036854775807`), CodeClaimsMalformed},
		{"exp past year 9999", hdr, strings.Replace(seedPayload, `"exp":1737366586`, `"exp":253402300800`, 1), CodeClaimsMalformed},
		{"a lone surrogate in CIINo", hdr, strings.Replace(seedPayload, `"10001004"`, `"1000\ud800"`, 1), CodeClaimsMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), signRaw(t, testSecret, tt.header, tt.payload))
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, "01", c.LOBId)
				return
			}
			assert.Equal(t, tt.code, CodeOf(err), "%v", err)
			assert.ErrorIs(t, err, ErrUnauthorized)
		})
	}

	// A forgery is reported as one, whatever its claims hold: the claims
	// are read only after the signature.
	_, err = v.Verify(context.Background(), signRaw(t, []byte("not the secret, but 32 bytes long!"), hdr, claims(`,"lobid":"02"`)))
	assert.Equal(t, CodeBadSignature, CodeOf(err))
}
