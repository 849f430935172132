package cognito

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A principal from the cache equals the one of a cold check, for access
// and ID tokens.
func TestCachedPrincipalEqualsCold(t *testing.T) {
	k := getKeys(t).k1
	for _, use := range []string{TokenUseAccess, TokenUseID} {
		t.Run(use, func(t *testing.T) {
			cfg := baseConfig()
			cfg.TokenUse = use
			cached := newStatic(t, cfg)
			cfg.DisableCache = true
			cold := newStatic(t, cfg)
			claims := accessClaims()
			if use == TokenUseID {
				claims = idClaims()
			}
			tok := sign(t, k, "k1", claims)
			want, err := cold.Authenticate(context.Background(), tok)
			require.NoError(t, err)
			first, err := cached.Authenticate(context.Background(), tok)
			require.NoError(t, err)
			hit, err := cached.Authenticate(context.Background(), tok)
			require.NoError(t, err)
			assert.Same(t, first, hit, "the second call is a cache hit")
			assert.Equal(t, want, hit)
			assert.Equal(t, 1, cached.cache.len())
		})
	}
}

// A cache hit costs no allocation (and no RSA operation).
func TestCacheHitAllocations(t *testing.T) {
	a := newStatic(t, baseConfig())
	tok := sign(t, getKeys(t).k1, "k1", accessClaims())
	_, err := a.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := a.Authenticate(context.Background(), tok); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
}

// An entry never outlives the token's exp (plus the same leeway as the
// cold check): cached and cold agree at the boundary.
func TestCacheEntryNeverOutlivesExp(t *testing.T) {
	var now atomic.Int64
	now.Store(testNow.Unix())
	cfg := baseConfig()
	cfg.Leeway = 10 * time.Second
	cfg.Now = func() time.Time { return time.Unix(now.Load(), 0) }
	a := newStatic(t, cfg)
	exp := testNow.Unix() + 60
	tok := sign(t, getKeys(t).k1, "k1", with(accessClaims(), "exp", exp))
	_, err := a.Authenticate(context.Background(), tok)
	require.NoError(t, err)

	now.Store(exp + 9) // inside the leeway: a hit
	_, err = a.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	now.Store(exp + 10) // at exp + leeway: expired, hit or not
	_, err = a.Authenticate(context.Background(), tok)
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeTokenExpired)
	assert.Zero(t, a.cache.len(), "the stale entry is dropped")
}

// The cache holds at most CacheSize entries.
func TestCacheBounded(t *testing.T) {
	for _, size := range []int{1, 5, 300} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			cfg := baseConfig()
			cfg.CacheSize = size
			a := newStatic(t, cfg)
			for i := range size + 50 {
				_, err := a.Authenticate(context.Background(), sign(t, getKeys(t).k1, "k1", with(accessClaims(), "jti", fmt.Sprint(i))))
				require.NoError(t, err)
			}
			assert.LessOrEqual(t, a.cache.len(), size)
			assert.Positive(t, a.cache.len())
		})
	}
}

// Expired entries are evicted first when a shard is full.
func TestCacheEvictsExpiredFirst(t *testing.T) {
	c := newCache(2)
	e := func(until int64) *cacheEntry { return &cacheEntry{until: time.Unix(until, 0)} }
	k1, k2, k3 := [32]byte{1}, [32]byte{2}, [32]byte{3}
	c.put(&k1, e(100), time.Unix(0, 0))
	c.put(&k2, e(10), time.Unix(0, 0))
	c.put(&k3, e(100), time.Unix(50, 0)) // k2 has expired
	assert.Equal(t, 2, c.len())
	assert.NotNil(t, c.shards[0].m[k1])
	assert.NotNil(t, c.shards[0].m[k3])
}

// Required scopes and groups: all of them; a missing one is 403.
func TestScopesAndGroups(t *testing.T) {
	k := getKeys(t).k1
	tests := []struct {
		name           string
		scopes, groups []string
		claims         map[string]any
		code           string // "" = accepted
	}{
		{"no requirement", nil, nil, accessClaims(), ""},
		{"one scope held", []string{"openid"}, nil, accessClaims(), ""},
		{"all scopes held", []string{"openid", "profile"}, nil, accessClaims(), ""},
		{"one of two scopes", []string{"openid", "admin:write"}, nil, accessClaims(), ssotoken.CodeInsufficientScope},
		{"scope prefix only", []string{"open"}, nil, accessClaims(), ssotoken.CodeInsufficientScope},
		{"no scope claim", []string{"openid"}, nil, with(accessClaims(), "scope", nil), ssotoken.CodeInsufficientScope},
		{"empty scope claim", []string{"openid"}, nil, with(accessClaims(), "scope", ""), ssotoken.CodeInsufficientScope},
		{"a tab is not a separator", []string{"openid"}, nil, with(accessClaims(), "scope", "openid\tprofile"), ssotoken.CodeInsufficientScope},
		{"a newline is not a separator", []string{"profile"}, nil, with(accessClaims(), "scope", "openid\nprofile"), ssotoken.CodeInsufficientScope},
		{"double spaces", []string{"openid", "profile"}, nil, with(accessClaims(), "scope", "openid  profile "), ""},
		{"group held", nil, []string{"admin"}, accessClaims(), ""},
		{"all groups held", nil, []string{"admin", "users"}, accessClaims(), ""},
		{"one of two groups", nil, []string{"admin", "ops"}, accessClaims(), ssotoken.CodeInsufficientScope},
		{"no groups claim", nil, []string{"admin"}, with(accessClaims(), "cognito:groups", nil), ssotoken.CodeInsufficientScope},
		{"group case differs", nil, []string{"Admin"}, accessClaims(), ssotoken.CodeInsufficientScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.RequiredScopes, cfg.RequiredGroups = tt.scopes, tt.groups
			a := newStatic(t, cfg)
			_, err := a.Authenticate(context.Background(), sign(t, k, "k1", tt.claims))
			if tt.code == "" {
				require.NoError(t, err)
				return
			}
			assertCode(t, err, ssotoken.ErrForbidden, tt.code)
		})
	}
}

// Config.Check runs on cold checks and cache hits; its errors map to
// kinds as documented.
func TestCheckHook(t *testing.T) {
	k := getKeys(t).k1
	var calls atomic.Int64
	var ret atomic.Value
	ret.Store(errBox{})
	cfg := baseConfig()
	cfg.Check = func(ctx context.Context, p *ssotoken.Principal) error {
		calls.Add(1)
		return ret.Load().(errBox).err
	}
	a := newStatic(t, cfg)
	tok := sign(t, k, "k1", accessClaims())
	_, err := a.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	_, err = a.Authenticate(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, int64(2), calls.Load(), "cache hits are checked too")

	ret.Store(errBox{errors.New("tenant mismatch")})
	_, err = a.Authenticate(context.Background(), tok)
	assertCode(t, err, ssotoken.ErrForbidden, CodeCheckFailed)
	assert.NotContains(t, ssotoken.MessageOf(err), "tenant")

	ret.Store(errBox{ssotoken.NewError(ssotoken.ErrUnauthorized, "revoked", "the token was revoked", nil)})
	_, err = a.Authenticate(context.Background(), tok)
	assertCode(t, err, ssotoken.ErrUnauthorized, "revoked")

	ret.Store(errBox{fmt.Errorf("lookup: %w", context.DeadlineExceeded)})
	_, err = a.Authenticate(context.Background(), tok)
	assertCode(t, err, ssotoken.ErrTimeout, ssotoken.CodeDeadlineExceeded)
}

type errBox struct{ err error }

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
	}{
		{"no pool", func(c *Config) { c.UserPoolID = "" }},
		{"bad pool id", func(c *Config) { c.UserPoolID = "TestPool1" }},
		{"pool id with path", func(c *Config) { c.UserPoolID = "eu-west-1_abc/../x" }},
		{"region mismatch", func(c *Config) { c.Region = "us-east-1" }},
		{"issuer mismatch", func(c *Config) { c.Issuer = otherIssuer }},
		{"region without pool", func(c *Config) { c.UserPoolID, c.Region = "", "eu-west-1" }},
		{"issuer not a URL", func(c *Config) { c.UserPoolID, c.Issuer = "", "cognito" }},
		{"issuer ftp", func(c *Config) { c.UserPoolID, c.Issuer = "", "ftp://example.com/x" }},
		{"JWKS URL not a URL", func(c *Config) { c.JWKSURL = "jwks.json" }},
		{"duplicate issuer", func(c *Config) { c.Pools = []Pool{{Issuer: testIssuer}} }},
		{"no client ids", func(c *Config) { c.ClientIDs = nil }},
		{"empty client id", func(c *Config) { c.ClientIDs = []string{""} }},
		{"client ids and skip", func(c *Config) { c.InsecureSkipClientIDCheck = true }},
		{"no token use", func(c *Config) { c.TokenUse = "" }},
		{"token use refresh", func(c *Config) { c.TokenUse = "refresh" }},
		{"scopes on id tokens", func(c *Config) { c.TokenUse, c.RequiredScopes = TokenUseID, []string{"openid"} }},
		{"empty scope", func(c *Config) { c.RequiredScopes = []string{""} }},
		{"empty group", func(c *Config) { c.RequiredGroups = []string{""} }},
		{"negative leeway", func(c *Config) { c.Leeway = -time.Second }},
		{"huge leeway", func(c *Config) { c.Leeway = time.Hour }},
		{"negative max bytes", func(c *Config) { c.MaxTokenBytes = -1 }},
		{"huge max bytes", func(c *Config) { c.MaxTokenBytes = 2 << 20 }},
		{"negative cache", func(c *Config) { c.CacheSize = -1 }},
		{"negative fetch timeout", func(c *Config) { c.FetchTimeout = -1 }},
		{"tiny refetch interval", func(c *Config) { c.RefetchInterval = time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig()
			tt.edit(&cfg)
			before := fmt.Sprintf("%#v", cfg)
			verr := cfg.Validate()
			assert.Error(t, verr)
			assert.Equal(t, before, fmt.Sprintf("%#v", cfg), "Validate leaves the config as it was")
			a, err := New(cfg)
			assert.Error(t, err)
			assert.Nil(t, a)
			assert.Equal(t, verr.Error(), err.Error(), "Validate says what New says")
			_, err = NewStatic(cfg, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
			assert.Error(t, err)
		})
	}
	assert.NoError(t, baseConfig().Validate())
	t.Run("static with extra pools", func(t *testing.T) {
		cfg := baseConfig()
		cfg.Pools = []Pool{{Issuer: otherIssuer}}
		_, err := NewStatic(cfg, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
		assert.Error(t, err)
	})
	t.Run("static with bad JWKS", func(t *testing.T) {
		for _, doc := range []string{"", "{", `{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}`} {
			_, err := NewStatic(baseConfig(), []byte(doc))
			assert.Error(t, err, doc)
		}
	})
	t.Run("skip client check", func(t *testing.T) {
		cfg := baseConfig()
		cfg.ClientIDs, cfg.InsecureSkipClientIDCheck = nil, true
		a := newStatic(t, cfg)
		p, err := a.Authenticate(context.Background(), sign(t, getKeys(t).k1, "k1", with(accessClaims(), "client_id", "anyone")))
		require.NoError(t, err)
		assert.Equal(t, "anyone", p.ClientID)
	})
}

// The issuer and JWKS URL are derived from the pool id, the region read
// from it.
func TestPoolResolution(t *testing.T) {
	tests := []struct {
		in       Pool
		iss, url string
	}{
		{Pool{UserPoolID: "eu-west-1_AbC123"}, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123", "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"},
		{Pool{Region: "us-gov-west-1", UserPoolID: "us-gov-west-1_X1"}, "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_X1", "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_X1/.well-known/jwks.json"},
		{Pool{Issuer: "http://127.0.0.1:9229/local_pool"}, "http://127.0.0.1:9229/local_pool", "http://127.0.0.1:9229/local_pool/.well-known/jwks.json"},
		{Pool{Issuer: "http://localhost/p", JWKSURL: "http://localhost:8080/keys"}, "http://localhost/p", "http://localhost:8080/keys"},
	}
	for _, tt := range tests {
		got, err := tt.in.resolve()
		require.NoError(t, err)
		assert.Equal(t, tt.iss, got.Issuer)
		assert.Equal(t, tt.url, got.JWKSURL)
	}
}

// The default HTTP client has a timeout and follows no redirect.
func TestDefaultHTTPClient(t *testing.T) {
	cfg := baseConfig()
	_, err := cfg.validate()
	require.NoError(t, err)
	require.NotNil(t, cfg.HTTPClient)
	assert.Equal(t, DefaultFetchTimeout, cfg.HTTPClient.Timeout)
	assert.ErrorIs(t, cfg.HTTPClient.CheckRedirect(nil, nil), http.ErrUseLastResponse)
}

func TestCloseNilAuthenticator(t *testing.T) {
	var a *Authenticator // as left by a failed New
	assert.NoError(t, a.Close())
}
