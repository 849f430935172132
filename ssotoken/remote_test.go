package ssotoken_test

// Tests of RemoteKeys against a fake issuer that serves a JWKS, counts its
// requests and fails on demand. The RemoteKeys' clock is injected, so the
// refetch limit is tested without waiting for it.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// rkDeadline bounds every wait of these tests.
const rkDeadline = 10 * time.Second

// Modes of the fake issuer's JWKS endpoint.
const (
	rkOK       int32 = iota // the set
	rkDown                  // 500
	rkGarbage               // a body that is not JSON
	rkHold                  // no answer until released or the client gives up
	rkRedirect              // 302 to the set
	rkEmpty                 // {"keys":[]}
)

// rkIssuer is the fake issuer's JWKS endpoint.
type rkIssuer struct {
	srv     *httptest.Server
	body    atomic.Pointer[[]byte]
	hits    atomic.Int64
	mode    atomic.Int32
	chunked atomic.Bool
	release chan struct{} // closed by unhold: rkHold answers
	once    sync.Once
	held    chan struct{} // receives when a request is held
}

// unhold lets held requests, and later ones in rkHold, answer.
func (f *rkIssuer) unhold() { f.once.Do(func() { close(f.release) }) }

func newRKIssuer(t *testing.T, jwks []byte) *rkIssuer {
	t.Helper()
	f := &rkIssuer{release: make(chan struct{}), held: make(chan struct{}, 100)}
	f.set(jwks)
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks", f.serve)
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { f.hits.Add(1); f.write(w) })
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	t.Cleanup(f.unhold) // before the server closes
	return f
}

func (f *rkIssuer) url() string { return f.srv.URL + "/jwks" }

func (f *rkIssuer) set(jwks []byte) { f.body.Store(&jwks) }

func (f *rkIssuer) serve(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	switch f.mode.Load() {
	case rkDown:
		http.Error(w, "SECRET-BODY-MARKER", http.StatusInternalServerError)
		return
	case rkGarbage:
		_, _ = w.Write([]byte(`{"keys":[SECRET-BODY-MARKER`))
		return
	case rkHold:
		f.held <- struct{}{}
		select {
		case <-f.release:
		case <-r.Context().Done():
			return
		}
	case rkRedirect:
		http.Redirect(w, r, "/moved", http.StatusFound)
		return
	case rkEmpty:
		_, _ = w.Write([]byte(`{"keys":[]}`))
		return
	}
	f.write(w)
}

func (f *rkIssuer) write(w http.ResponseWriter) {
	body := *f.body.Load()
	w.Header().Set("Content-Type", "application/jwk-set+json")
	if !f.chunked.Load() {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
		return
	}
	half := len(body) / 2
	_, _ = w.Write(body[:half])
	w.(http.Flusher).Flush()
	_, _ = w.Write(body[half:])
}

// rkClock is a settable clock for RemoteKeysConfig.Now.
type rkClock struct{ off atomic.Int64 }

func (c *rkClock) now() time.Time          { return krNow.Add(time.Duration(c.off.Load())) }
func (c *rkClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// rkLog collects log lines.
type rkLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *rkLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *rkLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rkRemote returns RemoteKeys of f on clock, closed when the test ends,
// and its log.
func rkRemote(t *testing.T, f *rkIssuer, clock *rkClock, edit ...func(*ssotoken.RemoteKeysConfig)) (*ssotoken.RemoteKeys, *rkLog) {
	t.Helper()
	log := &rkLog{}
	cfg := ssotoken.RemoteKeysConfig{URL: f.url(), Now: clock.now, Logger: slog.New(slog.NewTextHandler(log, nil))}
	for _, e := range edit {
		e(&cfg)
	}
	keys, err := ssotoken.NewRemoteKeys(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, keys.Close()) })
	return keys, log
}

func rkVerifier(t testing.TB, keys ssotoken.KeySet) *ssotoken.Verifier {
	t.Helper()
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: keys, LOBId: "01", Now: krClock})
	require.NoError(t, err)
	return v
}

func rkCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), rkDeadline)
	t.Cleanup(cancel)
	return ctx
}

// rkKey is a signing key and the TokenNo it signs.
type rkKey struct {
	key   *ssotoken.Key
	priv  crypto.Signer
	token string // a TokenNo for LOB 01 at krNow
}

func newRKKey(t testing.TB, id string, alg ssotoken.Algorithm, priv crypto.Signer) rkKey {
	t.Helper()
	k, err := ssotoken.NewSigningKey(id, alg, priv)
	require.NoError(t, err)
	return rkKey{key: k, priv: priv, token: krIssue(t, krSigner(t, krRing(t, k), nil), "01").TokenNo}
}

func rkES256(t testing.TB, id string) rkKey { return newRKKey(t, id, ssotoken.ES256, krEC(t)) }

// rkJWK is the JWK of k as a keyring publishes it, as a JSON object.
func rkJWK(t testing.TB, k *ssotoken.Key) map[string]any {
	t.Helper()
	b, err := json.Marshal(krRing(t, k).JWKS().Keys[0])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// rkSet is a JWKS document of the given JWKs or keys.
func rkSet(t testing.TB, keys ...any) []byte {
	t.Helper()
	var out []any
	for _, k := range keys {
		if key, ok := k.(*ssotoken.Key); ok {
			k = rkJWK(t, key)
		}
		out = append(out, k)
	}
	b, err := json.Marshal(map[string]any{"keys": out})
	require.NoError(t, err)
	return b
}

func rkRandomKID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// rkForeign signs a TokenNo under a random kid with a key no set holds.
func rkForeign(t testing.TB) string {
	return rkES256(t, rkRandomKID()).token
}

func rkCode(t *testing.T, err error, kind ssotoken.Kind, code string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, kind)
	assert.Equal(t, code, ssotoken.CodeOf(err), "%v", err)
}

func TestNewRemoteKeysConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  ssotoken.RemoteKeysConfig
		err  string
	}{
		{"no URL", ssotoken.RemoteKeysConfig{}, "URL is required"},
		{"relative URL", ssotoken.RemoteKeysConfig{URL: "/jwks.json"}, "not an http or https URL"},
		{"no host", ssotoken.RemoteKeysConfig{URL: "https:///jwks.json"}, "no host"},
		{"not a URL", ssotoken.RemoteKeysConfig{URL: "jwks.json"}, "not an absolute URL"},
		{"another scheme", ssotoken.RemoteKeysConfig{URL: "ftp://sso.example/jwks.json"}, "not an http or https URL"},
		{"negative timeout", ssotoken.RemoteKeysConfig{URL: "https://sso.example/jwks.json", FetchTimeout: -1}, "must not be negative"},
		{"negative size", ssotoken.RemoteKeysConfig{URL: "https://sso.example/jwks.json", MaxJWKSBytes: -1}, "must not be negative"},
		{"refetch too often", ssotoken.RemoteKeysConfig{URL: "https://sso.example/jwks.json", RefetchInterval: time.Millisecond}, "at least 100ms"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ssotoken.NewRemoteKeys(tt.cfg)
			require.ErrorContains(t, err, tt.err)
			assert.Nil(t, keys)
			assert.NoError(t, keys.Close(), "Close of a nil *RemoteKeys is harmless")
		})
	}
}

func TestVerifierConfigNilKeySet(t *testing.T) {
	for name, keys := range map[string]ssotoken.KeySet{
		"nil":                                   nil,
		"nil *Keyring":                          (*ssotoken.Keyring)(nil),
		"nil *RemoteKeys":                       (*ssotoken.RemoteKeys)(nil),
		"*RemoteKeys not made by NewRemoteKeys": &ssotoken.RemoteKeys{},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: keys, LOBId: "01"})
			require.ErrorContains(t, err, "VerifierConfig.Keys is required")
		})
	}
	var zero ssotoken.RemoteKeys
	assert.Empty(t, zero.Keys())
	assert.NoError(t, zero.Close())
}

// Tokens of every asymmetric algorithm verify with the keys of the
// issuer's JWKS, fetched once.
func TestRemoteKeysVerify(t *testing.T) {
	var keys []rkKey
	for i, a := range krAsymmetric(t) {
		keys = append(keys, newRKKey(t, "k"+strconv.Itoa(i), a.alg, a.priv))
	}
	f := newRKIssuer(t, rkSet(t, keys[0].key, keys[1].key, keys[2].key))
	remote, log := rkRemote(t, f, &rkClock{})
	v := rkVerifier(t, remote)
	for _, k := range keys {
		t.Run(string(k.key.Algorithm()), func(t *testing.T) {
			c, err := v.Verify(rkCtx(t), k.token)
			require.NoError(t, err)
			assert.Equal(t, "10001004", c.CIINo)
		})
	}
	assert.Equal(t, int64(1), f.hits.Load())
	assert.Equal(t, []string{"k0", "k1", "k2"}, krIDs(remote.Keys()))
	got, ok := remote.Key("k1")
	require.True(t, ok)
	assert.Equal(t, ssotoken.ES256, got.Algorithm())
	assert.False(t, got.CanSign())
	assert.Empty(t, log.String())
}

// A Verifier refuses every token with the same code whether its keys are
// a Keyring of the issuer's public keys or the issuer's JWKS.
func TestRemoteKeysSameChecksAsKeyring(t *testing.T) {
	for i, a := range krAsymmetric(t) {
		t.Run(string(a.alg), func(t *testing.T) {
			kid := "k" + strconv.Itoa(i)
			k := newRKKey(t, kid, a.alg, a.priv)
			pub, err := ssotoken.NewVerifyingKey(kid, a.alg, a.priv.Public())
			require.NoError(t, err)
			f := newRKIssuer(t, rkSet(t, k.key))
			remote, _ := rkRemote(t, f, &rkClock{})
			byRing, byRemote := rkVerifier(t, krRing(t, pub)), rkVerifier(t, remote)

			der, err := x509.MarshalPKIXPublicKey(a.priv.Public())
			require.NoError(t, err)
			claims := jwt.MapClaims{"CIINo": "10001004", "LOBId": "01", "Functionality": "D", "Date": "2025-01-20T08:49:46.756Z", "iat": krNow.Unix(), "exp": krNow.Unix() + 3600}
			sign := func(m jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
				tok := jwt.NewWithClaims(m, c)
				for name, v := range header {
					tok.Header[name] = v
				}
				s, err := tok.SignedString(key)
				require.NoError(t, err)
				return s
			}
			other := map[ssotoken.Algorithm]jwt.SigningMethod{ssotoken.RS256: jwt.SigningMethodES256, ssotoken.ES256: jwt.SigningMethodEdDSA, ssotoken.EdDSA: jwt.SigningMethodES256}[a.alg]
			otherKey := map[ssotoken.Algorithm]any{ssotoken.RS256: krEC(t), ssotoken.ES256: krEd(t), ssotoken.EdDSA: krEC(t)}[a.alg]
			method := jwt.GetSigningMethod(string(a.alg))
			lob02 := jwt.MapClaims{}
			for n, v := range claims {
				lob02[n] = v
			}
			lob02["LOBId"] = "02"
			parts := strings.Split(k.token, ".")

			for _, tt := range []struct {
				name, token, code string
			}{
				{"the issuer's token", k.token, ""},
				{"golang-jwt's token under the key", sign(method, a.priv, map[string]any{"kid": kid}, claims), ""},
				{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(sign(method, a.priv, map[string]any{"kid": kid}, lob02), ".")[2], ssotoken.CodeBadSignature},
				{"signature removed", parts[0] + "." + parts[1] + ".", ssotoken.CodeBadSignature},
				{"another LOB's token", sign(method, a.priv, map[string]any{"kid": kid}, lob02), ssotoken.CodeWrongLOB},
				{"no kid", sign(method, a.priv, nil, claims), ssotoken.CodeUnknownKey},
				{"empty kid", sign(method, a.priv, map[string]any{"kid": ""}, claims), ssotoken.CodeUnknownKey},
				{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": kid}, claims), ssotoken.CodeAlgNotAllowed},
				{"HS256 with the public key as secret", sign(jwt.SigningMethodHS256, der, map[string]any{"kid": kid}, claims), ssotoken.CodeAlgNotAllowed},
				{"another asymmetric alg under the kid", sign(other, otherKey, map[string]any{"kid": kid}, claims), ssotoken.CodeAlgNotAllowed},
				{"HS256 under an unknown kid", sign(jwt.SigningMethodHS256, der, map[string]any{"kid": "nope"}, claims), ssotoken.CodeUnknownKey},
				{"unknown kid", sign(method, a.priv, map[string]any{"kid": "nope"}, claims), ssotoken.CodeUnknownKey},
				{"typ not JWT", sign(method, a.priv, map[string]any{"kid": kid, "typ": "JOSE"}, claims), ssotoken.CodeTokenMalformed},
				{"embedded jwk", sign(method, a.priv, map[string]any{"kid": kid, "jwk": map[string]any{"kty": "oct"}}, claims), ssotoken.CodeTokenMalformed},
				{"kid of another case", sign(method, a.priv, map[string]any{"KID": kid}, claims), ssotoken.CodeTokenMalformed},
				{"no exp", sign(method, a.priv, map[string]any{"kid": kid}, jwt.MapClaims{"CIINo": "1", "LOBId": "01", "Functionality": "D", "iat": krNow.Unix()}), ssotoken.CodeExpMissing},
				{"expired", sign(method, a.priv, map[string]any{"kid": kid}, jwt.MapClaims{"CIINo": "1", "LOBId": "01", "Functionality": "D", "iat": krNow.Unix() - 7200, "exp": krNow.Unix() - 3600}), ssotoken.CodeTokenExpired},
				{"case variant of a claim", sign(method, a.priv, map[string]any{"kid": kid}, jwt.MapClaims{"CIINo": "1", "LOBId": "01", "lobid": "02", "Functionality": "D", "iat": krNow.Unix(), "exp": krNow.Unix() + 60}), ssotoken.CodeClaimsMalformed},
				{"two segments", parts[0] + "." + parts[1], ssotoken.CodeTokenMalformed},
				{"empty", "", ssotoken.CodeTokenMissing},
			} {
				t.Run(tt.name, func(t *testing.T) {
					_, errRing := byRing.Verify(rkCtx(t), tt.token)
					_, errRemote := byRemote.Verify(rkCtx(t), tt.token)
					assert.Equal(t, tt.code, ssotoken.CodeOf(errRing), "Keyring: %v", errRing)
					assert.Equal(t, tt.code, ssotoken.CodeOf(errRemote), "RemoteKeys: %v", errRemote)
				})
			}
		})
	}
}

// Keys of the set that may not verify a TokenNo never verify one, and
// leave the usable keys usable; a kid held twice and a published private
// key are logged.
func TestRemoteKeysUnusableKeys(t *testing.T) {
	good, keyOps := rkES256(t, "good"), rkES256(t, "key_ops")
	edited := func(id string, change func(m map[string]any)) (map[string]any, string) {
		k := rkES256(t, id)
		m := rkJWK(t, k.key)
		change(m)
		return m, k.token
	}
	claims := jwt.MapClaims{"CIINo": "1", "LOBId": "01", "Functionality": "D", "iat": krNow.Unix(), "exp": krNow.Unix() + 60}
	signed := func(m jwt.SigningMethod, key any, kid string) string {
		tok := jwt.NewWithClaims(m, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	secret := []byte("a secret published in a JWKS, 32 bytes or more")
	private := krEC(t)
	dupA, dupB := rkES256(t, "dup"), rkES256(t, "dup")

	set := []any{good.key}
	tokens := map[string]string{
		"RSA under 2048 bits":      signed(jwt.SigningMethodRS256, rsa1024, "small"),
		"P-384 key under ES256":    signed(jwt.SigningMethodES384, p384, "p384"),
		"HS256 secret as a JWK":    signed(jwt.SigningMethodHS256, secret, "oct"),
		"private key published":    signed(jwt.SigningMethodES256, private, "private"),
		"kid held twice (first)":   dupA.token,
		"kid held twice (second)":  dupB.token,
		"RSA without alg":          signed(jwt.SigningMethodRS256, krRSA(t), "rsa_no_alg"),
		"RS256 JWK, PS256 is used": signed(jwt.SigningMethodPS256, krRSA(t), "rsa"),
		"RS256 JWK, RS512 is used": signed(jwt.SigningMethodRS512, krRSA(t), "rsa"),
	}
	set = append(set, rkJWK(t, dupA.key), rkJWK(t, dupB.key),
		jwkOf(t, &rsa1024.PublicKey, "small", jwkset.AlgRS256),
		jwkOf(t, &p384.PublicKey, "p384", jwkset.AlgES256),
		jwkOf(t, secret, "oct", jwkset.AlgHS256),
		jwkOf(t, private, "private", jwkset.AlgES256),
		jwkOf(t, &krRSA(t).PublicKey, "rsa_no_alg", ""),
		jwkOf(t, &krRSA(t).PublicKey, "rsa", jwkset.AlgRS256),
	)
	for _, e := range []struct {
		name   string
		change func(m map[string]any)
	}{
		{"use enc", func(m map[string]any) { m["use"] = "enc" }},
		{"key_ops without verify", func(m map[string]any) { delete(m, "use"); m["key_ops"] = []string{"sign"} }},
		{"no alg", func(m map[string]any) { delete(m, "alg") }},
		{"EdDSA JWK of an ES256 key", func(m map[string]any) { m["alg"] = "EdDSA" }},
		{"ES512 JWK", func(m map[string]any) { m["alg"] = "ES512" }},
		{"no kid", func(m map[string]any) { delete(m, "kid") }},
	} {
		m, tok := edited(strings.ReplaceAll(e.name, " ", "_"), e.change)
		set, tokens[e.name] = append(set, m), tok
	}
	ko := rkJWK(t, keyOps.key)
	delete(ko, "use")
	ko["key_ops"] = []string{"sign", "verify"}
	set = append(set, ko)

	f := newRKIssuer(t, rkSet(t, set...))
	remote, log := rkRemote(t, f, &rkClock{})
	v := rkVerifier(t, remote)
	ctx := rkCtx(t)
	for _, tok := range []string{good.token, keyOps.token} {
		_, err = v.Verify(ctx, tok)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"good", "rsa", "key_ops"}, krIDs(remote.Keys()), "only these may verify")
	for name, tok := range tokens {
		_, err := v.Verify(ctx, tok)
		assert.ErrorIs(t, err, ssotoken.ErrUnauthorized, name)
		assert.Contains(t, []string{ssotoken.CodeUnknownKey, ssotoken.CodeAlgNotAllowed}, ssotoken.CodeOf(err), "%s: %v", name, err)
	}
	out := log.String()
	assert.Contains(t, out, `kids="[dup oct private]"`, "a kid held twice, and secrets: a published HS256 secret and a private key")
	assert.Equal(t, int(f.hits.Load()), strings.Count(out, "level=WARN"), "one line per fetch: %s", out)
}

// jwkOf returns the JWK of key (public, or private when key is private or
// a secret) under kid and alg, as a JSON object.
func jwkOf(t testing.TB, key any, kid string, alg jwkset.ALG) map[string]any {
	t.Helper()
	j, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{
		Marshal:  jwkset.JWKMarshalOptions{Private: true},
		Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg},
	})
	require.NoError(t, err)
	b, err := json.Marshal(j.Marshal())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// The issuer's JWKS down at start: NewRemoteKeys neither waits nor fails;
// tokens get ErrKeysUnavailable (502), not 401, while no key was ever
// fetched, at most one fetch per RefetchInterval; the keys arrive by
// themselves once the JWKS answers.
func TestRemoteKeysDownAtStart(t *testing.T) {
	k := rkES256(t, "k1")
	f := newRKIssuer(t, rkSet(t, k.key))
	f.mode.Store(rkDown)
	clock := &rkClock{}
	remote, log := rkRemote(t, f, clock)
	v := rkVerifier(t, remote)
	ctx := rkCtx(t)
	for range 20 {
		_, err := v.Verify(ctx, k.token)
		rkCode(t, err, ssotoken.ErrUpstream, ssotoken.CodeKeysUnavailable)
		assert.ErrorIs(t, err, ssotoken.ErrKeysUnavailable)
	}
	assert.Equal(t, int64(2), f.hits.Load(), "the fetch at start, and one refetch")
	assert.Equal(t, 2, strings.Count(log.String(), `reason="HTTP 500"`), log.String())
	assert.NotContains(t, log.String(), "SECRET-BODY-MARKER")

	f.mode.Store(rkOK)
	_, err := v.Verify(ctx, k.token)
	rkCode(t, err, ssotoken.ErrUpstream, ssotoken.CodeKeysUnavailable)
	clock.advance(ssotoken.DefaultRefetchInterval)
	_, err = v.Verify(ctx, k.token)
	require.NoError(t, err)
	assert.Equal(t, int64(3), f.hits.Load())
}

// Keys that were down at start are asked for again once per
// RefetchInterval until they arrive: the set becomes ready without a
// token asking for it, and then asks no more.
func TestRemoteKeysDownAtStartBecomeReadyWithoutTraffic(t *testing.T) {
	k := rkES256(t, "k1")
	f := newRKIssuer(t, rkSet(t, k.key))
	f.mode.Store(rkDown)
	remote, _ := rkRemote(t, f, &rkClock{}, func(c *ssotoken.RemoteKeysConfig) {
		c.Now = nil // the refetch limit on the real clock
		c.RefetchInterval = ssotoken.MinRefetchInterval
	})
	require.Eventually(t, func() bool { return f.hits.Load() >= 2 }, 10*time.Second, 10*time.Millisecond, "asked again while down")
	assert.ErrorIs(t, remote.Ready(), ssotoken.ErrKeysUnavailable)
	f.mode.Store(rkOK)
	require.Eventually(t, func() bool { return remote.Ready() == nil }, 10*time.Second, 10*time.Millisecond, "ready once the JWKS answers, with no token")
}

// An empty set is no key: 502, as for a JWKS that is down.
func TestRemoteKeysEmptySet(t *testing.T) {
	f := newRKIssuer(t, nil)
	f.mode.Store(rkEmpty)
	remote, _ := rkRemote(t, f, &rkClock{})
	_, err := rkVerifier(t, remote).Verify(rkCtx(t), rkES256(t, "k1").token)
	rkCode(t, err, ssotoken.ErrUpstream, ssotoken.CodeKeysUnavailable)
}

// A JWKS URL where nothing listens: 502.
func TestRemoteKeysUnreachable(t *testing.T) {
	keys, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: "http://127.0.0.1:1/jwks.json", Logger: slog.New(slog.NewTextHandler(&rkLog{}, nil))})
	require.NoError(t, err)
	defer keys.Close()
	_, err = rkVerifier(t, keys).Verify(rkCtx(t), rkES256(t, "k1").token)
	rkCode(t, err, ssotoken.ErrUpstream, ssotoken.CodeKeysUnavailable)
}

// Tokens that arrive during the first fetch wait for it, each within its
// own context: 500 of them cause one fetch and all verify; one whose
// context ends first gets ErrTimeout (504).
func TestRemoteKeysColdStart(t *testing.T) {
	k := rkES256(t, "k1")
	f := newRKIssuer(t, rkSet(t, k.key))
	f.mode.Store(rkHold)
	remote, _ := rkRemote(t, f, &rkClock{})
	v := rkVerifier(t, remote)
	<-f.held // the first fetch is on its way, and held

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := v.Verify(short, k.token)
	rkCode(t, err, ssotoken.ErrTimeout, ssotoken.CodeDeadlineExceeded)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = v.Verify(canceled, k.token)
	rkCode(t, err, ssotoken.ErrTimeout, ssotoken.CodeCanceled)

	ctx := rkCtx(t)
	errs := make(chan error, 500)
	var started, wg sync.WaitGroup
	for range 500 {
		started.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			_, err := v.Verify(ctx, k.token)
			errs <- err
		}()
	}
	started.Wait()
	f.mode.Store(rkOK)
	f.unhold()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), f.hits.Load())
}

// A flood of tokens under random kids gets prompt 401s and causes at most
// one fetch per RefetchInterval; genuine tokens are never affected.
func TestRemoteKeysUnknownKIDFlood(t *testing.T) {
	k := rkES256(t, "k1")
	f := newRKIssuer(t, rkSet(t, k.key))
	clock := &rkClock{}
	remote, _ := rkRemote(t, f, clock)
	v := rkVerifier(t, remote)
	ctx := rkCtx(t)
	_, err := v.Verify(ctx, k.token)
	require.NoError(t, err)

	flood := make([]string, 20)
	for i := range flood {
		flood[i] = rkForeign(t)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Verify(ctx, flood[i%len(flood)])
			rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			_, err = v.Verify(ctx, k.token)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(2), f.hits.Load(), "one fetch at start, one refetch for the whole flood")

	clock.advance(ssotoken.DefaultRefetchInterval - time.Millisecond)
	_, err = v.Verify(ctx, flood[0])
	rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	assert.Equal(t, int64(2), f.hits.Load(), "not before RefetchInterval")
	clock.advance(time.Millisecond)
	_, err = v.Verify(ctx, flood[0])
	rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	assert.Equal(t, int64(3), f.hits.Load(), "once RefetchInterval has passed")
}

// A token without kid is refused; no key is tried and nothing fetched.
func TestRemoteKeysMissingKID(t *testing.T) {
	k := rkES256(t, "k1")
	f := newRKIssuer(t, rkSet(t, k.key))
	remote, _ := rkRemote(t, f, &rkClock{})
	v := rkVerifier(t, remote)
	ctx := rkCtx(t)
	_, err := v.Verify(ctx, k.token)
	require.NoError(t, err)
	for _, header := range []map[string]any{nil, {"kid": ""}} {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"CIINo": "1", "LOBId": "01", "Functionality": "D", "iat": krNow.Unix(), "exp": krNow.Unix() + 60})
		for name, v := range header {
			tok.Header[name] = v
		}
		s, err := tok.SignedString(k.priv)
		require.NoError(t, err)
		_, err = v.Verify(ctx, s)
		rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	}
	assert.Equal(t, int64(1), f.hits.Load())
}

// Key rotation: a token under the issuer's new key is accepted after one
// refetch, shared by every token that missed it, while the old key's
// tokens keep verifying; once the old key leaves the set and the set is
// fetched again, its tokens are refused.
func TestRemoteKeysRotation(t *testing.T) {
	old, next := rkES256(t, "old"), newRKKey(t, "next", ssotoken.EdDSA, krEd(t))
	f := newRKIssuer(t, rkSet(t, old.key))
	clock := &rkClock{}
	remote, _ := rkRemote(t, f, clock)
	v := rkVerifier(t, remote)
	ctx := rkCtx(t)
	_, err := v.Verify(ctx, old.token)
	require.NoError(t, err)

	f.set(rkSet(t, next.key, old.key)) // the issuer rotates
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Verify(ctx, next.token)
			assert.NoError(t, err)
			_, err = v.Verify(ctx, old.token)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(2), f.hits.Load(), "one fetch at start, one refetch shared by every miss")

	f.set(rkSet(t, next.key)) // the old key is retired
	_, err = v.Verify(ctx, old.token)
	require.NoError(t, err, "until the set is fetched again")
	clock.advance(ssotoken.DefaultRefetchInterval)
	_, err = v.Verify(ctx, rkForeign(t)) // any unknown kid fetches the set again
	rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	_, err = v.Verify(ctx, old.token)
	rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	_, err = v.Verify(ctx, next.token)
	require.NoError(t, err)
	assert.Equal(t, int64(3), f.hits.Load())
}

// Failed fetches (server error, garbage, a redirect, too slow, too big)
// change nothing: the last good keys stay, and each is logged once
// without the body.
func TestRemoteKeysBadResponsesKeepLastGoodKeys(t *testing.T) {
	old, next := rkES256(t, "old"), rkES256(t, "next")
	for _, tt := range []struct {
		name, reason string
		mode         int32
	}{
		{"server error", "HTTP 500", rkDown},
		{"garbage", "not a key set", rkGarbage},
		{"redirect", "HTTP 302", rkRedirect},
		{"slow", "timeout", rkHold}, // slog quotes only values with spaces
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newRKIssuer(t, rkSet(t, old.key))
			clock := &rkClock{}
			remote, log := rkRemote(t, f, clock, func(c *ssotoken.RemoteKeysConfig) { c.FetchTimeout = 200 * time.Millisecond })
			v := rkVerifier(t, remote)
			ctx := rkCtx(t)
			_, err := v.Verify(ctx, old.token)
			require.NoError(t, err)

			f.set(rkSet(t, old.key, next.key))
			f.mode.Store(tt.mode)
			start := time.Now()
			_, err = v.Verify(ctx, next.token)
			rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			assert.Less(t, time.Since(start), 200*time.Millisecond+2*time.Second, "the fetch is cut at FetchTimeout")
			assert.Equal(t, int64(2), f.hits.Load())
			_, err = v.Verify(ctx, old.token)
			require.NoError(t, err, "the last good keys stay")

			out := log.String()
			assert.Equal(t, 1, strings.Count(out, "JWKS fetch failed"), out)
			want := tt.reason
			if strings.Contains(want, " ") {
				want = strconv.Quote(want)
			}
			assert.Contains(t, out, "reason="+want)
			assert.NotContains(t, out, "SECRET-BODY-MARKER")

			f.mode.Store(rkOK)
			clock.advance(ssotoken.DefaultRefetchInterval)
			_, err = v.Verify(ctx, next.token)
			require.NoError(t, err, "recovered")
		})
	}
}

// A JWKS body of MaxJWKSBytes is read; one byte more fails the fetch,
// whether its length is announced or it comes chunked, and the last good
// keys stay.
func TestRemoteKeysSizeCap(t *testing.T) {
	old, next := rkES256(t, "old"), rkES256(t, "next")
	rotated := rkSet(t, old.key, next.key)
	const max = 4 << 10
	require.Less(t, len(rotated), max)
	for _, tt := range []struct {
		name    string
		size    int
		chunked bool
	}{
		{"at the cap, announced", max, false},
		{"one byte over, announced", max + 1, false},
		{"at the cap, chunked", max, true},
		{"one byte over, chunked", max + 1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newRKIssuer(t, rkSet(t, old.key))
			remote, log := rkRemote(t, f, &rkClock{}, func(c *ssotoken.RemoteKeysConfig) { c.MaxJWKSBytes = max })
			v := rkVerifier(t, remote)
			ctx := rkCtx(t)
			_, err := v.Verify(ctx, old.token)
			require.NoError(t, err)
			// Leading white space, so that a body cut at the cap is not a
			// whole JSON document.
			f.set(append(bytes.Repeat([]byte(" "), tt.size-len(rotated)), rotated...))
			f.chunked.Store(tt.chunked)

			_, err = v.Verify(ctx, next.token)
			// At least the refetch the unknown kid caused. Not exactly
			// one: on a machine loaded enough (CI's, once) something
			// outside this test's control fetched once more.
			assert.GreaterOrEqual(t, f.hits.Load(), int64(2), "the unknown kid fetched the set again; log: %s", log.String())
			if tt.size <= max {
				require.NoError(t, err)
				assert.Empty(t, log.String())
				return
			}
			rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
			assert.Contains(t, log.String(), `reason="body too large"`)
			_, err = v.Verify(ctx, old.token)
			require.NoError(t, err)
		})
	}
}

// The background refresh replaces the keys without any token asking: a
// new key verifies, a withdrawn one no longer does.
func TestRemoteKeysBackgroundRefresh(t *testing.T) {
	old, next := rkES256(t, "old"), rkES256(t, "next")
	f := newRKIssuer(t, rkSet(t, old.key))
	remote, _ := rkRemote(t, f, &rkClock{}, func(c *ssotoken.RemoteKeysConfig) { c.RefreshInterval = 20 * time.Millisecond })
	v := rkVerifier(t, remote)
	ctx := rkCtx(t)
	_, err := v.Verify(ctx, old.token)
	require.NoError(t, err)

	f.set(rkSet(t, next.key))
	require.Eventually(t, func() bool { _, ok := remote.Key("next"); return ok }, rkDeadline, 5*time.Millisecond)
	_, err = v.Verify(ctx, next.token)
	require.NoError(t, err)
	_, err = v.Verify(ctx, old.token)
	rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
}

// Close stops the background work: nothing is fetched any more, and
// tokens verify with the keys already held. TestMain's leak check sees
// the refresh goroutine gone.
func TestRemoteKeysClose(t *testing.T) {
	old := rkES256(t, "old")
	f := newRKIssuer(t, rkSet(t, old.key))
	clock := &rkClock{}
	remote, _ := rkRemote(t, f, clock, func(c *ssotoken.RemoteKeysConfig) { c.RefreshInterval = time.Millisecond })
	v := rkVerifier(t, remote)
	ctx := rkCtx(t)
	_, err := v.Verify(ctx, old.token)
	require.NoError(t, err)
	require.NoError(t, remote.Close())
	require.NoError(t, remote.Close())
	hits := f.hits.Load()

	f.set(rkSet(t, rkES256(t, "next").key))
	clock.advance(time.Hour)
	_, err = v.Verify(ctx, rkForeign(t))
	rkCode(t, err, ssotoken.ErrUnauthorized, ssotoken.CodeUnknownKey)
	_, err = v.Verify(ctx, old.token)
	require.NoError(t, err)
	assert.Equal(t, hits, f.hits.Load())
}

// Close while the first fetch hangs returns at once; a token waiting for
// the fetch gets ErrKeysUnavailable.
func TestRemoteKeysCloseDuringFetch(t *testing.T) {
	k := rkES256(t, "k1")
	f := newRKIssuer(t, rkSet(t, k.key))
	f.mode.Store(rkHold)
	remote, log := rkRemote(t, f, &rkClock{}, func(c *ssotoken.RemoteKeysConfig) { c.FetchTimeout = time.Minute })
	<-f.held
	errc := make(chan error, 1)
	go func() {
		_, err := rkVerifier(t, remote).Verify(rkCtx(t), k.token)
		errc <- err
	}()
	require.NoError(t, remote.Close())
	err := <-errc
	rkCode(t, err, ssotoken.ErrUpstream, ssotoken.CodeKeysUnavailable)
	assert.Empty(t, log.String(), "a fetch canceled by Close is no failure to report")
}

// FuzzRemoteKeysSameChecks feeds arbitrary tokens to two Verifiers of the
// same ES256 and EdDSA keys, one with a Keyring, the other with
// RemoteKeys of the JWKS: they must agree on every token. `go test`
// replays the seeds; `go test -fuzz FuzzRemoteKeysSameChecks
// ./ssotoken/` explores.
func FuzzRemoteKeysSameChecks(f *testing.F) {
	es, ed := newRKKey(f, "es", ssotoken.ES256, krEC(f)), newRKKey(f, "ed", ssotoken.EdDSA, krEd(f))
	esPub, err := ssotoken.NewVerifyingKey("es", ssotoken.ES256, es.priv.Public())
	require.NoError(f, err)
	edPub, err := ssotoken.NewVerifyingKey("ed", ssotoken.EdDSA, ed.priv.Public())
	require.NoError(f, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(rkSet(f, es.key, ed.key))
	}))
	f.Cleanup(srv.Close)
	remote, err := ssotoken.NewRemoteKeys(ssotoken.RemoteKeysConfig{URL: srv.URL, RefetchInterval: time.Hour})
	require.NoError(f, err)
	f.Cleanup(func() { remote.Close() })
	byRing, byRemote := rkVerifier(f, krRing(f, esPub, edPub)), rkVerifier(f, remote)
	_, err = byRemote.Verify(context.Background(), es.token) // the first fetch
	require.NoError(f, err)

	for _, s := range []string{es.token, ed.token, es.token[:len(es.token)-3] + "AAA", strings.Replace(ed.token, ".", "..", 1), "", "a.b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		_, errRing := byRing.Verify(context.Background(), token)
		_, errRemote := byRemote.Verify(context.Background(), token)
		if ssotoken.CodeOf(errRing) != ssotoken.CodeOf(errRemote) {
			t.Fatalf("Keyring: %v; RemoteKeys: %v", errRing, errRemote)
		}
	})
}
