package cognito

// Tests of the attacks on bearer tokens. The attacks on key sets are in
// jwks_test.go; the Authorization header's grammar is httpadapter's.

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func accessPayload(t *testing.T) string {
	b, err := json.Marshal(accessClaims())
	require.NoError(t, err)
	return string(b)
}

func TestValidAccessToken(t *testing.T) {
	a := newStatic(t, baseConfig())
	p, err := a.Authenticate(context.Background(), sign(t, getKeys(t).k1, "k1", accessClaims()))
	require.NoError(t, err)
	assert.Equal(t, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", p.Subject)
	assert.Equal(t, "jdoe", p.Username)
	assert.Equal(t, testClient, p.ClientID)
	assert.Equal(t, "access", p.TokenUse)
	assert.Equal(t, testIssuer, p.Issuer)
	assert.Equal(t, []string{"aws.cognito.signin.user.admin", "openid", "profile"}, p.Scopes)
	assert.Equal(t, []string{"admin", "users"}, p.Groups)
	assert.Nil(t, p.Attributes)
	assert.Equal(t, time.Unix(testNow.Unix()+3600, 0), p.ExpiresAt)
	assert.JSONEq(t, accessPayload(t), string(p.Claims))
}

func TestValidIDToken(t *testing.T) {
	cfg := baseConfig()
	cfg.TokenUse = TokenUseID
	a := newStatic(t, cfg)
	p, err := a.Authenticate(context.Background(), sign(t, getKeys(t).k1, "k1", idClaims()))
	require.NoError(t, err)
	assert.Equal(t, "jdoe", p.Username)
	assert.Equal(t, testClient, p.ClientID)
	assert.Equal(t, "id", p.TokenUse)
	assert.Nil(t, p.Scopes)
	assert.Equal(t, map[string]string{"custom:ciino": "10001004", "custom:tier": "gold"}, p.Attributes)
	v, ok := p.StringClaim("email")
	assert.True(t, ok)
	assert.Equal(t, "jdoe@example.com", v)
	v, ok = p.StringClaim("custom:ciino")
	assert.True(t, ok)
	assert.Equal(t, "10001004", v)
}

// alg none / None / NONE with an empty signature.
func TestAlgNone(t *testing.T) {
	a := newStatic(t, baseConfig())
	k := getKeys(t).k1
	valid := sign(t, k, "k1", accessClaims())
	realSig := valid[strings.LastIndexByte(valid, '.')+1:]
	for _, alg := range []string{"none", "None", "NONE", "nOnE", ""} {
		for _, sig := range []string{"", realSig} {
			t.Run(alg+"/sig="+map[bool]string{true: "empty", false: "copied"}[sig == ""], func(t *testing.T) {
				tok := signRaw(t, nil, `{"alg":"`+alg+`","kid":"k1"}`, accessPayload(t)) + sig
				_, err := a.Authenticate(context.Background(), tok)
				assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeAlgNotAllowed)
			})
		}
	}
	t.Run("alg absent", func(t *testing.T) {
		_, err := a.Authenticate(context.Background(), signRaw(t, nil, `{"kid":"k1"}`, accessPayload(t)))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeAlgNotAllowed)
	})
}

// HS256 signed with the RSA public key as the secret, in every encoding an
// attacker could guess.
func TestKeyConfusionHS256(t *testing.T) {
	a := newStatic(t, baseConfig())
	pub := &getKeys(t).k1.PublicKey
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	jwkJSON, err := json.Marshal(jwkOf(t, getKeys(t).k1, "k1"))
	require.NoError(t, err)
	secrets := map[string][]byte{
		"PEM PKIX":        pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"PEM PKCS1":       pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}),
		"DER PKIX":        der,
		"DER PKCS1":       pkcs1,
		"JWK JSON":        jwkJSON,
		"JWKS JSON":       jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")),
		"raw modulus":     pub.N.Bytes(),
		"modulus base64":  []byte(enc.EncodeToString(pub.N.Bytes())),
		"PEM no new line": []byte(strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))),
	}
	for name, secret := range secrets {
		for _, alg := range []string{"HS256", "RS256"} {
			t.Run(name+"/"+alg, func(t *testing.T) {
				tok, err := jose.Sign(jwt.SigningMethodHS256, secret, enc.EncodeToString([]byte(`{"alg":"`+alg+`","kid":"k1"}`))+".", []byte(accessPayload(t)))
				require.NoError(t, err)
				_, err = a.Authenticate(context.Background(), tok)
				if alg == "HS256" {
					assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeAlgNotAllowed)
				} else {
					assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)
				}
			})
		}
	}
}

// A signature truncated, removed, copied from another token; payload or
// header edited without re-signing.
func TestSignatureTampering(t *testing.T) {
	a := newStatic(t, baseConfig())
	k := getKeys(t).k1
	valid := sign(t, k, "k1", accessClaims())
	other := sign(t, k, "k1", with(accessClaims(), "username", "someone-else"))
	dot := strings.LastIndexByte(valid, '.')
	input, sig := valid[:dot], valid[dot+1:]
	edited := with(accessClaims(), "cognito:groups", []string{"admin", "superuser"})
	editedPayload, _ := json.Marshal(edited)
	parts := strings.Split(valid, ".")
	sigBytes, err := enc.DecodeString(sig)
	require.NoError(t, err)
	flipped := append([]byte(nil), sigBytes...)
	flipped[len(flipped)-1] ^= 1

	tests := []struct {
		name, token, code string
	}{
		{"truncated by one char", input + "." + sig[:len(sig)-1], ""},
		{"truncated by four chars", input + "." + sig[:len(sig)-4], ""},
		{"truncated by one byte", input + "." + enc.EncodeToString(sigBytes[:len(sigBytes)-1]), ssotoken.CodeBadSignature},
		{"truncated to half", input + "." + enc.EncodeToString(sigBytes[:len(sigBytes)/2]), ssotoken.CodeBadSignature},
		{"removed, dot kept", input + ".", ssotoken.CodeBadSignature},
		{"removed with dot", input, ssotoken.CodeTokenMalformed},
		{"one bit flipped", input + "." + enc.EncodeToString(flipped), ssotoken.CodeBadSignature},
		{"copied from another token", input + "." + other[strings.LastIndexByte(other, '.')+1:], ssotoken.CodeBadSignature},
		{"payload edited", parts[0] + "." + enc.EncodeToString(editedPayload) + "." + sig, ssotoken.CodeBadSignature},
		{"header edited", enc.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256","kid":"k1"}`)) + "." + parts[1] + "." + sig, ssotoken.CodeBadSignature},
		{"signature doubled", valid + sig, ssotoken.CodeBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), tt.token)
			if tt.code == "" { // depends on the base64 of the signature
				require.ErrorIs(t, err, ssotoken.ErrUnauthorized)
				assert.Contains(t, []string{ssotoken.CodeTokenMalformed, ssotoken.CodeBadSignature}, ssotoken.CodeOf(err))
				return
			}
			assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
		})
	}
	_, err = a.Authenticate(context.Background(), valid)
	require.NoError(t, err, "the untampered token verifies")
}

// Keys carried in the token are never used or fetched.
func TestEmbeddedKeyHeaders(t *testing.T) {
	var hits atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write(jwksJSON(t, jwkOf(t, getKeys(t).other, "k1")))
	}))
	defer attacker.Close()
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
	a := newRemote(t, fake.config())
	ctx := ctxTimeout(t, testDeadline)
	_, err := a.Authenticate(ctx, sign(t, getKeys(t).k1, "k1", accessClaims()))
	require.NoError(t, err)
	before := fake.hits.Load()

	attackerJWK, err := json.Marshal(jwkOf(t, getKeys(t).other, "evil"))
	require.NoError(t, err)
	certish := enc.EncodeToString([]byte("not a certificate"))
	headers := map[string]string{
		"jwk":            `{"alg":"RS256","kid":"evil","jwk":` + string(attackerJWK) + `}`,
		"jwk, known kid": `{"alg":"RS256","kid":"k1","jwk":` + string(attackerJWK) + `}`,
		"jku":            `{"alg":"RS256","kid":"evil","jku":"` + attacker.URL + `/jwks.json"}`,
		"jku, known kid": `{"alg":"RS256","kid":"k1","jku":"` + attacker.URL + `/jwks.json"}`,
		"x5u":            `{"alg":"RS256","kid":"evil","x5u":"` + attacker.URL + `/cert.pem"}`,
		"x5c":            `{"alg":"RS256","kid":"evil","x5c":["` + certish + `"]}`,
	}
	for name, h := range headers {
		t.Run(name, func(t *testing.T) {
			for _, k := range []*rsa.PrivateKey{getKeys(t).other, getKeys(t).k1} {
				_, err := a.Authenticate(ctx, signRaw(t, k, h, accessPayload(t)))
				assertCode(t, err, ssotoken.ErrUnauthorized, CodeEmbeddedKey)
			}
		})
	}
	assert.Zero(t, hits.Load(), "nothing is fetched from a URL the token names")
	assert.Equal(t, before, fake.hits.Load(), "not even the configured JWKS")
}

// kid injection and non-string kid or alg -> 401 at normal latency, never
// 5xx.
func TestKIDInjection(t *testing.T) {
	fake := newFakeCognito(t, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
	a := newRemote(t, fake.config())
	ctx := ctxTimeout(t, testDeadline)
	_, err := a.Authenticate(ctx, sign(t, getKeys(t).k1, "k1", accessClaims()))
	require.NoError(t, err)

	kids := []string{
		"../../dev/null", "/dev/null", "|sleep 10", "$(sleep 10)", "`sleep 10`",
		"' OR '1'='1", "1; DROP TABLE keys --", "k1\x00", "k1 ", " k1", "K1",
		"%00", "http://127.0.0.1:1/jwks.json", strings.Repeat("k", 4096), "\u202ek1",
	}
	for _, kid := range kids {
		t.Run("kid="+kid[:min(len(kid), 20)], func(t *testing.T) {
			kidJSON, _ := json.Marshal(kid)
			start := time.Now()
			_, err := a.Authenticate(ctx, signRaw(t, getKeys(t).k1, `{"alg":"RS256","kid":`+string(kidJSON)+`}`, accessPayload(t)))
			want := ssotoken.CodeUnknownKey
			if len(kid) > jose.MaxHeaderBytes {
				want = ssotoken.CodeTokenMalformed // a header over the cap is never decoded
			}
			assertCode(t, err, ssotoken.ErrUnauthorized, want)
			assert.Less(t, time.Since(start), time.Second)
		})
	}
	t.Run(`kid=""`, func(t *testing.T) {
		_, err := a.Authenticate(ctx, signRaw(t, getKeys(t).k1, `{"alg":"RS256","kid":""}`, accessPayload(t)))
		assertCode(t, err, ssotoken.ErrUnauthorized, CodeKIDMissing)
	})
	for _, h := range []string{
		`{"alg":"RS256","kid":1}`, `{"alg":"RS256","kid":null}`, `{"alg":"RS256","kid":["k1"]}`,
		`{"alg":"RS256","kid":{"k1":1}}`, `{"alg":"RS256","kid":true}`,
		`{"alg":["RS256"],"kid":"k1"}`, `{"alg":256,"kid":"k1"}`, `{"alg":null,"kid":"k1"}`,
		`{"alg":"RS256","kid":"k1","kid":"k2"}`, `{"alg":"RS256","alg":"none","kid":"k1"}`,
	} {
		t.Run(h, func(t *testing.T) {
			_, err := a.Authenticate(ctx, signRaw(t, getKeys(t).k1, h, accessPayload(t)))
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeTokenMalformed)
		})
	}
	assert.LessOrEqual(t, fake.hits.Load(), int64(2), "one start-up fetch and at most one refetch")
}

// A genuine token from another user pool.
func TestTokenFromAnotherPool(t *testing.T) {
	k := getKeys(t)
	a := newStatic(t, baseConfig())
	ctx := context.Background()

	// Another pool's key and issuer: its kid is not in our JWKS.
	_, err := a.Authenticate(ctx, sign(t, k.other, "other-kid", with(accessClaims(), "iss", otherIssuer)))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	// Another pool's key under a kid that collides with ours.
	_, err = a.Authenticate(ctx, sign(t, k.other, "k1", with(accessClaims(), "iss", otherIssuer)))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)
	// Our key, another pool's issuer (or a near miss of ours).
	for _, iss := range []string{otherIssuer, testIssuer + "/", strings.ToUpper(testIssuer), "http" + strings.TrimPrefix(testIssuer, "https"), ""} {
		_, err = a.Authenticate(ctx, sign(t, k.k1, "k1", with(accessClaims(), "iss", iss)))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeWrongIssuer)
	}
	_, err = a.Authenticate(ctx, sign(t, k.k1, "k1", with(accessClaims(), "iss", nil)))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeWrongIssuer)
}

// With two pools configured, a key of one pool never verifies a token that
// names the other pool.
func TestTwoPoolsKeysBoundToTheirIssuer(t *testing.T) {
	k := getKeys(t)
	fa := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "a1")))
	fb := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.other, "b1")))
	cfg := fa.config()
	cfg.Pools = []Pool{{Issuer: otherIssuer, JWKSURL: fb.srv.URL + "/jwks.json"}}
	a := newRemote(t, cfg)
	ctx := ctxTimeout(t, testDeadline)

	p, err := a.Authenticate(ctx, sign(t, k.k1, "a1", accessClaims()))
	require.NoError(t, err)
	assert.Equal(t, testIssuer, p.Issuer)
	p, err = a.Authenticate(ctx, sign(t, k.other, "b1", with(accessClaims(), "iss", otherIssuer)))
	require.NoError(t, err)
	assert.Equal(t, otherIssuer, p.Issuer)

	_, err = a.Authenticate(ctx, sign(t, k.other, "b1", accessClaims())) // B's key, A's issuer
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeWrongIssuer)
	_, err = a.Authenticate(ctx, sign(t, k.k1, "a1", with(accessClaims(), "iss", otherIssuer)))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeWrongIssuer)
}

// Token-kind confusion and other app clients.
func TestTokenKindConfusion(t *testing.T) {
	k := getKeys(t).k1
	access := newStatic(t, baseConfig())
	idCfg := baseConfig()
	idCfg.TokenUse = TokenUseID
	id := newStatic(t, idCfg)
	ctx := context.Background()

	tests := []struct {
		name   string
		a      *Authenticator
		claims map[string]any
		code   string
	}{
		{"id token where access required", access, idClaims(), CodeWrongTokenUse},
		{"id token relabelled access, no client_id", access, with(idClaims(), "token_use", "access"), CodeWrongClient},
		{"access token where id required", id, accessClaims(), CodeWrongTokenUse},
		{"access token relabelled id, no aud", id, with(accessClaims(), "token_use", "id"), CodeWrongClient},
		{"token_use missing", access, with(accessClaims(), "token_use", nil), CodeWrongTokenUse},
		{"token_use refresh", access, with(accessClaims(), "token_use", "refresh"), CodeWrongTokenUse},
		{"token_use in upper case", access, with(accessClaims(), "token_use", "ACCESS"), CodeWrongTokenUse},
		{"other app client", access, with(accessClaims(), "client_id", testClient2), CodeWrongClient},
		{"client_id missing", access, with(accessClaims(), "client_id", nil), CodeWrongClient},
		{"client in aud only", access, with(accessClaims(), "client_id", nil, "aud", testClient), CodeWrongClient},
		{"id token of another client", id, with(idClaims(), "aud", testClient2), CodeWrongClient},
		{"id token with client_id but other aud", id, with(idClaims(), "aud", testClient2, "client_id", testClient), CodeWrongClient},
		{"client id prefix", access, with(accessClaims(), "client_id", testClient+"x"), CodeWrongClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.a.Authenticate(ctx, sign(t, k, "k1", tt.claims))
			assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
		})
	}
}

// The time claims at the boundaries of the leeway, +/- 1 s.
func TestTimeBoundaries(t *testing.T) {
	k := getKeys(t).k1
	now := testNow.Unix()
	for _, leeway := range []time.Duration{0, 30 * time.Second} {
		l := int64(leeway / time.Second)
		cfg := baseConfig()
		cfg.Leeway = leeway
		cfg.DisableCache = true
		a := newStatic(t, cfg)
		tests := []struct {
			name   string
			claims map[string]any
			code   string // "" = accepted
		}{
			{"exp in leeway+1s", with(accessClaims(), "exp", now-l+1), ""},
			{"exp at now-leeway", with(accessClaims(), "exp", now-l), ssotoken.CodeTokenExpired},
			{"exp past leeway by 1s", with(accessClaims(), "exp", now-l-1), ssotoken.CodeTokenExpired},
			// A fraction of a second rounds to the stricter second: exp
			// down (as golang-jwt's NumericDate), nbf and iat up.
			{"exp fractional within", with(accessClaims(), "exp", float64(now-l)+1.5), ""},
			{"exp fractional, rounded down to now-leeway", with(accessClaims(), "exp", float64(now-l)+0.5), ssotoken.CodeTokenExpired},
			{"nbf fractional, rounded up to now+leeway", with(accessClaims(), "nbf", float64(now+l)-0.5), ""},
			{"nbf fractional past leeway", with(accessClaims(), "nbf", float64(now+l)+0.5), ssotoken.CodeTokenNotYetValid},
			{"iat fractional past leeway", with(accessClaims(), "iat", float64(now+l)+0.25), ssotoken.CodeTokenNotYetValid},
			{"exp zero", with(accessClaims(), "exp", 0), ssotoken.CodeTokenExpired},
			{"exp negative (before 1970: not a NumericDate the policy takes)", with(accessClaims(), "exp", -1), ssotoken.CodeClaimsMalformed},
			{"exp past year 9999", with(accessClaims(), "exp", int64(jose.MaxSeconds)+1), ssotoken.CodeClaimsMalformed},
			{"nbf that would overflow into the past", with(accessClaims(), "nbf", int64(9223372036854775807)), ssotoken.CodeClaimsMalformed},
			{"iat that would overflow into the past", with(accessClaims(), "iat", int64(5000000000000000000)), ssotoken.CodeClaimsMalformed},
			{"exp missing", with(accessClaims(), "exp", nil), ssotoken.CodeExpMissing},
			{"nbf within leeway-1s", with(accessClaims(), "nbf", now+l-1), ""},
			{"nbf at now+leeway", with(accessClaims(), "nbf", now+l), ""},
			{"nbf past leeway by 1s", with(accessClaims(), "nbf", now+l+1), ssotoken.CodeTokenNotYetValid},
			{"iat within leeway-1s", with(accessClaims(), "iat", now+l-1), ""},
			{"iat past leeway by 1s", with(accessClaims(), "iat", now+l+1), ssotoken.CodeTokenNotYetValid},
			{"iat far future", with(accessClaims(), "iat", now+86400), ssotoken.CodeTokenNotYetValid},
			{"iat missing", with(accessClaims(), "iat", nil), ""},
		}
		for _, tt := range tests {
			t.Run(leeway.String()+"/"+tt.name, func(t *testing.T) {
				_, err := a.Authenticate(context.Background(), sign(t, k, "k1", tt.claims))
				if tt.code == "" {
					require.NoError(t, err)
					return
				}
				assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
			})
		}
	}
}

// An expired token is reported as forged when its signature is bad, and
// as expired (before its other faults) when not.
func TestExpiredAndBadSignature(t *testing.T) {
	a := newStatic(t, baseConfig())
	expired := with(accessClaims(), "exp", testNow.Unix()-86400, "iss", otherIssuer, "token_use", "id", "client_id", "x")
	_, err := a.Authenticate(context.Background(), sign(t, getKeys(t).other, "k1", expired))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)
	_, err = a.Authenticate(context.Background(), sign(t, getKeys(t).k1, "k1", expired))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeTokenExpired)
}

// Claims of the wrong JSON type.
func TestClaimTypeConfusion(t *testing.T) {
	k := getKeys(t).k1
	idCfg := baseConfig()
	idCfg.TokenUse = TokenUseID
	id := newStatic(t, idCfg)
	access := newStatic(t, baseConfig())
	exp := testNow.Unix() + 3600
	tests := []struct {
		name string
		a    *Authenticator
		raw  string // a claim set, spliced by hand where JSON maps cannot say it
		code string
	}{
		{"aud a number", id, rawWith(t, idClaims(), `"aud":12345`), ssotoken.CodeClaimsMalformed},
		// An array is a well-typed "aud" (RFC 7519), but a Cognito ID token
		// names its one app client as a string, and aws-jwt-verify refuses
		// any other "aud".
		{"aud an array", id, rawWith(t, idClaims(), `"aud":["client-one"]`), CodeWrongClient},
		{"aud an array with a number", id, rawWith(t, idClaims(), `"aud":["client-one",1]`), ssotoken.CodeClaimsMalformed},
		{"aud an array with null", id, rawWith(t, idClaims(), `"aud":["client-one",null]`), ssotoken.CodeClaimsMalformed},
		{"aud null", id, rawWith(t, idClaims(), `"aud":null`), ssotoken.CodeClaimsMalformed},
		{"exp a string", access, rawWith(t, accessClaims(), `"exp":"`+itoa(exp)+`"`), ssotoken.CodeClaimsMalformed},
		{"exp null", access, rawWith(t, accessClaims(), `"exp":null`), ssotoken.CodeClaimsMalformed},
		{"exp an object", access, rawWith(t, accessClaims(), `"exp":{"$gt":0}`), ssotoken.CodeClaimsMalformed},
		{"exp true", access, rawWith(t, accessClaims(), `"exp":true`), ssotoken.CodeClaimsMalformed},
		{"exp huge", access, rawWith(t, accessClaims(), `"exp":1e300`), ssotoken.CodeClaimsMalformed},
		{"exp 20 digits", access, rawWith(t, accessClaims(), `"exp":99999999999999999999`), ssotoken.CodeClaimsMalformed},
		{"nbf a string", access, rawWith(t, accessClaims(), `"nbf":"0"`), ssotoken.CodeClaimsMalformed},
		{"iat an array", access, rawWith(t, accessClaims(), `"iat":[0]`), ssotoken.CodeClaimsMalformed},
		{"iss an array", access, rawWith(t, accessClaims(), `"iss":["`+testIssuer+`"]`), ssotoken.CodeClaimsMalformed},
		{"iss a number", access, rawWith(t, accessClaims(), `"iss":1`), ssotoken.CodeClaimsMalformed},
		{"token_use an array", access, rawWith(t, accessClaims(), `"token_use":["access"]`), ssotoken.CodeClaimsMalformed},
		{"client_id an array", access, rawWith(t, accessClaims(), `"client_id":["client-one"]`), ssotoken.CodeClaimsMalformed},
		{"scope an array", access, rawWith(t, accessClaims(), `"scope":["openid"]`), ssotoken.CodeClaimsMalformed},
		{"groups a string", access, rawWith(t, accessClaims(), `"cognito:groups":"admin"`), ssotoken.CodeClaimsMalformed},
		{"groups with a number", access, rawWith(t, accessClaims(), `"cognito:groups":["admin",1]`), ssotoken.CodeClaimsMalformed},
		{"groups with null", access, rawWith(t, accessClaims(), `"cognito:groups":["admin",null]`), ssotoken.CodeClaimsMalformed},
		{"groups null", access, rawWith(t, accessClaims(), `"cognito:groups":null`), ssotoken.CodeClaimsMalformed},
		{"auth_time a string", access, rawWith(t, with(accessClaims(), "auth_time", nil), `"auth_time":"1"`), ssotoken.CodeClaimsMalformed},
		{"jti a number", access, rawWith(t, with(accessClaims(), "jti", nil), `"jti":1`), ssotoken.CodeClaimsMalformed},
		{"username an array", access, rawWith(t, with(accessClaims(), "username", nil), `"username":["jdoe"]`), ssotoken.CodeClaimsMalformed},
		{"cognito:username a number", id, rawWith(t, with(idClaims(), "cognito:username", nil), `"cognito:username":1`), ssotoken.CodeClaimsMalformed},
		{"custom attribute a number", id, rawWith(t, idClaims(), `"custom:n":5`), ssotoken.CodeClaimsMalformed},
		{"custom attribute an object", id, rawWith(t, idClaims(), `"custom:n":{"a":"b"}`), ssotoken.CodeClaimsMalformed},
		{"custom attribute a number, then a string", id, rawWith(t, idClaims(), `"custom:n":5,"custom:n":"x"`), ssotoken.CodeClaimsMalformed},
		{"sub a number", access, rawWith(t, accessClaims(), `"sub":1`), ssotoken.CodeClaimsMalformed},
		{"duplicate token_use", access, rawWith(t, accessClaims(), `"token_use":"access","token_use":"id"`), ssotoken.CodeClaimsMalformed},
		{"duplicate exp", access, rawWith(t, accessClaims(), `"exp":`+itoa(exp)+`,"exp":`+itoa(exp+1)), ssotoken.CodeClaimsMalformed},
		{"escaped duplicate", access, rawWith(t, accessClaims(), `"token_use":"access","token\u005fuse":"id"`), ssotoken.CodeClaimsMalformed},
		{"duplicate custom attribute", id, rawWith(t, idClaims(), `"custom:x":"a","custom:x":"b"`), ssotoken.CodeClaimsMalformed},
		{"payload an array", access, `[` + rawWith(t, accessClaims(), "") + `]`, ssotoken.CodeTokenMalformed},
		{"payload a string", access, `"x"`, ssotoken.CodeTokenMalformed},
		{"payload null", access, `null`, ssotoken.CodeTokenMalformed},
		{"payload trailing data", access, rawWith(t, accessClaims(), "") + `{}`, ssotoken.CodeTokenMalformed},
		{"payload invalid UTF-8", access, rawWith(t, accessClaims(), `"x":"`+"\xff"+`"`), ssotoken.CodeTokenMalformed},
		{"payload deeply nested", access, rawWith(t, accessClaims(), `"x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)), ssotoken.CodeTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.a.Authenticate(context.Background(), signRaw(t, k, `{"alg":"RS256","kid":"k1"}`, tt.raw))
			assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
		})
	}
	t.Run("escaped names and values mean what they say", func(t *testing.T) {
		raw := rawWith(t, with(accessClaims(), "token_use", nil, "username", nil), `"token\u005fuse":"acc\u0065ss","username":"j\u00f6e"`)
		p, err := access.Authenticate(context.Background(), signRaw(t, k, `{"alg":"RS256","kid":"k\u0031"}`, raw))
		require.NoError(t, err)
		assert.Equal(t, "jöe", p.Username)
	})
}

// rawWith returns m as JSON with extra members spliced in at the end (m's
// own members of the same names are removed first).
func rawWith(t *testing.T, m map[string]any, extra string) string {
	for _, name := range []string{"aud", "exp", "nbf", "iat", "iss", "token_use", "client_id", "scope", "cognito:groups", "sub"} {
		if strings.Contains(extra, `"`+name+`"`) {
			delete(m, name)
		}
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	if extra == "" {
		return string(b)
	}
	return string(b[:len(b)-1]) + "," + extra + "}"
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Empty tokens and tokens that are not three strict base64url segments.
func TestStructure(t *testing.T) {
	a := newStatic(t, baseConfig())
	valid := sign(t, getKeys(t).k1, "k1", accessClaims())
	p := strings.Split(valid, ".")
	pad := func(s string) string {
		for len(s)%4 != 0 {
			s += "="
		}
		return s
	}
	jsonSerialization, _ := json.Marshal(map[string]string{"protected": p[0], "payload": p[1], "signature": p[2]})
	tests := []struct{ name, token, code string }{
		{"empty", "", ssotoken.CodeTokenMissing},
		{"one segment", p[1], ssotoken.CodeTokenMalformed},
		{"two segments", p[0] + "." + p[1], ssotoken.CodeTokenMalformed},
		{"four segments", valid + "." + p[2], ssotoken.CodeTokenMalformed},
		{"JWE, five segments", p[0] + ".." + p[1] + "." + p[2] + ".tag", ssotoken.CodeTokenMalformed},
		{"JSON serialization", string(jsonSerialization), ssotoken.CodeTokenMalformed},
		{"only dots", "..", ssotoken.CodeTokenMalformed},
		{"padded header", pad(p[0]) + "." + p[1] + "." + p[2], ssotoken.CodeTokenMalformed},
		{"padded signature", p[0] + "." + p[1] + "." + pad(p[2]), ssotoken.CodeTokenMalformed},
		{"a newline in the signature (base64 decoding skips it)", p[0] + "." + p[1] + "." + p[2][:10] + "\n" + p[2][10:], ssotoken.CodeTokenMalformed},
		{"a CR in the header", p[0][:4] + "\r" + p[0][4:] + "." + p[1] + "." + p[2], ssotoken.CodeTokenMalformed},
		{"standard base64 alphabet", p[0] + "." + p[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(p[2]), ssotoken.CodeTokenMalformed},
		{"space inside", p[0] + " ." + p[1] + "." + p[2], ssotoken.CodeTokenMalformed},
		{"header not JSON", enc.EncodeToString([]byte("alg=RS256")) + "." + p[1] + "." + p[2], ssotoken.CodeTokenMalformed},
		{"header an array", enc.EncodeToString([]byte(`["RS256"]`)) + "." + p[1] + "." + p[2], ssotoken.CodeTokenMalformed},
		{"header with crit", enc.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}`)) + "." + p[1] + "." + p[2], ssotoken.CodeTokenMalformed},
		{"Bearer prefix left on", "Bearer " + valid, ssotoken.CodeTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), tt.token)
			assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
		})
	}
	t.Run("padded payload, signed as sent", func(t *testing.T) {
		payload := accessPayload(t)
		for len(enc.EncodeToString([]byte(payload)))%4 == 0 {
			payload += " "
		}
		input := p[0] + "." + pad(enc.EncodeToString([]byte(payload)))
		sig, err := jwt.SigningMethodRS256.Sign(input, getKeys(t).k1)
		require.NoError(t, err)
		_, err = a.Authenticate(context.Background(), input+"."+enc.EncodeToString(sig))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeTokenMalformed)
	})
}

// A 1 MB run of dots, a giant header, many in parallel -> refused before
// any decoding, with no allocation.
func TestHugeTokens(t *testing.T) {
	a := newStatic(t, baseConfig())
	dots := strings.Repeat(".", 1<<20)
	giantHeader := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"`+strings.Repeat("k", 64<<10)+`"}`)) + ".e30.sig"
	manyDots := strings.Repeat(".", DefaultMaxTokenBytes-1) // under the cap: refused as malformed
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tok := range []string{dots, giantHeader} {
				_, err := a.Authenticate(context.Background(), tok)
				assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeTokenTooLarge)
			}
			_, err := a.Authenticate(context.Background(), manyDots)
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeTokenMalformed)
		}()
	}
	wg.Wait()
	assert.Less(t, time.Since(start), 5*time.Second)
	allocs := testing.AllocsPerRun(20, func() { _, _ = a.Authenticate(context.Background(), dots) })
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(20, func() { _, _ = a.Authenticate(context.Background(), manyDots) })
	assert.Zero(t, allocs)
}

// An ES256 header with a zero signature against an RSA key ("psychic
// signatures", CVE-2022-21449), and an all-zero RS256 signature.
func TestPsychicSignature(t *testing.T) {
	a := newStatic(t, baseConfig())
	input := enc.EncodeToString([]byte(`{"alg":"ES256","kid":"k1"}`)) + "." + enc.EncodeToString([]byte(accessPayload(t)))
	for _, n := range []int{0, 64, 72, 256} {
		_, err := a.Authenticate(context.Background(), input+"."+enc.EncodeToString(make([]byte, n)))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeAlgNotAllowed)
	}
	rsInput := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"k1"}`)) + "." + enc.EncodeToString([]byte(accessPayload(t)))
	for _, n := range []int{1, 64, 255, 256, 257} {
		_, err := a.Authenticate(context.Background(), rsInput+"."+enc.EncodeToString(make([]byte, n)))
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)
	}
	_, err := a.Authenticate(context.Background(), rsInput+"."+enc.EncodeToString(getKeys(t).k1.N.Bytes()))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)
}

// The order of the checks, as Authenticate lists them: each token fails
// two checks, and the earlier one is reported.
func TestCheckOrder(t *testing.T) {
	k := getKeys(t)
	cfg := baseConfig()
	cfg.RequiredScopes = []string{"admin:write"}
	a := newStatic(t, cfg)
	now := testNow.Unix()
	tests := []struct {
		name  string
		token string
		code  string
	}{
		{"too large beats structure", strings.Repeat("a.", DefaultMaxTokenBytes), ssotoken.CodeTokenTooLarge},
		{"alg beats kid", signRaw(t, k.k1, `{"alg":"HS256"}`, accessPayload(t)), ssotoken.CodeAlgNotAllowed},
		{"kid beats signature", signRaw(t, k.other, `{"alg":"RS256"}`, accessPayload(t)), CodeKIDMissing},
		{"signature beats exp", sign(t, k.other, "k1", with(accessClaims(), "exp", now-100)), ssotoken.CodeBadSignature},
		{"exp beats nbf", sign(t, k.k1, "k1", with(accessClaims(), "exp", now-100, "nbf", now+100)), ssotoken.CodeTokenExpired},
		{"nbf beats iss", sign(t, k.k1, "k1", with(accessClaims(), "nbf", now+100, "iss", otherIssuer)), ssotoken.CodeTokenNotYetValid},
		{"iss beats token_use", sign(t, k.k1, "k1", with(accessClaims(), "iss", otherIssuer, "token_use", "id")), ssotoken.CodeWrongIssuer},
		{"token_use beats client", sign(t, k.k1, "k1", with(accessClaims(), "token_use", "id", "client_id", "x")), CodeWrongTokenUse},
		{"client beats scope", sign(t, k.k1, "k1", with(accessClaims(), "client_id", "x")), CodeWrongClient},
		// golang-jwt decodes the claims before it verifies the signature;
		// their faults under the policy are held until it has.
		{"signature beats claim types", signRaw(t, k.other, `{"alg":"RS256","kid":"k1"}`, rawWith(t, accessClaims(), `"exp":"soon"`)), ssotoken.CodeBadSignature},
		{"signature beats duplicate claims", signRaw(t, k.other, `{"alg":"RS256","kid":"k1"}`, rawWith(t, accessClaims(), `"iss":"a","iss":"b"`)), ssotoken.CodeBadSignature},
		{"signature beats invalid UTF-8", signRaw(t, k.other, `{"alg":"RS256","kid":"k1"}`, rawWith(t, accessClaims(), `"x":"`+"\xff"+`"`)), ssotoken.CodeBadSignature},
		{"signature beats a payload that is not an object", signRaw(t, k.other, `{"alg":"RS256","kid":"k1"}`, `[1]`), ssotoken.CodeBadSignature},
		// Only a payload that is not JSON at all fails before the key.
		{"JSON syntax beats signature", signRaw(t, k.other, `{"alg":"RS256","kid":"k1"}`, `{"exp":`), ssotoken.CodeTokenMalformed},
		{"header beats JSON syntax", signRaw(t, k.other, `{"alg":"HS256","kid":"k1"}`, `{"exp":`), ssotoken.CodeAlgNotAllowed},
		{"kid beats JSON syntax", signRaw(t, k.other, `{"alg":"RS256"}`, `{"exp":`), CodeKIDMissing},
		{"embedded key beats alg", signRaw(t, k.other, `{"jku":"https://x","alg":"none","kid":"k1"}`, accessPayload(t)), CodeEmbeddedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), tt.token)
			assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
		})
	}
	_, err := a.Authenticate(context.Background(), sign(t, k.k1, "k1", accessClaims()))
	assertCode(t, err, ssotoken.ErrForbidden, ssotoken.CodeInsufficientScope)
}

// The refusals shared with the module's other verifiers are package
// ssotoken's sentinels themselves, so errors.Is finds them.
func TestRefusalsAreSsotokenSentinels(t *testing.T) {
	k := getKeys(t)
	a := newStatic(t, baseConfig())
	now := testNow.Unix()
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"missing", "", ssotoken.ErrTokenMissing},
		{"too large", strings.Repeat("a", DefaultMaxTokenBytes+1), ssotoken.ErrTokenTooLarge},
		{"malformed", "..", ssotoken.ErrTokenMalformed},
		{"alg", signRaw(t, k.k1, `{"alg":"HS256","kid":"k1"}`, accessPayload(t)), ssotoken.ErrAlgNotAllowed},
		{"unknown kid", sign(t, k.k1, "k9", accessClaims()), ssotoken.ErrUnknownKey},
		{"signature", sign(t, k.other, "k1", accessClaims()), ssotoken.ErrBadSignature},
		{"claims", signRaw(t, k.k1, `{"alg":"RS256","kid":"k1"}`, rawWith(t, accessClaims(), `"exp":"soon"`)), ssotoken.ErrClaimsMalformed},
		{"exp missing", sign(t, k.k1, "k1", with(accessClaims(), "exp", nil)), ssotoken.ErrExpMissing},
		{"expired", sign(t, k.k1, "k1", with(accessClaims(), "exp", now-1)), ssotoken.ErrTokenExpired},
		{"not yet valid", sign(t, k.k1, "k1", with(accessClaims(), "nbf", now+100)), ssotoken.ErrTokenNotYetValid},
		{"issuer", sign(t, k.k1, "k1", with(accessClaims(), "iss", otherIssuer)), ssotoken.ErrWrongIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authenticate(context.Background(), tt.token)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

// Error messages never hold the token or anything of it.
func TestErrorsHoldNoToken(t *testing.T) {
	a := newStatic(t, baseConfig())
	k := getKeys(t)
	for _, tok := range []string{
		sign(t, k.other, "k1", accessClaims()),
		sign(t, k.k1, "k1", with(accessClaims(), "exp", 1)),
		sign(t, k.k1, "secret-kid-value", accessClaims()),
		signRaw(t, k.k1, `{"alg":"secret-alg-value","kid":"k1"}`, accessPayload(t)),
	} {
		_, err := a.Authenticate(context.Background(), tok)
		require.Error(t, err)
		for _, part := range strings.Split(tok, ".") {
			assert.NotContains(t, err.Error(), part)
		}
		assert.NotContains(t, err.Error(), "secret")
		assert.NotContains(t, err.Error(), "jdoe")
	}
}

// One JSON policy for the header and the claims: duplicated names, case
// variants of known names, invalid UTF-8, embedded keys and crit are
// refused.
func TestJSONPolicy(t *testing.T) {
	k := getKeys(t).k1
	a := newStatic(t, baseConfig())
	head := `{"alg":"RS256","kid":"k1"}`
	tests := []struct {
		name, header, payload, code string
	}{
		{"header: alg in upper case beside alg", `{"ALG":"RS256","alg":"RS256","kid":"k1"}`, "", ssotoken.CodeTokenMalformed},
		{"header: ALG only", `{"ALG":"RS256","kid":"k1"}`, "", ssotoken.CodeTokenMalformed},
		{"header: ALG and TYP in upper case only", `{"ALG":"RS256","TYP":"JWT","kid":"k1"}`, "", ssotoken.CodeTokenMalformed},
		{"header: Kid", `{"alg":"RS256","Kid":"k1"}`, "", ssotoken.CodeTokenMalformed},
		{"header: kid twice", `{"alg":"RS256","kid":"k1","kid":"k1"}`, "", ssotoken.CodeTokenMalformed},
		{"header: alg twice, same value", `{"alg":"RS256","alg":"RS256","kid":"k1"}`, "", ssotoken.CodeTokenMalformed},
		{"header: a duplicate in a nested object", `{"alg":"RS256","kid":"k1","x":{"a":1,"a":2}}`, "", ssotoken.CodeTokenMalformed},
		{"header: invalid UTF-8", `{"alg":"RS256","kid":"k1","x":"` + "\xff" + `"}`, "", ssotoken.CodeTokenMalformed},
		{"header: TYP beside typ", `{"alg":"RS256","kid":"k1","typ":"JWT","TYP":"JWT"}`, "", ssotoken.CodeTokenMalformed},
		{"header: jwk", `{"alg":"RS256","kid":"k1","jwk":{"kty":"RSA"}}`, "", CodeEmbeddedKey},
		{"header: x5c", `{"alg":"RS256","kid":"k1","x5c":["AA"]}`, "", CodeEmbeddedKey},
		{"header: crit", `{"alg":"RS256","kid":"k1","crit":["exp"]}`, "", ssotoken.CodeTokenMalformed},
		{"claims: EXP beside exp", head, rawWith(t, accessClaims(), `"EXP":1`), ssotoken.CodeClaimsMalformed},
		{"claims: Client_id beside client_id", head, rawWith(t, accessClaims(), `"Client_id":"x"`), ssotoken.CodeClaimsMalformed},
		{"claims: ISS", head, rawWith(t, with(accessClaims(), "iss", nil), `"ISS":"`+testIssuer+`"`), ssotoken.CodeClaimsMalformed},
		{"claims: Cognito:Groups", head, rawWith(t, accessClaims(), `"Cognito:Groups":["root"]`), ssotoken.CodeClaimsMalformed},
		{"claims: token_use twice, same value", head, rawWith(t, accessClaims(), `"token_use":"access","token_use":"access"`), ssotoken.CodeClaimsMalformed},
		{"claims: a duplicate in a nested object", head, rawWith(t, accessClaims(), `"x":{"a":1,"a":2}`), ssotoken.CodeClaimsMalformed},
		{"claims: invalid UTF-8 in a name", head, rawWith(t, accessClaims(), `"`+"\xc3"+`":1`), ssotoken.CodeTokenMalformed},
		{"accepted: unknown members of any type", head, rawWith(t, accessClaims(), `"email_verified":"true","x":{"y":[1,null]},"Email":1`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := tt.payload
			if payload == "" {
				payload = accessPayload(t)
			}
			_, err := a.Authenticate(context.Background(), signRaw(t, k, tt.header, payload))
			if tt.code == "" {
				require.NoError(t, err)
				return
			}
			assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
		})
	}
}

// "scope" is split on single spaces only (RFC 6749 section 3.3).
func TestSplitScope(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"openid", []string{"openid"}},
		{"openid profile", []string{"openid", "profile"}},
		{"openid  profile ", []string{"openid", "profile"}},
		{" ", []string{}},
		{"openid\tprofile", []string{"openid\tprofile"}},
		{"openid\nprofile\u00a0email", []string{"openid\nprofile\u00a0email"}},
	} {
		assert.Equal(t, tt.want, splitScope(tt.in), "%q", tt.in)
	}
}
