package httpadapter_test

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/internal/baseline"
	"github.com/ssokit/ssokit/ssotoken"
)

// The GenerateSSOToken handler beside the handler a user would write
// instead (golang-jwt, keyfunc, encoding/json, the same checks) and beside
// its raw crypto (one RSA-2048 verify and one HS256 signing), in one run:
//
//	go test -run '^$' -bench . -benchmem ./httpadapter/

const (
	benchIssuer   = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Bench0001"
	benchClient   = "bench-app-client"
	benchLOBClnt  = "1RrLMyLrZGA="
	benchBodyJSON = `{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`
)

var benchSSOSecret = []byte("a benchmark SSO secret of 32+ bytes!!")

// benchEnv is a Cognito stand-in: an RSA key, its JWKS and an access token.
type benchEnv struct {
	priv  *rsa.PrivateKey
	jwks  []byte
	token string
}

func newBenchEnv(b *testing.B) *benchEnv {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	key, err := ssotoken.NewSigningKey("bench-kid", ssotoken.RS256, priv)
	if err != nil {
		b.Fatal(err)
	}
	ring, _ := ssotoken.NewKeyring(key)
	jwks, _ := json.Marshal(ring.JWKS())
	now := time.Now()
	payload, _ := json.Marshal(map[string]any{
		"sub": "5b0a3c1e-0000-4000-8000-000000000001", "cognito:groups": []string{"Use API"}, "iss": benchIssuer,
		"version": 2, "client_id": benchClient, "token_use": "access", "scope": "aws.cognito.signin.user.admin",
		"auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "bench-jti", "username": "bench-user",
		"custom:ciino": "10001004", // the user's CIINo, which the handler binds the body's to
	})
	tok, err := ring.Sign(payload)
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{priv: priv, jwks: jwks, token: tok}
}

func (e *benchEnv) handler(b *testing.B, cache bool) http.Handler {
	auth, err := cognito.NewStatic(cognito.Config{
		Issuer: benchIssuer, ClientIDs: []string{benchClient}, TokenUse: cognito.TokenUseAccess, DisableCache: !cache,
	}, e.jwks)
	if err != nil {
		b.Fatal(err)
	}
	key, _ := ssotoken.NewHMACKey("", benchSSOSecret)
	ring, _ := ssotoken.NewKeyring(key)
	// The wide TokenRefNo: a loop issues more than the 100,000 references a
	// second of the document's 15-digit form, and would measure that cap
	// (the Signer waits for the next second), not the handler. The clock
	// is injected so that a new Signer does not wait out its start-up
	// second in every round of the benchmark.
	signer, _ := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, WideRefNo: true, Now: time.Now})
	// The issuing limit is the default in-process one, with a limit no loop
	// reaches, so that its cost is in the figure but no call is refused.
	limiter, err := httpadapter.NewMemoryLimiter(httpadapter.MemoryLimiterConfig{Limit: httpadapter.RateLimit{Rate: 1e9, Period: time.Second, Burst: 1e9}})
	if err != nil {
		b.Fatal(err)
	}
	h, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: auth, Issuer: signer, Clients: httpadapter.StaticRegistry{benchLOBClnt: {LOBs: []string{"01"}, AppClients: []string{benchClient}}},
		CIINoClaim: "custom:ciino", Limiter: limiter,
	})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

func (e *benchEnv) run(b *testing.B, h http.Handler) { e.runFrom(b, h, "") }

// runFrom drives h with the document's call, from a browser page of origin
// when it is not empty.
func (e *benchEnv) runFrom(b *testing.B, h http.Handler, origin string) {
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/v2/get_sso_token", nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	r.RemoteAddr = "127.0.0.1:50000"
	r.Header.Set("x-api-version", "1.0.0")
	r.Header.Set("x-lob-client-id", benchLOBClnt)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+e.token)
	body := bytes.NewReader([]byte(benchBodyJSON))
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		body.Seek(0, io.SeekStart)
		r.Body = io.NopCloser(body)
		clear(w.h)
		h.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}

// BenchmarkGenerateSSOToken is the handler through ServeHTTP: an RS256
// Cognito token verified with the cache off, then an HS256 TokenNo issued.
func BenchmarkGenerateSSOToken(b *testing.B) {
	e := newBenchEnv(b)
	e.run(b, e.handler(b, false))
}

// BenchmarkGenerateSSOTokenCached is the same with the verified-token
// cache on, as for a caller that repeats its token.
func BenchmarkGenerateSSOTokenCached(b *testing.B) {
	e := newBenchEnv(b)
	e.run(b, e.handler(b, true))
}

// BenchmarkGenerateSSOTokenCachedCORS is the cached call from a page of an
// allowed origin through httpadapter.CORS: beside
// BenchmarkGenerateSSOTokenCached, what CORS adds to a browser's call.
func BenchmarkGenerateSSOTokenCachedCORS(b *testing.B) {
	e := newBenchEnv(b)
	e.runFrom(b, benchCORS(b).GenerateSSOToken(e.handler(b, true)), "https://www.abc.example")
}

// BenchmarkCORSPreflight is the browser's preflight before the document's
// fetch sample, answered by httpadapter.CORS alone.
func BenchmarkCORSPreflight(b *testing.B) {
	h := benchCORS(b).GenerateSSOToken(http.NotFoundHandler())
	r, _ := http.NewRequest(http.MethodOptions, "http://127.0.0.1/v2/get_sso_token", nil)
	r.Header.Set("Origin", "https://www.abc.example")
	r.Header.Set("Access-Control-Request-Method", "POST")
	r.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-api-version,x-lob-client-id")
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
		if w.code != http.StatusNoContent || w.h.Get("Access-Control-Allow-Origin") == "" {
			b.Fatalf("status %d, headers %v", w.code, w.h)
		}
	}
}

func benchCORS(b *testing.B) *httpadapter.CORS {
	c, err := httpadapter.NewCORS(httpadapter.CORSConfig{AllowedOrigins: []string{"https://www.abc.example", "https://answers.abc.example"}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkBaselineHandwritten is the handler a user would write instead
// (internal/baseline): golang-jwt with a keyfunc over the same JWKS into
// MapClaims, the same header, claim, client and body checks,
// encoding/json, and golang-jwt to sign the TokenNo.
func BenchmarkBaselineHandwritten(b *testing.B) {
	e := newBenchEnv(b)
	h, err := baseline.New(e.jwks, benchIssuer, benchClient, map[string][]string{benchLOBClnt: {"01"}}, benchSSOSecret)
	if err != nil {
		b.Fatal(err)
	}
	e.run(b, h)
}

// BenchmarkRawRSAVerifyPlusHS256 is the crypto floor of one call: one
// RSA-2048 PKCS#1 v1.5 verify of the caller's token and one HMAC-SHA256
// over a TokenNo's signing input.
func BenchmarkRawRSAVerifyPlusHS256(b *testing.B) {
	e := newBenchEnv(b)
	dot := strings.LastIndexByte(e.token, '.')
	input := []byte(e.token[:dot])
	sig, err := base64.RawURLEncoding.DecodeString(e.token[dot+1:])
	if err != nil {
		b.Fatal(err)
	}
	ssoInput := []byte(strings.Repeat("x", 230)) // the length of a TokenNo's signing input
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(&e.priv.PublicKey, crypto.SHA256, d[:], sig); err != nil {
			b.Fatal(err)
		}
		m := hmac.New(sha256.New, benchSSOSecret)
		m.Write(ssoInput)
		m.Sum(nil)
	}
}
