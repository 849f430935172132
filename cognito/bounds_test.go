package cognito

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssotoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKnownHeadersBounded: only the headers of verified tokens are
// remembered as having passed the JSON policy, at most knownHeaders of
// them; when the map is full it starts again.
func TestKnownHeadersBounded(t *testing.T) {
	k := getKeys(t)
	cfg := baseConfig()
	cfg.DisableCache = true
	a := newStatic(t, cfg)
	ctx := context.Background()
	known := func() int { return len(*a.headers.Load()) }
	payload := accessPayload(t)

	_, err := a.Authenticate(ctx, signRaw(t, k.other, `{"alg":"RS256","kid":"k1","x":"forged"}`, payload))
	assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature)
	assert.Zero(t, known(), "a forgery's header is not remembered")
	for i := range 2*knownHeaders + 2 {
		tok := signRaw(t, k.k1, fmt.Sprintf(`{"alg":"RS256","kid":"k1","x":"%d"}`, i), payload)
		for range 2 { // the second time under a known header
			_, err := a.Authenticate(ctx, tok)
			require.NoError(t, err)
		}
		require.Equal(t, i%knownHeaders+1, known(), "after %d headers", i+1)
	}
}

// TestCacheShards: a cache of under 256 entries is one shard; from 256 on
// it is 16 shards that together hold at most the configured size.
func TestCacheShards(t *testing.T) {
	for _, tt := range []struct{ size, shards, perShard int }{
		{1, 1, 1}, {16, 1, 16}, {255, 1, 255}, {256, 16, 16}, {300, 16, 18}, {DefaultCacheSize, 16, 625},
	} {
		c := newCache(tt.size)
		assert.Len(t, c.shards, tt.shards, "size %d", tt.size)
		assert.Equal(t, tt.perShard, c.perShard, "size %d", tt.size)
		assert.LessOrEqual(t, tt.shards*tt.perShard, tt.size)
	}
}

// TestCacheEvictionScan: an insert into a full shard looks at no more
// than evictScan entries for an expired one (bounded work under the
// shard's lock): in a shard of at most evictScan entries the expired one
// always goes, in a shard of 200 it goes only when the scan meets it
// (4 % of the time). Map order is random, so each case is tried often.
func TestCacheEvictionScan(t *testing.T) {
	e := func(until int64) *cacheEntry { return &cacheEntry{until: time.Unix(until, 0)} }
	key := func(i int) *[32]byte { return &[32]byte{byte(i), byte(i >> 8), 1} }
	expiredGone := func(size int) bool {
		c := newCache(size)
		require.Len(t, c.shards, 1)
		for i := range size - 1 {
			c.put(key(i), e(100), time.Unix(0, 0))
		}
		c.put(key(size), e(10), time.Unix(0, 0)) // expires at 10
		c.put(key(size+1), e(100), time.Unix(50, 0))
		require.Equal(t, size, c.len())
		_, kept := c.shards[0].m[*key(size)]
		return !kept
	}
	for trial := range 50 {
		require.True(t, expiredGone(evictScan), "trial %d: a shard of %d entries is scanned whole", trial, evictScan)
	}
	gone := 0
	for range 50 {
		if expiredGone(200) {
			gone++
		}
	}
	assert.Less(t, gone, 50, "a shard of 200 entries is not scanned whole")
}

// TestPooledBufferCap: the token's copy for the cache's digest goes back
// to its pool up to maxPooledBuf (64 KiB) included, so a cache hit of a
// token of exactly 64 KiB allocates nothing, and one of a byte more is
// not kept (the pool holds no larger buffer).
func TestPooledBufferCap(t *testing.T) {
	k := getKeys(t).k1
	cfg := baseConfig()
	cfg.MaxTokenBytes = MaxMaxTokenBytes
	a := newStatic(t, cfg)
	ctx := context.Background()
	payload := strings.TrimSuffix(accessPayload(t), "}")
	for _, tt := range []struct {
		size   int
		allocs bool
	}{{maxPooledBuf, false}, {maxPooledBuf + 1, true}} {
		tok := exactly(t, tt.size, func(header, pad string) string {
			return signRaw(t, k, header, payload+`,"pad":"`+pad+`"}`)
		})
		_, err := a.Authenticate(ctx, tok)
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := a.Authenticate(ctx, tok); err != nil {
				panic(err)
			}
		})
		switch {
		case tt.allocs:
			assert.Positive(t, allocs, "%d bytes", tt.size)
		case raceEnabled:
			t.Logf("%d bytes: %v allocations a call; not checked under the race detector, whose sync.Pool drops what is put back at random", tt.size, allocs)
		default:
			assert.Zero(t, allocs, "%d bytes", tt.size)
		}
	}
}

// TestNewStaticIssuerOnly: a static Authenticator may name its pool by
// issuer alone (a local stand-in), not only by user pool id.
func TestNewStaticIssuerOnly(t *testing.T) {
	cfg := baseConfig()
	cfg.UserPoolID, cfg.Issuer = "", "http://127.0.0.1:9229/local_pool"
	a := newStatic(t, cfg)
	p, err := a.Authenticate(context.Background(), sign(t, getKeys(t).k1, "k1", with(accessClaims(), "iss", cfg.Issuer)))
	require.NoError(t, err)
	assert.Equal(t, cfg.Issuer, p.Issuer)
	cfg.Issuer = ""
	_, err = NewStatic(cfg, jwksJSON(t, jwkOf(t, getKeys(t).k1, "k1")))
	assert.Error(t, err, "neither pool id nor issuer")
}

// TestHeaderOfMaxHeaderBytes decides the header's boundary, which fails
// closed by one unit: a header segment of exactly jose.MaxHeaderBytes is
// read (its alg or its missing kid is reported as such, and a genuine
// token under it verifies); a longer one is malformed before it is
// decoded.
func TestHeaderOfMaxHeaderBytes(t *testing.T) {
	k := getKeys(t).k1
	a := newStatic(t, baseConfig())
	ctx := context.Background()
	payload := accessPayload(t)
	// header returns a header of the given parameters, padded with an
	// "x" member to encode to exactly n base64url characters (n not
	// 4k+1).
	header := func(params string, n int) string {
		h := `{` + params + `,"x":"` + strings.Repeat("x", n*3/4-len(params)-9) + `"}`
		require.Len(t, enc.EncodeToString([]byte(h)), n)
		return h
	}
	for _, tt := range []struct {
		name   string
		params string
		code   string
	}{
		{"alg HS256", `"alg":"HS256","kid":"k1"`, ssotoken.CodeAlgNotAllowed},
		{"alg none", `"alg":"none","kid":"k1"`, ssotoken.CodeAlgNotAllowed},
		{"no kid", `"alg":"RS256"`, CodeKIDMissing},
		{"a genuine token", `"alg":"RS256","kid":"k1"`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Authenticate(ctx, signRaw(t, k, header(tt.params, jose.MaxHeaderBytes), payload))
			if tt.code == "" {
				assert.NoError(t, err)
			} else {
				assertCode(t, err, ssotoken.ErrUnauthorized, tt.code)
			}
			_, err = a.Authenticate(ctx, signRaw(t, k, header(tt.params, jose.MaxHeaderBytes+2), payload))
			assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeTokenMalformed)
		})
	}
}

// TestKeySetWarnings: the warnings of a fetched set say what happened:
// none for a set of distinct kids; "the last good keys stay" only when
// there were good keys to keep (not for a first set without a usable
// key, which leaves the pool not ready).
func TestKeySetWarnings(t *testing.T) {
	k := getKeys(t)
	fake := newFakeCognito(t, []byte(`{"keys":[]}`))
	var logs lockedBuffer
	cfg := fake.config()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	cfg.RefetchInterval = MinRefetchInterval
	a := newRemote(t, cfg)
	require.Eventually(t, func() bool { return fake.hits.Load() >= 2 }, testDeadline, 5*time.Millisecond, "asked again while it has no key")
	assert.ErrorIs(t, a.Ready(), ssotoken.ErrKeysUnavailable)
	assert.Contains(t, a.Ready().Error(), ssotoken.FetchNoUsableKey)
	assert.NotContains(t, logs.String(), "last good keys stay", "there were none")

	fake.setJWKS(jwksJSON(t, jwkOf(t, k.k1, "k1"), jwkOf(t, k.k2, "k2")))
	require.Eventually(t, func() bool { return a.Ready() == nil }, testDeadline, 5*time.Millisecond)
	warm(t, a)
	assert.NotContains(t, logs.String(), "more than once", "distinct kids")

	fake.setJWKS([]byte(`{"keys":[]}`))
	unknown := sign(t, k.other, "k3", accessClaims())
	require.Eventually(t, func() bool {
		_, err := a.Authenticate(ctxTimeout(t, testDeadline), unknown) // an unknown kid: a fetch, once the limit allows
		assertCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
		return strings.Contains(logs.String(), "last good keys stay")
	}, testDeadline, 5*time.Millisecond)
	warm(t, a)
	assert.NotContains(t, logs.String(), "more than once")
}
