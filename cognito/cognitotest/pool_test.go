package cognitotest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cognito/cognitotest"
	"github.com/ssokit/ssokit/ssotoken"
)

var testNow = time.Date(2025, 1, 20, 8, 49, 46, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// quiet keeps the Authenticator's fetch failures out of the test output.
func quiet(cfg cognito.Config) cognito.Config {
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// static returns a static Authenticator of p, without a network.
func static(t *testing.T, p *cognitotest.Pool, edit ...func(*cognito.Config)) *cognito.Authenticator {
	t.Helper()
	cfg := quiet(p.Config())
	for _, e := range edit {
		e(&cfg)
	}
	a, err := cognito.NewStatic(cfg, p.JWKS())
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// remote returns an Authenticator that fetches p's JWKS.
func remote(t *testing.T, p *cognitotest.Pool) *cognito.Authenticator {
	t.Helper()
	cfg := quiet(p.Config())
	cfg.RefetchInterval = cognito.MinRefetchInterval
	a, err := cognito.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func newPool(t *testing.T, opts ...cognitotest.Option) *cognitotest.Pool {
	t.Helper()
	p, err := cognitotest.New(opts...)
	require.NoError(t, err)
	return p
}

// decode returns a token's header and claims, unverified.
func decode(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	for i, into := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, into))
	}
	return header, claims
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Tokens carry the claims Cognito sends, in a header of alg and kid only.
func TestTokenClaimsAreCognitos(t *testing.T) {
	p := newPool(t, cognitotest.Clock(fixedClock), cognitotest.Groups("admin"))
	iat := float64(testNow.Unix())
	tests := []struct {
		name  string
		mint  func(testing.TB, ...cognitotest.TokenOption) string
		fixed map[string]any
	}{
		{"access", p.AccessToken, map[string]any{
			"sub": cognitotest.DefaultSubject, "iss": p.Issuer(), "client_id": cognitotest.DefaultClientID,
			"token_use": "access", "scope": cognitotest.DefaultScope, "auth_time": iat, "iat": iat,
			"exp": iat + 3600, "username": cognitotest.DefaultUsername, "cognito:groups": []any{"admin"}, "version": 2.0,
		}},
		{"id", p.IDToken, map[string]any{
			"sub": cognitotest.DefaultSubject, "iss": p.Issuer(), "aud": cognitotest.DefaultClientID,
			"token_use": "id", "auth_time": iat, "iat": iat, "exp": iat + 3600,
			"cognito:username": cognitotest.DefaultUsername, "email": cognitotest.DefaultEmail,
			"email_verified": true, "cognito:groups": []any{"admin"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, claims := decode(t, tt.mint(t))
			assert.Equal(t, map[string]any{"alg": "RS256", "kid": p.KeyID()}, header)
			for _, name := range []string{"jti", "origin_jti", "event_id"} {
				assert.Regexp(t, uuidRE, claims[name], name)
				delete(claims, name)
			}
			assert.Equal(t, tt.fixed, claims)

			_, again := decode(t, tt.mint(t))
			assert.NotEqual(t, again["jti"], claims["jti"], "every token has its own jti")
		})
	}
}

// The options of the pool and of each token reach the principal, or make
// the token fail as a real one would.
func TestTokenOptions(t *testing.T) {
	p := newPool(t,
		cognitotest.Clock(fixedClock),
		cognitotest.ClientID("host-app"),
		cognitotest.Groups("Use API", "staff"),
		cognitotest.Scopes("openid", "sso/generate"),
		cognitotest.Username("jdoe"),
		cognitotest.Subject("sub-1"),
		cognitotest.Defaults(cognitotest.With("custom:ciino", "10001004")),
	)
	unpublished := p.AddKey()
	a := static(t, p)
	tests := []struct {
		name  string
		opts  []cognitotest.TokenOption
		code  string // "" = accepted
		check func(*testing.T, *ssotoken.Principal)
	}{
		{name: "defaults", check: func(t *testing.T, pr *ssotoken.Principal) {
			assert.Equal(t, "sub-1", pr.Subject)
			assert.Equal(t, "jdoe", pr.Username)
			assert.Equal(t, "host-app", pr.ClientID)
			assert.Equal(t, []string{"openid", "sso/generate"}, pr.Scopes)
			assert.Equal(t, []string{"Use API", "staff"}, pr.Groups)
			assert.Equal(t, map[string]string{"custom:ciino": "10001004"}, pr.Attributes)
			assert.Equal(t, testNow.Add(time.Hour), pr.ExpiresAt.UTC())
			assert.Equal(t, p.Issuer(), pr.Issuer)
		}},
		{name: "With overrides a default", opts: []cognitotest.TokenOption{cognitotest.With("custom:ciino", "10001005")},
			check: func(t *testing.T, pr *ssotoken.Principal) { assert.Equal(t, "10001005", pr.Attributes["custom:ciino"]) }},
		{name: "Claims sets several", opts: []cognitotest.TokenOption{cognitotest.Claims(map[string]any{"username": "alice", "cognito:groups": []string{"ops"}})},
			check: func(t *testing.T, pr *ssotoken.Principal) {
				assert.Equal(t, "alice", pr.Username)
				assert.Equal(t, []string{"ops"}, pr.Groups)
			}},
		{name: "Without removes a default", opts: []cognitotest.TokenOption{cognitotest.Without("custom:ciino", "scope")},
			check: func(t *testing.T, pr *ssotoken.Principal) {
				assert.Empty(t, pr.Attributes)
				assert.Empty(t, pr.Scopes)
			}},
		{name: "a time is seconds", opts: []cognitotest.TokenOption{cognitotest.With("exp", testNow.Add(time.Minute))},
			check: func(t *testing.T, pr *ssotoken.Principal) {
				assert.Equal(t, testNow.Add(time.Minute), pr.ExpiresAt.UTC())
			}},
		{name: "no exp", opts: []cognitotest.TokenOption{cognitotest.Without("exp")}, code: ssotoken.CodeExpMissing},
		{name: "expired", opts: []cognitotest.TokenOption{cognitotest.With("exp", testNow.Add(-time.Second))}, code: ssotoken.CodeTokenExpired},
		{name: "issued in the future", opts: []cognitotest.TokenOption{cognitotest.With("iat", testNow.Add(time.Minute))}, code: ssotoken.CodeTokenNotYetValid},
		{name: "another issuer", opts: []cognitotest.TokenOption{cognitotest.With("iss", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")}, code: ssotoken.CodeWrongIssuer},
		{name: "another app client", opts: []cognitotest.TokenOption{cognitotest.With("client_id", "other-app")}, code: cognito.CodeWrongClient},
		{name: "an ID token's use", opts: []cognitotest.TokenOption{cognitotest.With("token_use", "id")}, code: cognito.CodeWrongTokenUse},
		{name: "a group of the wrong type", opts: []cognitotest.TokenOption{cognitotest.With("cognito:groups", "admin")}, code: ssotoken.CodeClaimsMalformed},
		{name: "an unpublished key", opts: []cognitotest.TokenOption{cognitotest.SignWith(unpublished)}, code: ssotoken.CodeUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, err := a.Authenticate(context.Background(), p.AccessToken(t, tt.opts...))
			if tt.code != "" {
				assert.Equal(t, tt.code, ssotoken.CodeOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			tt.check(t, pr)
		})
	}
}

// ID tokens are accepted by an Authenticator of ID tokens, and access
// tokens are not.
func TestIDToken(t *testing.T) {
	p := newPool(t, cognitotest.Email("jdoe@example.com"), cognitotest.Defaults(cognitotest.With("custom:ciino", "10001004")))
	a := static(t, p, func(c *cognito.Config) { c.TokenUse = cognito.TokenUseID })
	pr, err := a.Authenticate(context.Background(), p.IDToken(t))
	require.NoError(t, err)
	assert.Equal(t, cognitotest.DefaultUsername, pr.Username)
	assert.Equal(t, cognitotest.DefaultClientID, pr.ClientID)
	assert.Equal(t, cognito.TokenUseID, pr.TokenUse)
	assert.Equal(t, "10001004", pr.Attributes["custom:ciino"])
	email, _ := pr.StringClaim("email")
	assert.Equal(t, "jdoe@example.com", email)

	_, err = a.Authenticate(context.Background(), p.AccessToken(t))
	assert.Equal(t, cognito.CodeWrongTokenUse, ssotoken.CodeOf(err))
}

// A pool of New has Cognito's issuer, no server, and a Handler that serves
// its JWKS anywhere.
func TestNewWithoutNetwork(t *testing.T) {
	p := newPool(t, cognitotest.PoolID("us-east-1_Abc123"))
	assert.Equal(t, "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123", p.Issuer())
	assert.Equal(t, p.Issuer()+"/.well-known/jwks.json", p.JWKSURL())
	assert.Equal(t, "us-east-1_Abc123", p.PoolID())
	assert.Panics(t, p.Refuse, "no server to refuse connections")

	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dev/cognito/.well-known/jwks.json", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.JSONEq(t, string(p.JWKS()), rec.Body.String())

	rec = httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, 2, p.Fetches())

	explicit := newPool(t, cognitotest.Issuer("http://127.0.0.1:8080/dev/cognito"))
	assert.Equal(t, "http://127.0.0.1:8080/dev/cognito/.well-known/jwks.json", explicit.JWKSURL())
	cfg := explicit.Config()
	assert.Equal(t, "http://127.0.0.1:8080/dev/cognito", cfg.Issuer)
	assert.Nil(t, cfg.Now, "no Clock, no Now")
}

// The JWKS is Cognito's shape: RSA signing keys under their kids.
func TestJWKS(t *testing.T) {
	p := newPool(t)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(p.JWKS(), &set))
	require.Len(t, set.Keys, 1)
	k := set.Keys[0]
	assert.Equal(t, []string{"alg", "e", "kid", "kty", "n", "use"}, slices.Sorted(maps.Keys(k)))
	assert.Equal(t, "RS256", k["alg"])
	assert.Equal(t, "AQAB", k["e"])
	assert.Equal(t, "RSA", k["kty"])
	assert.Equal(t, "sig", k["use"])
	assert.Equal(t, p.KeyID(), k["kid"])
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(p.PrivateKey(p.KeyID()).N.Bytes()), k["n"])

	p.Publish()
	assert.JSONEq(t, `{"keys":[]}`, string(p.JWKS()))
	_, err := cognito.NewStatic(p.Config(), p.JWKS())
	assert.ErrorIs(t, err, cognito.ErrNoUsableKey)
	assert.Panics(t, func() { p.Publish("no-such-kid") })
}

// A served pool: an issuer shaped as Cognito's under the httptest URL, the
// JWKS at its well-known path, a Config that cognito.New takes.
func TestServedPool(t *testing.T) {
	p := cognitotest.NewPool(t, cognitotest.PoolID("eu-west-2_Srv1"))
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/eu-west-2_Srv1$`, p.Issuer())
	assert.Equal(t, p.Issuer()+"/.well-known/jwks.json", p.JWKSURL())

	res, err := http.Get(p.JWKSURL())
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.JSONEq(t, string(p.JWKS()), string(body))

	res, err = http.Get(strings.TrimSuffix(p.Issuer(), "/eu-west-2_Srv1") + "/other/.well-known/jwks.json")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	a := remote(t, p)
	pr, err := a.Authenticate(context.Background(), p.AccessToken(t))
	require.NoError(t, err)
	assert.Equal(t, cognitotest.DefaultSubject, pr.Subject)
	assert.Equal(t, 2, p.Fetches(), "the test's GET and the Authenticator's fetch; the 404 is not the JWKS")
}

// Rotate publishes a new key beside the old one and signs with it; Publish
// drops the old one.
func TestRotate(t *testing.T) {
	p := cognitotest.NewPool(t)
	a := remote(t, p)
	ctx := context.Background()
	first := p.KeyID()
	old := p.AccessToken(t)
	_, err := a.Authenticate(ctx, old)
	require.NoError(t, err)

	next := p.Rotate()
	assert.NotEqual(t, first, next)
	assert.Equal(t, next, p.KeyID())
	assert.Equal(t, []string{first, next}, p.Published())
	tok := p.AccessToken(t)
	h, _ := decode(t, tok)
	assert.Equal(t, next, h["kid"])
	_, err = a.Authenticate(ctx, tok)
	require.NoError(t, err, "the unknown kid makes the Authenticator fetch the JWKS again")
	_, err = a.Authenticate(ctx, old)
	require.NoError(t, err, "the old key is still published")

	p.Publish(next)
	fresh := remote(t, p)
	_, err = fresh.Authenticate(ctx, old)
	assert.Equal(t, ssotoken.CodeUnknownKey, ssotoken.CodeOf(err), "the old key is dropped")
	_, err = fresh.Authenticate(ctx, tok)
	assert.NoError(t, err)
	_, err = fresh.Authenticate(ctx, p.AccessToken(t, cognitotest.SignWith(first)))
	assert.Equal(t, ssotoken.CodeUnknownKey, ssotoken.CodeOf(err), "SignWith still signs with a dropped key")
}

// Down, Answer and Refuse fail the JWKS as a real endpoint fails; Up ends
// each.
func TestFaults(t *testing.T) {
	garbage := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "<html>not a JWKS</html>") })
	tests := []struct {
		name   string
		fault  func(*cognitotest.Pool)
		status int // of a GET; 0: the connection is refused
	}{
		{"down", (*cognitotest.Pool).Down, http.StatusServiceUnavailable},
		{"answer", func(p *cognitotest.Pool) { p.Answer(garbage) }, http.StatusOK},
		{"refuse", (*cognitotest.Pool).Refuse, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := cognitotest.NewPool(t)
			tok := p.AccessToken(t)
			get(t, p.JWKSURL()) // a kept-alive connection that Refuse must close

			tt.fault(p)
			if tt.status == 0 {
				_, err := http.Get(p.JWKSURL())
				assert.ErrorIs(t, err, syscall.ECONNREFUSED)
			} else {
				assert.Equal(t, tt.status, get(t, p.JWKSURL()))
			}
			_, err := remote(t, p).Authenticate(context.Background(), tok)
			assert.Equal(t, ssotoken.CodeKeysUnavailable, ssotoken.CodeOf(err), "%v", err)
			assert.ErrorIs(t, err, ssotoken.ErrUpstream)

			p.Up()
			assert.Equal(t, http.StatusOK, get(t, p.JWKSURL()), "the same URL answers again")
			_, err = remote(t, p).Authenticate(context.Background(), tok)
			assert.NoError(t, err)
		})
	}
}

// A fault set while the pool refuses connections makes it listen again.
func TestRefuseThenDown(t *testing.T) {
	p := cognitotest.NewPool(t)
	p.Refuse()
	p.Refuse() // idempotent
	p.Down()
	assert.Equal(t, http.StatusServiceUnavailable, get(t, p.JWKSURL()))
	p.Up()
	assert.Equal(t, http.StatusOK, get(t, p.JWKSURL()))
}

func get(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// Stall holds the JWKS until the test releases it: a request waits for
// the fetch within its own context.
func TestStall(t *testing.T) {
	p := cognitotest.NewPool(t)
	tok := p.AccessToken(t)
	s := p.Stall()
	a := remote(t, p)
	<-s.Held() // the Authenticator's first fetch is held

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Authenticate(ctx, tok)
	assert.ErrorIs(t, err, ssotoken.ErrTimeout, "a caller gone while the JWKS is slow")

	done := make(chan error, 1)
	go func() {
		_, err := a.Authenticate(context.Background(), tok)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("answered while the JWKS is held: %v", err)
	default:
	}
	s.Release()
	s.Release() // idempotent
	assert.NoError(t, <-done)
	assert.Equal(t, http.StatusOK, get(t, p.JWKSURL()), "later requests are not held")
}

// Close ends held requests, so that a test that never releases its Stall
// does not hang.
func TestCloseEndsStall(t *testing.T) {
	p, err := cognitotest.NewServer()
	require.NoError(t, err)
	s := p.Stall()
	status := make(chan int, 1)
	go func() {
		res, err := http.Get(p.JWKSURL())
		if err != nil {
			status <- -1
			return
		}
		res.Body.Close()
		status <- res.StatusCode
	}()
	<-s.Held()
	p.Close()
	p.Close() // idempotent
	assert.Equal(t, http.StatusServiceUnavailable, <-status)
}

// Configuration mistakes are errors of New (NewPool fails its test).
func TestOptionErrors(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	tests := []struct {
		name string
		opt  cognitotest.Option
	}{
		{"pool id without region", cognitotest.PoolID("TestPool1")},
		{"pool id with a slash", cognitotest.PoolID("eu-west-1_a/b")},
		{"empty issuer", cognitotest.Issuer("")},
		{"empty client", cognitotest.ClientID("")},
		{"no lifetime", cognitotest.Lifetime(0)},
		{"signing key without kid", cognitotest.SigningKey("", small)},
		{"small signing key", cognitotest.SigningKey("k", small)},
		{"nil signing key", cognitotest.SigningKey("k", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := cognitotest.New(tt.opt)
			assert.Error(t, err)
			assert.Nil(t, p)
		})
	}
}

// SigningKey brings a key of the caller's, under its kid.
func TestSigningKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p := newPool(t, cognitotest.SigningKey("dev-cognito-1", key))
	assert.Equal(t, "dev-cognito-1", p.KeyID())
	assert.Same(t, key, p.PrivateKey("dev-cognito-1"))
	assert.Equal(t, []string{"dev-cognito-1"}, p.Published())
	_, err = static(t, p).Authenticate(context.Background(), p.AccessToken(t))
	assert.NoError(t, err)
}

// Token fails, and AccessToken fails its test, for a token it cannot make.
func TestTokenErrors(t *testing.T) {
	p := newPool(t)
	for name, mint := range map[string]func() (string, error){
		"unknown use":   func() (string, error) { return p.Token("refresh") },
		"unknown kid":   func() (string, error) { return p.Token(cognito.TokenUseAccess, cognitotest.SignWith("nope")) },
		"unwritable":    func() (string, error) { return p.Token(cognito.TokenUseID, cognitotest.With("x", func() {})) },
		"zero option":   func() (string, error) { return p.Token(cognito.TokenUseAccess, cognitotest.TokenOption{}) },
		"default token": func() (string, error) { return p.Token(cognito.TokenUseAccess) },
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := mint()
			if strings.HasSuffix(name, "token") || strings.HasSuffix(name, "option") {
				assert.NoError(t, err)
				assert.NotEmpty(t, tok)
				return
			}
			assert.Error(t, err)
			assert.Empty(t, tok)
		})
	}
	ft := &fakeTB{TB: t}
	assert.Empty(t, p.AccessToken(ft, cognitotest.SignWith("nope")))
	assert.True(t, ft.failed)
}

// fakeTB records Fatal instead of ending the test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Fatal(...any) { f.failed = true }
