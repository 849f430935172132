package cookiesso

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

var enc = base64.RawURLEncoding.EncodeToString

// hsRaw signs header and payload, both JSON text, with HS256: a token whose
// signature is good whatever its JSON says.
func hsRaw(t testing.TB, secret []byte, header, payload string) string {
	t.Helper()
	in := enc([]byte(header)) + "." + enc([]byte(payload))
	sig, err := jwt.SigningMethodHS256.Sign(in, secret)
	require.NoError(t, err)
	return in + "." + enc(sig)
}

// rsRaw is hsRaw with RS256 under priv.
func rsRaw(t testing.TB, priv *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	in := enc([]byte(header)) + "." + enc([]byte(payload))
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
	require.NoError(t, err)
	return in + "." + enc(sig)
}

// policyCases are header and claims that break the module's JSON policy;
// each class below refuses every one, although the signature is good.
// good is a claim set the class accepts; its first member is "sub".
func policyCases(good, alg string) []struct{ name, header, payload string } {
	hdr := `{"alg":"` + alg + `","typ":"JWT","kid":"k1"}`
	with := func(extra string) string { return strings.TrimSuffix(good, "}") + extra + "}" }
	return []struct{ name, header, payload string }{
		{"header names in capitals", `{"ALG":"` + alg + `","KID":"k1"}`, good},
		{"alg twice", `{"alg":"none","alg":"` + alg + `","kid":"k1"}`, good},
		{"kid and a case variant", `{"alg":"` + alg + `","kid":"k1","Kid":"k2"}`, good},
		{"jwk in the header", `{"alg":"` + alg + `","kid":"k1","jwk":{"kty":"oct"}}`, good},
		{"jku in the header", `{"alg":"` + alg + `","kid":"k1","jku":"https://evil.example/jwks"}`, good},
		{"x5u in the header", `{"alg":"` + alg + `","kid":"k1","x5u":"https://evil.example/c"}`, good},
		{"x5c in the header", `{"alg":"` + alg + `","kid":"k1","x5c":["MIIB"]}`, good},
		{"crit", `{"alg":"` + alg + `","kid":"k1","crit":["exp"]}`, good},
		{"ROLES beside roles", hdr, with(`,"ROLES":["Admin"]`)},
		{"sub twice", hdr, with(`,"sub":"admin"`)},
		{"exp twice, the later in the future", hdr, strings.Replace(good, `"exp":`, `"exp":1,"exp":`, 1)},
		{"EXP beside exp", hdr, with(`,"EXP":9999999999`)},
		{"invalid UTF-8", hdr, with(",\"n\":\"\xff\"")},
		{"exp a string", hdr, strings.Replace(good, `"exp":`, `"exp":"1","x":`, 1)},
		{"roles a string", hdr, strings.Replace(good, `"roles":["Use API"]`, `"roles":"Use API"`, 1)},
		{"roles spelled with a long s", hdr, with(`,"roleſ":["Admin"]`)},
		{"iat that would overflow into the past", hdr, with(`,"iat":9223372036854775807`)},
		{"nbf past year 9999", hdr, with(`,"nbf":253402300800`)},
		{"a lone surrogate in sub", hdr, strings.Replace(good, `"sub":"jdoe"`, `"sub":"jdoe\ud800"`, 1)},
		{"typ empty", `{"alg":"` + alg + `","typ":"","kid":"k1"}`, good},
	}
}

func TestJSONPolicyPerClass(t *testing.T) {
	ctx := context.Background()
	exp := testNow.Add(time.Hour).Unix()
	good := `{"sub":"jdoe","roles":["Use API"],"exp":` + itoa(exp) + `}`
	goodAPI := `{"sub":"jdoe","roles":["Use API"],"iat":` + itoa(testNow.Unix()) + `,"exp":` + itoa(exp) + `,"iss":"ssokit-cookiesso","aud":"ssokit-api"}`

	t.Run("HS256 cookie", func(t *testing.T) {
		v, err := NewHMACValidator(HMACValidatorConfig{Secret: cookieSecret, KeyID: "k1", Now: clock(testNow)})
		require.NoError(t, err)
		_, err = v.Validate(ctx, hsRaw(t, cookieSecret, `{"alg":"HS256","typ":"JWT","kid":"k1"}`, good))
		require.NoError(t, err, "the well-formed cookie")
		for _, tt := range policyCases(good, "HS256") {
			_, err := v.Validate(ctx, hsRaw(t, cookieSecret, tt.header, tt.payload))
			assert.Equal(t, CodeCookieMalformed, ssotoken.CodeOf(err), "%s: %v", tt.name, err)
			assert.Equal(t, ssotoken.ErrBadRequest, ssotoken.KindOf(err), tt.name)
		}
	})
	t.Run("exchanged JWT", func(t *testing.T) {
		ring := hmacRing(t, apiSecret)
		k, err := ssotoken.NewHMACKey("k1", apiSecret)
		require.NoError(t, err)
		require.NoError(t, ring.Add(k))
		a := newAuth(t, ring, nil)
		_, err = a.Authenticate(ctx, hsRaw(t, apiSecret, `{"alg":"HS256","typ":"JWT","kid":"k1"}`, goodAPI))
		require.NoError(t, err, "the well-formed JWT")
		for _, tt := range policyCases(goodAPI, "HS256") {
			_, err := a.Authenticate(ctx, hsRaw(t, apiSecret, tt.header, tt.payload))
			assert.Contains(t, []string{ssotoken.CodeTokenMalformed, ssotoken.CodeClaimsMalformed}, ssotoken.CodeOf(err), "%s: %v", tt.name, err)
			assert.Equal(t, ssotoken.ErrUnauthorized, ssotoken.KindOf(err), tt.name)
		}
	})
	t.Run("JWKS cookie", func(t *testing.T) {
		srv := newJWKSServer(t, testRSA(t))
		v, err := NewJWKSValidator(JWKSValidatorConfig{URL: srv.URL, Now: clock(testNow)})
		require.NoError(t, err)
		defer v.Close()
		_, err = v.Validate(ctx, rsRaw(t, testRSA(t), `{"alg":"RS256","typ":"JWT","kid":"k1"}`, good))
		require.NoError(t, err, "the well-formed cookie")
		for _, tt := range policyCases(good, "RS256") {
			_, err := v.Validate(ctx, rsRaw(t, testRSA(t), tt.header, tt.payload))
			assert.Equal(t, CodeCookieMalformed, ssotoken.CodeOf(err), "%s: %v", tt.name, err)
		}
		// Base64url is strict: a signature whose last character differs
		// only in its unused bits is refused.
		tok := rsRaw(t, testRSA(t), `{"alg":"RS256","typ":"JWT","kid":"k1"}`, good)
		last := strings.IndexByte(base64URLAlphabet, tok[len(tok)-1])
		flipped := tok[:len(tok)-1] + string(base64URLAlphabet[last^1])
		_, err = v.Validate(ctx, flipped)
		assert.Equal(t, CodeCookieMalformed, ssotoken.CodeOf(err), "stray bits in the last character: %v", err)
	})
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
