package ssotoken_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// krNow is the fixed time of the keyring tests: the API document's sample.
var krNow = time.Date(2025, 1, 20, 8, 49, 46, 756e6, time.UTC)

func krClock() time.Time { return krNow }

var krReq = ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"}

// krSecret returns a 40-byte secret made of c.
func krSecret(c byte) []byte { return bytes.Repeat([]byte{c}, 40) }

func krHMAC(t testing.TB, id string, c byte) *ssotoken.Key {
	t.Helper()
	k, err := ssotoken.NewHMACKey(id, krSecret(c))
	require.NoError(t, err)
	return k
}

var (
	krRSAOnce sync.Once
	krRSAPriv *rsa.PrivateKey
	krRSAErr  error
)

// krRSA returns an RSA-2048 key made once per test binary: generating one
// is slow, the more so under -race.
func krRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	krRSAOnce.Do(func() { krRSAPriv, krRSAErr = rsa.GenerateKey(rand.Reader, 2048) })
	require.NoError(t, krRSAErr)
	return krRSAPriv
}

func krEC(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func krEd(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

// krAsym is one asymmetric algorithm under test, with a private key of
// the concrete type golang-jwt wants for it.
type krAsym struct {
	alg    ssotoken.Algorithm
	method jwt.SigningMethod
	priv   crypto.Signer
}

func krAsymmetric(t testing.TB) []krAsym {
	return []krAsym{
		{alg: ssotoken.RS256, method: jwt.SigningMethodRS256, priv: krRSA(t)},
		{alg: ssotoken.ES256, method: jwt.SigningMethodES256, priv: krEC(t)},
		{alg: ssotoken.EdDSA, method: jwt.SigningMethodEdDSA, priv: krEd(t)},
	}
}

func krRing(t testing.TB, active *ssotoken.Key, others ...*ssotoken.Key) *ssotoken.Keyring {
	t.Helper()
	r, err := ssotoken.NewKeyring(active, others...)
	require.NoError(t, err)
	return r
}

// krSigner returns a Signer that issues at krNow. Its clock reads the
// second before while NewSigner runs: a Signer issues nothing in the
// second it was started in.
func krSigner(t testing.TB, ring *ssotoken.Keyring, lobKeys map[string]*ssotoken.Keyring) *ssotoken.Signer {
	t.Helper()
	var started atomic.Bool
	clock := func() time.Time {
		if started.Load() {
			return krNow
		}
		return krNow.Add(-time.Second)
	}
	s, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, LOBKeys: lobKeys, Now: clock})
	require.NoError(t, err)
	started.Store(true)
	return s
}

func krVerifier(t testing.TB, ring *ssotoken.Keyring, lob string) *ssotoken.Verifier {
	t.Helper()
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: lob, Now: krClock})
	require.NoError(t, err)
	return v
}

func krIssue(t testing.TB, s *ssotoken.Signer, lob string) ssotoken.Response {
	t.Helper()
	req := krReq
	req.LOBId = lob
	resp, err := s.Issue(context.Background(), req)
	require.NoError(t, err)
	return resp
}

// krHeader decodes the JOSE header of a compact token.
func krHeader(t testing.TB, token string) map[string]any {
	t.Helper()
	seg, _, ok := strings.Cut(token, ".")
	require.True(t, ok)
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

// krParse parses token with golang-jwt, the algorithm pinned to alg, at
// krNow.
func krParse(token string, alg ssotoken.Algorithm, kf jwt.Keyfunc) (*jwt.Token, error) {
	return jwt.Parse(token, kf,
		jwt.WithValidMethods([]string{string(alg)}),
		jwt.WithTimeFunc(krClock),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
}

// krIDs returns the ids of keys, in order.
func krIDs(keys []*ssotoken.Key) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID()
	}
	return ids
}

func TestNewKeyringErrors(t *testing.T) {
	t.Parallel()
	a := krHMAC(t, "a", 'a')
	a2 := krHMAC(t, "a", 'A')
	b := krHMAC(t, "b", 'b')
	anon1 := krHMAC(t, "", '1')
	anon2 := krHMAC(t, "", '2')
	es, err := ssotoken.NewVerifyingKey("es", ssotoken.ES256, krEC(t).Public())
	require.NoError(t, err)

	tests := []struct {
		name    string
		active  *ssotoken.Key
		others  []*ssotoken.Key
		wantErr string // a substring of the error; "" means success
	}{
		{name: "nil active key", active: nil, wantErr: "needs a key"},
		{name: "nil active key with others", active: nil, others: []*ssotoken.Key{a}, wantErr: "needs a key"},
		{name: "nil other key", active: a, others: []*ssotoken.Key{nil}, wantErr: "nil key"},
		{name: "nil other key after a good one", active: a, others: []*ssotoken.Key{b, nil}, wantErr: "nil key"},
		{name: "duplicate id", active: a, others: []*ssotoken.Key{a2}, wantErr: "duplicate key id a"},
		{name: "duplicate id among others", active: b, others: []*ssotoken.Key{a, a2}, wantErr: "duplicate key id a"},
		{name: "same key twice", active: a, others: []*ssotoken.Key{a}, wantErr: "duplicate key id a"},
		{name: "two keys without id", active: anon1, others: []*ssotoken.Key{anon2}, wantErr: "only one key may have no id"},
		{name: "two keys without id among others", active: a, others: []*ssotoken.Key{anon1, b, anon2}, wantErr: "only one key may have no id"},
		{name: "one key", active: a},
		{name: "one key without id", active: anon1},
		{name: "key without id beside keys with ids", active: anon1, others: []*ssotoken.Key{a, b}},
		{name: "verify-only key in the ring", active: a, others: []*ssotoken.Key{es}},
		{name: "verify-only active key (a verifier's ring)", active: es, others: []*ssotoken.Key{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ring, err := ssotoken.NewKeyring(tt.active, tt.others...)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Nil(t, ring)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.True(t, strings.HasPrefix(err.Error(), "ssotoken: "), err.Error())
				return
			}
			require.NoError(t, err)
			assert.Same(t, tt.active, ring.Active())
			assert.Len(t, ring.Keys(), 1+len(tt.others))
			for _, k := range append([]*ssotoken.Key{tt.active}, tt.others...) {
				got, ok := ring.Key(k.ID())
				assert.True(t, ok, "key %q", k.ID())
				assert.Same(t, k, got)
			}
		})
	}
}

func TestKeyringRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k1 := krHMAC(t, "k1", '1')
	k2 := krHMAC(t, "k2", '2')
	ring := krRing(t, k1)
	s := krSigner(t, ring, nil)
	v := krVerifier(t, ring, "01")

	before := krIssue(t, s, "01")
	assert.Equal(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k1"}, krHeader(t, before.TokenNo))

	require.NoError(t, ring.Rotate(k2))
	assert.Same(t, k2, ring.Active())
	after := krIssue(t, s, "01")
	assert.Equal(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k2"}, krHeader(t, after.TokenNo))

	for name, tok := range map[string]string{"old key's token": before.TokenNo, "new key's token": after.TokenNo} {
		c, err := v.Verify(ctx, tok)
		if assert.NoError(t, err, name) {
			assert.Equal(t, "01", c.LOBId)
		}
	}

	t.Run("back to a key already in the ring", func(t *testing.T) {
		require.NoError(t, ring.Rotate(k1))
		assert.Same(t, k1, ring.Active())
		assert.Equal(t, []string{"k1", "k2"}, krIDs(ring.Keys()), "not added twice")
		assert.Equal(t, "k1", krHeader(t, krIssue(t, s, "01").TokenNo)["kid"])
	})
	t.Run("to the active key again", func(t *testing.T) {
		require.NoError(t, ring.Rotate(k1))
		assert.Same(t, k1, ring.Active())
		assert.Equal(t, []string{"k1", "k2"}, krIDs(ring.Keys()))
	})
	t.Run("to another key with a taken id", func(t *testing.T) {
		impostor := krHMAC(t, "k2", 'X')
		err := ring.Rotate(impostor)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "k2")
		assert.Same(t, k1, ring.Active(), "a failed rotation changes nothing")
		got, _ := ring.Key("k2")
		assert.Same(t, k2, got)
		assert.Equal(t, []string{"k1", "k2"}, krIDs(ring.Keys()))
		assert.Equal(t, "k1", krHeader(t, krIssue(t, s, "01").TokenNo)["kid"])
	})
	t.Run("to a second key without id", func(t *testing.T) {
		anonRing := krRing(t, krHMAC(t, "", 'a'))
		assert.Error(t, anonRing.Rotate(krHMAC(t, "", 'b')))
	})
	t.Run("to nil", func(t *testing.T) {
		assert.Error(t, ring.Rotate(nil))
		assert.Same(t, k1, ring.Active())
	})
}

// TestKeyringRotateToVerifyOnlyKey: Rotate does not check that the new
// active key can sign (a verifier's ring may rotate to a public key), so a
// Signer over that ring then fails closed, as an ErrUpstream.
func TestKeyringRotateToVerifyOnlyKey(t *testing.T) {
	t.Parallel()
	ring := krRing(t, krHMAC(t, "hs", 'h'))
	s := krSigner(t, ring, nil)
	pub, err := ssotoken.NewVerifyingKey("es", ssotoken.ES256, krEC(t).Public())
	require.NoError(t, err)
	assert.False(t, pub.CanSign())

	require.NoError(t, ring.Rotate(pub))
	resp, err := s.Issue(context.Background(), krReq)
	assert.Equal(t, ssotoken.Response{}, resp)
	assert.ErrorIs(t, err, ssotoken.ErrUpstream)
	assert.Equal(t, ssotoken.CodeSigningFailed, ssotoken.CodeOf(err))

	_, err = ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
	assert.Error(t, err, "NewSigner checks what Rotate does not")
}

func TestKeyringRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		oldID  string // "" is the key without id, as in the API document
		nextID string
	}{
		{name: "keys with ids", oldID: "2026-10", nextID: "2026-11"},
		{name: "from the key without id to a key with id", oldID: "", nextID: "2026-11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old := krHMAC(t, tt.oldID, 'o')
			next := krHMAC(t, tt.nextID, 'n')
			ring := krRing(t, old)
			s := krSigner(t, ring, nil)
			v := krVerifier(t, ring, "01")
			tokOld := krIssue(t, s, "01").TokenNo

			err := ring.Remove(tt.oldID)
			require.Error(t, err, "the active key cannot be removed")
			assert.Contains(t, err.Error(), "active")
			assert.Error(t, ring.Remove("no such key"))
			_, err = v.Verify(ctx, tokOld)
			require.NoError(t, err)

			require.NoError(t, ring.Rotate(next))
			tokNext := krIssue(t, s, "01").TokenNo
			require.NoError(t, ring.Remove(tt.oldID))
			assert.Equal(t, []string{tt.nextID}, krIDs(ring.Keys()))
			_, ok := ring.Key(tt.oldID)
			assert.False(t, ok)

			c, err := v.Verify(ctx, tokOld)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
			assert.Equal(t, ssotoken.CodeUnknownKey, ssotoken.CodeOf(err))
			_, err = v.Verify(ctx, tokNext)
			assert.NoError(t, err)

			assert.Error(t, ring.Remove(tt.oldID), "already removed")

			// Adding the key back restores its tokens, as a verify-only key.
			require.NoError(t, ring.Add(old))
			_, err = v.Verify(ctx, tokOld)
			assert.NoError(t, err)
			assert.Same(t, next, ring.Active())
		})
	}
}

func TestKeyringKeysOrder(t *testing.T) {
	t.Parallel()
	k := make(map[string]*ssotoken.Key)
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		k[id] = krHMAC(t, id, byte('a'+i))
	}
	ring := krRing(t, k["a"], k["b"], k["c"])
	steps := []struct {
		name       string
		do         func() error
		wantErr    bool
		want       []string
		wantActive string
	}{
		{name: "as constructed", do: func() error { return nil }, want: []string{"a", "b", "c"}, wantActive: "a"},
		{name: "Add appends", do: func() error { return ring.Add(k["d"]) }, want: []string{"a", "b", "c", "d"}, wantActive: "a"},
		{name: "Add of a duplicate id fails", do: func() error { return ring.Add(krHMAC(t, "b", 'z')) }, wantErr: true, want: []string{"a", "b", "c", "d"}, wantActive: "a"},
		{name: "Add of nil fails", do: func() error { return ring.Add(nil) }, wantErr: true, want: []string{"a", "b", "c", "d"}, wantActive: "a"},
		{name: "Rotate to a new key appends it", do: func() error { return ring.Rotate(k["e"]) }, want: []string{"a", "b", "c", "d", "e"}, wantActive: "e"},
		{name: "Rotate to a present key keeps the order", do: func() error { return ring.Rotate(k["b"]) }, want: []string{"a", "b", "c", "d", "e"}, wantActive: "b"},
		{name: "Remove keeps the others' order", do: func() error { return ring.Remove("c") }, want: []string{"a", "b", "d", "e"}, wantActive: "b"},
		{name: "Remove the first", do: func() error { return ring.Remove("a") }, want: []string{"b", "d", "e"}, wantActive: "b"},
		{name: "re-Add goes last", do: func() error { return ring.Add(k["a"]) }, want: []string{"b", "d", "e", "a"}, wantActive: "b"},
	}
	// The steps change one ring, so they run in order.
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.do()
			if st.wantErr {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, st.want, krIDs(ring.Keys()))
			assert.Equal(t, st.wantActive, ring.Active().ID())
		})
	}

	t.Run("Keys returns a copy", func(t *testing.T) {
		keys := ring.Keys()
		keys[0], keys[1] = nil, keys[3]
		assert.Equal(t, []string{"b", "d", "e", "a"}, krIDs(ring.Keys()))
	})
}

// TestKeyringConcurrentRotation issues and verifies tokens in several
// goroutines while another rotates the ring (and reads it every way), for
// -race. Without removal every token verifies; with the oldest key
// removed as each rotation happens, a token fails only as unknown_key.
func TestKeyringConcurrentRotation(t *testing.T) {
	t.Parallel()
	const (
		workers    = 4
		iterations = 150
		nkeys      = 40
	)
	tests := []struct {
		name   string
		remove bool
	}{
		{name: "rotate only", remove: false},
		{name: "rotate and remove the key before last", remove: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keys := make([]*ssotoken.Key, nkeys)
			for i := range keys {
				keys[i] = krHMAC(t, fmt.Sprintf("k%02d", i), byte('0'+i))
			}
			ring := krRing(t, keys[0])
			s := krSigner(t, ring, nil)
			v := krVerifier(t, ring, "01")

			var ok, unknown, other, issueErrs atomic.Int64
			done := make(chan struct{})
			rotated := make(chan int)
			go func() {
				n := 0
				defer func() { rotated <- n }()
				for i := 1; ; i++ {
					select {
					case <-done:
						return
					default:
					}
					next := keys[i%nkeys]
					if tt.remove && i >= nkeys {
						return // every key used once; no key can come back
					}
					if err := ring.Rotate(next); err != nil {
						other.Add(1)
						return
					}
					n++
					if tt.remove && i >= 2 {
						if err := ring.Remove(keys[i-2].ID()); err != nil {
							other.Add(1)
							return
						}
					}
					_ = ring.Keys()
					_ = ring.JWKS()
					_, _ = ring.Key(next.ID())
				}
			}()

			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range iterations {
						resp, err := s.Issue(context.Background(), krReq)
						if err != nil {
							issueErrs.Add(1)
							continue
						}
						_, err = v.Verify(context.Background(), resp.TokenNo)
						switch {
						case err == nil:
							ok.Add(1)
						case ssotoken.CodeOf(err) == ssotoken.CodeUnknownKey:
							unknown.Add(1)
						default:
							other.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			close(done)
			n := <-rotated

			assert.Positive(t, n, "no rotation happened")
			assert.Zero(t, issueErrs.Load())
			assert.Zero(t, other.Load())
			assert.Positive(t, ok.Load())
			assert.Equal(t, int64(workers*iterations), ok.Load()+unknown.Load())
			if !tt.remove {
				assert.Zero(t, unknown.Load(), "a rotation without removal failed a token")
				assert.Len(t, ring.Keys(), min(n+1, nkeys))
			} else {
				assert.LessOrEqual(t, len(ring.Keys()), 2)
			}
		})
	}
}

func TestNewHMACKeySecretLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secret  []byte
		wantErr bool
	}{
		{name: "nil", secret: nil, wantErr: true},
		{name: "empty", secret: []byte{}, wantErr: true},
		{name: "1 byte", secret: []byte("s"), wantErr: true},
		{name: "16 bytes", secret: bytes.Repeat([]byte("s"), 16), wantErr: true},
		{name: "31 bytes", secret: bytes.Repeat([]byte("s"), 31), wantErr: true},
		{name: "32 bytes", secret: bytes.Repeat([]byte("s"), 32)},
		{name: "33 bytes", secret: bytes.Repeat([]byte("s"), 33)},
		{name: "64 bytes", secret: bytes.Repeat([]byte("s"), 64)},
		{name: "1 KiB", secret: bytes.Repeat([]byte("s"), 1024)},
		{name: "32 zero bytes (length is all that is checked)", secret: make([]byte, 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ssotoken.NewHMACKey("", tt.secret)
			if tt.wantErr {
				require.Error(t, err)
				assert.Nil(t, k)
				assert.Contains(t, err.Error(), "32")
				if len(tt.secret) >= 16 {
					assert.NotContains(t, err.Error(), string(tt.secret))
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, ssotoken.HS256, k.Algorithm())
			assert.True(t, k.CanSign())
			assert.Nil(t, k.Public(), "an HMAC key has no public half")
		})
	}
	assert.Equal(t, 32, ssotoken.MinHMACSecretLen)
}

// TestNewHMACKeyCopiesSecret: changing the caller's slice afterwards does
// not change the key.
func TestNewHMACKeyCopiesSecret(t *testing.T) {
	t.Parallel()
	secret := krSecret('s')
	k, err := ssotoken.NewHMACKey("", secret)
	require.NoError(t, err)
	s := krSigner(t, krRing(t, k), nil)
	for i := range secret {
		secret[i] = 'x'
	}
	tok := krIssue(t, s, "01").TokenNo
	v := krVerifier(t, krRing(t, krHMAC(t, "", 's')), "01")
	_, err = v.Verify(context.Background(), tok)
	assert.NoError(t, err)
}

func TestKeyIDValidation(t *testing.T) {
	t.Parallel()
	ec := krEC(t)
	ed := krEd(t)
	constructors := []struct {
		name string
		make func(id string) (*ssotoken.Key, error)
	}{
		{name: "NewHMACKey", make: func(id string) (*ssotoken.Key, error) { return ssotoken.NewHMACKey(id, krSecret('s')) }},
		{name: "NewVerifyingKey", make: func(id string) (*ssotoken.Key, error) {
			return ssotoken.NewVerifyingKey(id, ssotoken.ES256, ec.Public())
		}},
		{name: "NewSigningKey", make: func(id string) (*ssotoken.Key, error) { return ssotoken.NewSigningKey(id, ssotoken.EdDSA, ed) }},
	}
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{name: "plain", id: "2026-11", ok: true},
		{name: "128 bytes", id: strings.Repeat("k", 128), ok: true},
		{name: "128 bytes of two-byte runes", id: strings.Repeat("é", 64), ok: true},
		{name: "129 bytes", id: strings.Repeat("k", 129)},
		{name: "130 bytes of two-byte runes", id: strings.Repeat("é", 65)},
		{name: "4 KiB", id: strings.Repeat("k", 4096)},
		{name: "NUL", id: "k\x00"},
		{name: "newline", id: "k\n1"},
		{name: "carriage return", id: "k\r"},
		{name: "tab", id: "\tk"},
		{name: "escape", id: "k\x1b[31m"},
		{name: "DEL", id: "k\x7f"},
		{name: "C1 control NEL", id: "k\u0085"},
		{name: "line separator", id: "k\u2028"},
		{name: "paragraph separator", id: "k\u2029"},
		{name: "invalid UTF-8", id: "k\xff"},
		{name: "path-like (a kid is only a map key)", id: "../../dev/null", ok: true},
		{name: "quote and backslash", id: `k"\`, ok: true},
		{name: "HTML", id: "<k&>", ok: true},
		{name: "non-ASCII letters", id: "clé-ключ-鍵", ok: true},
	}
	for _, c := range constructors {
		for _, tt := range tests {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				k, err := c.make(tt.id)
				if !tt.ok {
					require.Error(t, err)
					assert.Nil(t, k)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, tt.id, k.ID())
				if !k.CanSign() {
					return
				}
				// The id survives the header's JSON, and the token verifies.
				ring := krRing(t, k)
				tok := krIssue(t, krSigner(t, ring, nil), "01").TokenNo
				assert.Equal(t, tt.id, krHeader(t, tok)["kid"])
				_, err = krVerifier(t, ring, "01").Verify(context.Background(), tok)
				assert.NoError(t, err)
			})
		}
	}
}

// krStubSigner is a crypto.Signer with any public key; it never signs.
type krStubSigner struct{ pub crypto.PublicKey }

func (s krStubSigner) Public() crypto.PublicKey { return s.pub }
func (s krStubSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("stub signer")
}

// krRSAPublic returns an RSA public key with a modulus of exactly bits
// bits; it need not be a product of primes for the size checks.
func krRSAPublic(bits int) *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(1))
	return &rsa.PublicKey{N: n, E: 65537}
}

func TestNewAsymmetricKeyErrors(t *testing.T) {
	t.Parallel()
	rsaKey := krRSA(t)
	ec := krEC(t)
	ed := krEd(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	rsa1024 := krRSAPublic(1024)

	verifying := []struct {
		name string
		id   string
		alg  ssotoken.Algorithm
		pub  crypto.PublicKey
		ok   bool
	}{
		{name: "RS256 RSA-2048", id: "k", alg: ssotoken.RS256, pub: &rsaKey.PublicKey, ok: true},
		{name: "RS256 4096-bit modulus", id: "k", alg: ssotoken.RS256, pub: krRSAPublic(4096), ok: true},
		{name: "ES256 P-256", id: "k", alg: ssotoken.ES256, pub: ec.Public(), ok: true},
		{name: "EdDSA Ed25519", id: "k", alg: ssotoken.EdDSA, pub: ed.Public(), ok: true},

		{name: "RS256 RSA-1024", id: "k", alg: ssotoken.RS256, pub: rsa1024},
		{name: "RS256 RSA-2047", id: "k", alg: ssotoken.RS256, pub: krRSAPublic(2047)},
		{name: "RS256 with a P-256 key", id: "k", alg: ssotoken.RS256, pub: ec.Public()},
		{name: "RS256 with an Ed25519 key", id: "k", alg: ssotoken.RS256, pub: ed.Public()},
		{name: "RS256 with the RSA private key", id: "k", alg: ssotoken.RS256, pub: rsaKey},
		{name: "RS256 with an RSA public key by value", id: "k", alg: ssotoken.RS256, pub: rsaKey.PublicKey},
		{name: "ES256 with a P-384 key", id: "k", alg: ssotoken.ES256, pub: p384.Public()},
		{name: "ES256 with a P-224 key", id: "k", alg: ssotoken.ES256, pub: p224.Public()},
		{name: "ES256 with an RSA key", id: "k", alg: ssotoken.ES256, pub: &rsaKey.PublicKey},
		{name: "ES256 with an Ed25519 key", id: "k", alg: ssotoken.ES256, pub: ed.Public()},
		{name: "EdDSA with an RSA key", id: "k", alg: ssotoken.EdDSA, pub: &rsaKey.PublicKey},
		{name: "EdDSA with a P-256 key", id: "k", alg: ssotoken.EdDSA, pub: ec.Public()},
		{name: "EdDSA with a 31-byte key", id: "k", alg: ssotoken.EdDSA, pub: ed25519.PublicKey(make([]byte, 31))},
		{name: "EdDSA with the private key", id: "k", alg: ssotoken.EdDSA, pub: ed},
		{name: "EdDSA with raw bytes", id: "k", alg: ssotoken.EdDSA, pub: []byte(ed.Public().(ed25519.PublicKey))},
		{name: "nil key", id: "k", alg: ssotoken.ES256, pub: nil},
		{name: "HS256", id: "k", alg: ssotoken.HS256, pub: krSecret('s')},
		{name: "HS256 with an RSA key", id: "k", alg: ssotoken.HS256, pub: &rsaKey.PublicKey},
		{name: "none", id: "k", alg: "none", pub: &rsaKey.PublicKey},
		{name: "HS384", id: "k", alg: "HS384", pub: &rsaKey.PublicKey},
		{name: "RS512", id: "k", alg: "RS512", pub: &rsaKey.PublicKey},
		{name: "PS256", id: "k", alg: "PS256", pub: &rsaKey.PublicKey},
		{name: "lower-case es256", id: "k", alg: "es256", pub: ec.Public()},
		{name: "empty algorithm", id: "k", alg: "", pub: ec.Public()},
		{name: "RS256 empty id", id: "", alg: ssotoken.RS256, pub: &rsaKey.PublicKey},
		{name: "ES256 empty id", id: "", alg: ssotoken.ES256, pub: ec.Public()},
		{name: "EdDSA empty id", id: "", alg: ssotoken.EdDSA, pub: ed.Public()},
	}
	for _, tt := range verifying {
		t.Run("NewVerifyingKey/"+tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ssotoken.NewVerifyingKey(tt.id, tt.alg, tt.pub)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, tt.alg, k.Algorithm())
				assert.False(t, k.CanSign())
				assert.Equal(t, tt.pub, k.Public())
				return
			}
			require.Error(t, err)
			assert.Nil(t, k)
		})
	}

	signing := []struct {
		name string
		id   string
		alg  ssotoken.Algorithm
		s    crypto.Signer
		ok   bool
	}{
		{name: "RS256 RSA-2048", id: "k", alg: ssotoken.RS256, s: rsaKey, ok: true},
		{name: "ES256 P-256", id: "k", alg: ssotoken.ES256, s: ec, ok: true},
		{name: "EdDSA Ed25519", id: "k", alg: ssotoken.EdDSA, s: ed, ok: true},

		{name: "nil signer", id: "k", alg: ssotoken.ES256, s: nil},
		{name: "RS256 RSA-1024", id: "k", alg: ssotoken.RS256, s: krStubSigner{pub: rsa1024}},
		{name: "ES256 with a P-384 key", id: "k", alg: ssotoken.ES256, s: p384},
		{name: "ES256 with an RSA key", id: "k", alg: ssotoken.ES256, s: rsaKey},
		{name: "RS256 with an Ed25519 key", id: "k", alg: ssotoken.RS256, s: ed},
		{name: "EdDSA with a P-256 key", id: "k", alg: ssotoken.EdDSA, s: ec},
		{name: "signer with a nil public key", id: "k", alg: ssotoken.ES256, s: krStubSigner{}},
		{name: "HS256", id: "k", alg: ssotoken.HS256, s: ec},
		{name: "empty id", id: "", alg: ssotoken.ES256, s: ec},
	}
	for _, tt := range signing {
		t.Run("NewSigningKey/"+tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ssotoken.NewSigningKey(tt.id, tt.alg, tt.s)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, tt.alg, k.Algorithm())
				assert.True(t, k.CanSign())
				assert.Equal(t, tt.s.Public(), k.Public())
				return
			}
			require.Error(t, err)
			assert.Nil(t, k)
		})
	}
}

// TestNewVerifyingKeyRejectsMalformedPublicKeys documents the correct
// behaviour for public keys that are of the right type but unusable: an
// error at configuration time, never a panic, and never a key that
// verifies nothing or breaks the JWKS document. It fails against the
// current keys.go (see the report): nil pointers panic in NewVerifyingKey,
// an ECDSA key without coordinates panics later in Keyring.JWKS, and an
// off-curve point or a zero exponent is accepted.
func TestNewVerifyingKeyRejectsMalformedPublicKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		alg  ssotoken.Algorithm
		pub  crypto.PublicKey
	}{
		{name: "nil *rsa.PublicKey", alg: ssotoken.RS256, pub: (*rsa.PublicKey)(nil)},
		{name: "RSA key without modulus", alg: ssotoken.RS256, pub: &rsa.PublicKey{E: 65537}},
		{name: "RSA key with exponent 0", alg: ssotoken.RS256, pub: &rsa.PublicKey{N: krRSA(t).N, E: 0}},
		{name: "RSA key with exponent 1", alg: ssotoken.RS256, pub: &rsa.PublicKey{N: krRSA(t).N, E: 1}},
		{name: "nil *ecdsa.PublicKey", alg: ssotoken.ES256, pub: (*ecdsa.PublicKey)(nil)},
		{name: "P-256 key without coordinates", alg: ssotoken.ES256, pub: &ecdsa.PublicKey{Curve: elliptic.P256()}},
		{name: "P-256 point off the curve", alg: ssotoken.ES256, pub: &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				k   *ssotoken.Key
				err error
			)
			if !assert.NotPanics(t, func() { k, err = ssotoken.NewVerifyingKey("k", tt.alg, tt.pub) }) {
				return
			}
			if !assert.Error(t, err, "an unusable public key was accepted") {
				// Accepted anyway: at least the JWKS must not panic.
				ring := krRing(t, k)
				assert.NotPanics(t, func() { _ = ring.JWKS() })
				return
			}
			assert.Nil(t, k)
		})
	}
}

// TestKeyAsymmetricRoundTrip: a Signer with the private key issues, a
// Verifier that holds only the public key verifies.
func TestKeyAsymmetricRoundTrip(t *testing.T) {
	t.Parallel()
	for _, a := range krAsymmetric(t) {
		t.Run(string(a.alg), func(t *testing.T) {
			t.Parallel()
			kid := "kid-" + string(a.alg)
			priv, err := ssotoken.NewSigningKey(kid, a.alg, a.priv)
			require.NoError(t, err)
			pub, err := ssotoken.NewVerifyingKey(kid, a.alg, a.priv.Public())
			require.NoError(t, err)
			s := krSigner(t, krRing(t, priv), nil)
			pubRing := krRing(t, pub)
			v := krVerifier(t, pubRing, "01")

			resp := krIssue(t, s, "01")
			assert.Equal(t, map[string]any{"alg": string(a.alg), "typ": "JWT", "kid": kid}, krHeader(t, resp.TokenNo))
			c, err := v.Verify(context.Background(), resp.TokenNo)
			require.NoError(t, err)
			assert.Equal(t, ssotoken.Claims{
				CIINo: "10001004", LOBId: "01", Functionality: "D", Date: "2025-01-20T08:49:46.756Z",
				IssuedAt: krNow.Unix(), ExpiresAt: krNow.Unix() + 3600,
			}, *c, "the API document's claims, no jti")

			// A ring of public keys cannot sign.
			_, err = ssotoken.NewSigner(ssotoken.SignerConfig{Keys: pubRing})
			assert.Error(t, err)

			// Another key pair of the same algorithm and kid does not verify.
			other := krAsymmetric(t)
			for _, o := range other {
				if o.alg != a.alg || o.alg == ssotoken.RS256 { // the RSA key is shared
					continue
				}
				otherPub, err := ssotoken.NewVerifyingKey(kid, a.alg, o.priv.Public())
				require.NoError(t, err)
				_, err = krVerifier(t, krRing(t, otherPub), "01").Verify(context.Background(), resp.TokenNo)
				assert.Equal(t, ssotoken.CodeBadSignature, ssotoken.CodeOf(err))
			}
		})
	}
}

// TestKeyGolangJWTInterop: golang-jwt verifies our tokens with the algorithm
// pinned, and our Verifier verifies golang-jwt's tokens with the same key,
// claims and kid.
func TestKeyGolangJWTInterop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, a := range krAsymmetric(t) {
		t.Run(string(a.alg), func(t *testing.T) {
			t.Parallel()
			kid := "interop-" + string(a.alg)
			priv, err := ssotoken.NewSigningKey(kid, a.alg, a.priv)
			require.NoError(t, err)
			pub, err := ssotoken.NewVerifyingKey(kid, a.alg, a.priv.Public())
			require.NoError(t, err)
			s := krSigner(t, krRing(t, priv), nil)
			v := krVerifier(t, krRing(t, pub), "01")
			keyfn := func(tok *jwt.Token) (any, error) {
				if tok.Header["kid"] != kid {
					return nil, fmt.Errorf("unexpected kid %v", tok.Header["kid"])
				}
				return a.priv.Public(), nil
			}

			t.Run("golang-jwt verifies ours", func(t *testing.T) {
				resp := krIssue(t, s, "01")
				tok, err := krParse(resp.TokenNo, a.alg, keyfn)
				require.NoError(t, err)
				assert.True(t, tok.Valid)
				assert.Equal(t, a.method.Alg(), tok.Method.Alg())
				mc, ok := tok.Claims.(jwt.MapClaims)
				require.True(t, ok)
				assert.Equal(t, "10001004", mc["CIINo"])
				assert.Equal(t, "01", mc["LOBId"])
				assert.Equal(t, "D", mc["Functionality"])
				assert.NotContains(t, mc, "jti")
				assert.Equal(t, resp.TokenRefNo[:10], fmt.Sprintf("%.0f", mc["iat"]), "the TokenRefNo starts with iat")
				assert.Equal(t, float64(krNow.Unix()), mc["iat"])
				assert.Equal(t, float64(krNow.Unix()+3600), mc["exp"])

				// Pinned to another algorithm, golang-jwt refuses it.
				other := ssotoken.HS256
				if a.alg != ssotoken.RS256 {
					other = ssotoken.RS256
				}
				_, err = krParse(resp.TokenNo, other, keyfn)
				assert.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid)
			})

			claims := jwt.MapClaims{
				"CIINo": "10001004", "LOBId": "01", "Functionality": "D", "Date": "2025-01-20T08:49:46.756Z",
				"iat": krNow.Unix(), "exp": krNow.Unix() + 3600, "jti": "17373629860000000001",
			}
			want := ssotoken.Claims{
				CIINo: "10001004", LOBId: "01", Functionality: "D", Date: "2025-01-20T08:49:46.756Z",
				IssuedAt: krNow.Unix(), ExpiresAt: krNow.Unix() + 3600, ID: "17373629860000000001",
			}
			sign := func(t *testing.T, header map[string]any) string {
				gt := jwt.NewWithClaims(a.method, claims)
				for k, v := range header {
					gt.Header[k] = v
				}
				s, err := gt.SignedString(a.priv)
				require.NoError(t, err)
				return s
			}

			t.Run("ours verifies golang-jwt's", func(t *testing.T) {
				c, err := v.Verify(ctx, sign(t, map[string]any{"kid": kid}))
				require.NoError(t, err)
				assert.Equal(t, want, *c)
			})
			t.Run("golang-jwt's without kid is refused", func(t *testing.T) {
				_, err := v.Verify(ctx, sign(t, nil))
				assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
				assert.Equal(t, ssotoken.CodeUnknownKey, ssotoken.CodeOf(err))
			})
			t.Run("golang-jwt's with another kid is refused", func(t *testing.T) {
				_, err := v.Verify(ctx, sign(t, map[string]any{"kid": kid + "x"}))
				assert.Equal(t, ssotoken.CodeUnknownKey, ssotoken.CodeOf(err))
			})
			t.Run("HS256 signed with the public key as secret is refused", func(t *testing.T) {
				der, err := x509.MarshalPKIXPublicKey(a.priv.Public())
				require.NoError(t, err)
				gt := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
				gt.Header["kid"] = kid
				tok, err := gt.SignedString(der)
				require.NoError(t, err)
				_, err = v.Verify(ctx, tok)
				assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
				assert.Equal(t, ssotoken.CodeAlgNotAllowed, ssotoken.CodeOf(err))
			})
		})
	}
}

func TestKeyringJWKS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hsSecret := krSecret('h')
	hs, err := ssotoken.NewHMACKey("hs-1", hsSecret)
	require.NoError(t, err)
	asym := krAsymmetric(t)

	var (
		signingKeys []*ssotoken.Key
		publicKeys  []*ssotoken.Key
	)
	for _, a := range asym {
		kid := "jwks-" + string(a.alg)
		k, err := ssotoken.NewSigningKey(kid, a.alg, a.priv)
		require.NoError(t, err)
		signingKeys = append(signingKeys, k)
		p, err := ssotoken.NewVerifyingKey(kid, a.alg, a.priv.Public())
		require.NoError(t, err)
		publicKeys = append(publicKeys, p)
	}
	// The HS256 key sits in the middle and is active: neither hides it.
	ring := krRing(t, hs, signingKeys...)
	raw, err := json.Marshal(ring.JWKS())
	require.NoError(t, err)

	t.Run("document", func(t *testing.T) {
		var doc struct {
			Keys []map[string]string `json:"keys"`
		}
		require.NoError(t, json.Unmarshal(raw, &doc))
		require.Len(t, doc.Keys, 3, "%s", raw)
		b64 := base64.RawURLEncoding.EncodeToString
		rsaPub := asym[0].priv.Public().(*rsa.PublicKey)
		ecPub := asym[1].priv.Public().(*ecdsa.PublicKey)
		edPub := asym[2].priv.Public().(ed25519.PublicKey)
		want := []map[string]string{
			{"kty": "RSA", "kid": "jwks-RS256", "use": "sig", "alg": "RS256", "n": b64(rsaPub.N.Bytes()), "e": "AQAB"},
			{"kty": "EC", "kid": "jwks-ES256", "use": "sig", "alg": "ES256", "crv": "P-256",
				"x": b64(ecPub.X.FillBytes(make([]byte, 32))), "y": b64(ecPub.Y.FillBytes(make([]byte, 32)))},
			{"kty": "OKP", "kid": "jwks-EdDSA", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "x": b64(edPub)},
		}
		assert.Equal(t, want, doc.Keys)

		// Nothing secret: no HMAC secret or its id, no private parameter.
		s := string(raw)
		for _, leak := range []string{
			string(hsSecret), base64.RawURLEncoding.EncodeToString(hsSecret), base64.StdEncoding.EncodeToString(hsSecret),
			"hs-1", `"oct"`, `"k"`, `"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`,
		} {
			assert.NotContains(t, s, leak)
		}
		assert.NotContains(t, s, b64(asym[0].priv.(*rsa.PrivateKey).D.Bytes()))
		assert.NotContains(t, s, b64(asym[1].priv.(*ecdsa.PrivateKey).D.FillBytes(make([]byte, 32))))
		assert.NotContains(t, s, b64(asym[2].priv.(ed25519.PrivateKey).Seed()))
	})

	t.Run("a ring of public keys publishes the same document", func(t *testing.T) {
		pubRing := krRing(t, publicKeys[0], append(publicKeys[1:], krHMAC(t, "hs-2", 'x'))...)
		raw2, err := json.Marshal(pubRing.JWKS())
		require.NoError(t, err)
		assert.JSONEq(t, string(raw), string(raw2))
	})

	kf, err := keyfunc.NewJWKSetJSON(raw)
	require.NoError(t, err, "keyfunc refuses our JWKS: %s", raw)
	all, err := kf.Storage().KeyReadAll(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 3)

	for i, a := range asym {
		t.Run("keyfunc verifies "+string(a.alg), func(t *testing.T) {
			s := krSigner(t, krRing(t, signingKeys[i]), nil)
			resp := krIssue(t, s, "01")
			tok, err := krParse(resp.TokenNo, a.alg, kf.Keyfunc)
			require.NoError(t, err)
			assert.True(t, tok.Valid)
			mc := tok.Claims.(jwt.MapClaims)
			assert.Equal(t, "10001004", mc["CIINo"])
			assert.Equal(t, resp.TokenRefNo[:10], fmt.Sprintf("%.0f", mc["iat"]))

			// A linked LOB can also build its Verifier from the published set.
			jwk, err := kf.Storage().KeyRead(ctx, signingKeys[i].ID())
			require.NoError(t, err)
			pub, err := ssotoken.NewVerifyingKey(jwk.Marshal().KID, ssotoken.Algorithm(jwk.Marshal().ALG.String()), jwk.Key())
			require.NoError(t, err)
			_, err = krVerifier(t, krRing(t, pub), "01").Verify(ctx, resp.TokenNo)
			assert.NoError(t, err)
		})
	}

	t.Run("keyfunc refuses the HS256 key's tokens", func(t *testing.T) {
		resp := krIssue(t, krSigner(t, krRing(t, hs), nil), "01")
		_, err := krParse(resp.TokenNo, ssotoken.HS256, kf.Keyfunc)
		assert.Error(t, err)
	})
	t.Run("keyfunc refuses a key not in the set", func(t *testing.T) {
		k, err := ssotoken.NewSigningKey("jwks-ES256-next", ssotoken.ES256, krEC(t))
		require.NoError(t, err)
		resp := krIssue(t, krSigner(t, krRing(t, k), nil), "01")
		_, err = krParse(resp.TokenNo, ssotoken.ES256, kf.Keyfunc)
		assert.Error(t, err)
	})
}

func TestKeyringJWKSWithoutAsymmetricKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  func(t *testing.T) ssotoken.JWKS
	}{
		{name: "one HS256 key without id", set: func(t *testing.T) ssotoken.JWKS {
			return krRing(t, krHMAC(t, "", 'a')).JWKS()
		}},
		{name: "several HS256 keys", set: func(t *testing.T) ssotoken.JWKS {
			return krRing(t, krHMAC(t, "a", 'a'), krHMAC(t, "b", 'b'), krHMAC(t, "", 'c')).JWKS()
		}},
		{name: "after removing the only asymmetric key", set: func(t *testing.T) ssotoken.JWKS {
			es, err := ssotoken.NewVerifyingKey("es", ssotoken.ES256, krEC(t).Public())
			require.NoError(t, err)
			ring := krRing(t, krHMAC(t, "a", 'a'), es)
			require.Len(t, ring.JWKS().Keys, 1)
			require.NoError(t, ring.Remove("es"))
			return ring.JWKS()
		}},
		{name: "zero JWKS value", set: func(*testing.T) ssotoken.JWKS { return ssotoken.JWKS{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set := tt.set(t)
			raw, err := json.Marshal(set)
			require.NoError(t, err)
			assert.Equal(t, `{"keys":[]}`, string(raw))
			raw, err = json.Marshal(&set)
			require.NoError(t, err)
			assert.Equal(t, `{"keys":[]}`, string(raw))
		})
	}
}

// krCountingSigner stands in for a KMS: a crypto.Signer that is not one
// of the standard library's key types, counting its Sign calls.
type krCountingSigner struct {
	inner crypto.Signer
	calls atomic.Int64
}

func (c *krCountingSigner) Public() crypto.PublicKey { return c.inner.Public() }
func (c *krCountingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	c.calls.Add(1)
	return c.inner.Sign(r, digest, opts)
}

func TestKeyCustomCryptoSigner(t *testing.T) {
	t.Parallel()
	const n = 5
	for _, a := range krAsymmetric(t) {
		t.Run(string(a.alg), func(t *testing.T) {
			t.Parallel()
			kms := &krCountingSigner{inner: a.priv}
			key, err := ssotoken.NewSigningKey("kms-1", a.alg, kms)
			require.NoError(t, err)
			ring := krRing(t, key)
			s := krSigner(t, ring, nil)
			v := krVerifier(t, ring, "01")
			for i := range n {
				resp := krIssue(t, s, "01")
				_, err := v.Verify(context.Background(), resp.TokenNo)
				assert.NoError(t, err, "token %d", i)
				_, err = krParse(resp.TokenNo, a.alg, func(*jwt.Token) (any, error) { return a.priv.Public(), nil })
				assert.NoError(t, err, "golang-jwt, token %d", i)
			}
			assert.Equal(t, int64(n), kms.calls.Load(), "one Sign per Issue, none per Verify")
		})
	}
}

// krFailingSigner wraps a real key (so it holds secret material) but
// answers Sign with sig and err; it records what it was asked to sign.
type krFailingSigner struct {
	inner crypto.Signer
	sig   []byte
	err   error

	mu    sync.Mutex
	asked [][]byte
}

func (f *krFailingSigner) Public() crypto.PublicKey { return f.inner.Public() }
func (f *krFailingSigner) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	f.mu.Lock()
	f.asked = append(f.asked, append([]byte(nil), digest...))
	f.mu.Unlock()
	return f.sig, f.err
}

func TestKeySignerFailure(t *testing.T) {
	t.Parallel()
	rsaKey := krRSA(t)
	ec := krEC(t)
	ed := krEd(t)
	kmsErr := errors.New("kms: throttled")
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		require.NoError(t, err)
		return b
	}
	big384 := new(big.Int).Lsh(big.NewInt(1), 380)
	okDER := der(big.NewInt(1), big.NewInt(1))

	tests := []struct {
		name   string
		alg    ssotoken.Algorithm
		inner  crypto.Signer
		sig    []byte
		err    error
		secret [][]byte // private material that must not show
	}{
		{name: "RS256 signer error", alg: ssotoken.RS256, inner: rsaKey, err: kmsErr, secret: [][]byte{rsaKey.D.Bytes(), rsaKey.Primes[0].Bytes()}},
		{name: "ES256 signer error", alg: ssotoken.ES256, inner: ec, err: kmsErr, secret: [][]byte{ec.D.Bytes()}},
		{name: "EdDSA signer error", alg: ssotoken.EdDSA, inner: ed, err: kmsErr, secret: [][]byte{ed.Seed()}},
		{name: "signer error wrapping a deadline", alg: ssotoken.ES256, inner: ec, err: fmt.Errorf("kms: %w", context.DeadlineExceeded), secret: [][]byte{ec.D.Bytes()}},
		{name: "ES256 signature that is not DER", alg: ssotoken.ES256, inner: ec, sig: []byte("not a signature"), secret: [][]byte{ec.D.Bytes()}},
		{name: "ES256 DER with trailing bytes", alg: ssotoken.ES256, inner: ec, sig: append(okDER, 0), secret: [][]byte{ec.D.Bytes()}},
		{name: "ES256 DER with r = 0", alg: ssotoken.ES256, inner: ec, sig: der(big.NewInt(0), big.NewInt(1)), secret: [][]byte{ec.D.Bytes()}},
		{name: "ES256 DER with negative s", alg: ssotoken.ES256, inner: ec, sig: der(big.NewInt(1), big.NewInt(-1)), secret: [][]byte{ec.D.Bytes()}},
		{name: "ES256 DER with s = 0", alg: ssotoken.ES256, inner: ec, sig: der(big.NewInt(1), big.NewInt(0)), secret: [][]byte{ec.D.Bytes()}},
		{name: "ES256 signature of P-384 size", alg: ssotoken.ES256, inner: ec, sig: der(big384, big384), secret: [][]byte{ec.D.Bytes()}},
		{name: "ES256 empty signature", alg: ssotoken.ES256, inner: ec, sig: []byte{}, secret: [][]byte{ec.D.Bytes()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := &krFailingSigner{inner: tt.inner, sig: tt.sig, err: tt.err}
			key, err := ssotoken.NewSigningKey("kms-1", tt.alg, fs)
			require.NoError(t, err)
			s := krSigner(t, krRing(t, key), nil)

			resp, err := s.Issue(context.Background(), krReq)
			require.Error(t, err)
			assert.Equal(t, ssotoken.Response{}, resp)
			assert.ErrorIs(t, err, ssotoken.ErrUpstream)
			assert.Equal(t, ssotoken.ErrUpstream, ssotoken.KindOf(err))
			assert.Equal(t, ssotoken.CodeSigningFailed, ssotoken.CodeOf(err))
			assert.Equal(t, "the token could not be signed", ssotoken.MessageOf(err))
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err, "the cause is kept for logs")
			}

			text := err.Error()
			fs.mu.Lock()
			asked := fs.asked
			fs.mu.Unlock()
			require.Len(t, asked, 1)
			for _, secret := range append(tt.secret, asked[0]) {
				for _, enc := range []string{
					string(secret), hex.EncodeToString(secret), new(big.Int).SetBytes(secret).String(),
					base64.RawURLEncoding.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret),
				} {
					assert.NotContains(t, text, enc)
				}
			}
			assert.NotContains(t, text, "10001004", "no claim in the error")
		})
	}

	// The failures left no harm in shared scratch space: a good signer
	// still issues tokens that verify.
	t.Run("later issues are unaffected", func(t *testing.T) {
		ring := krRing(t, krHMAC(t, "", 'g'))
		resp := krIssue(t, krSigner(t, ring, nil), "01")
		_, err := krVerifier(t, ring, "01").Verify(context.Background(), resp.TokenNo)
		assert.NoError(t, err)
	})
}

// TestPerLOBKeys: LOB 02 has its own keys, so a token
// minted for one LOB cannot be verified with the other's keys, whatever
// LOBId the verifier is set to; and with the right keys a token for
// another LOB is refused by its LOBId claim.
func TestPerLOBKeys(t *testing.T) {
	t.Parallel()
	ec := krEC(t)
	lobES, err := ssotoken.NewSigningKey("lob02-es", ssotoken.ES256, ec)
	require.NoError(t, err)

	tests := []struct {
		name      string
		def, lob  *ssotoken.Key
		crossCode string // what a token under the other LOB's ring fails with
	}{
		// Same header, so the key is found and the signature fails.
		{name: "HS256 keys without kid", def: krHMAC(t, "", 'd'), lob: krHMAC(t, "", 'l'), crossCode: ssotoken.CodeBadSignature},
		// Same kid in both rings: the signature fails too.
		{name: "HS256 keys with the same kid", def: krHMAC(t, "k1", 'd'), lob: krHMAC(t, "k1", 'l'), crossCode: ssotoken.CodeBadSignature},
		{name: "HS256 keys with their own kids", def: krHMAC(t, "default-1", 'd'), lob: krHMAC(t, "lob02-1", 'l'), crossCode: ssotoken.CodeUnknownKey},
		{name: "ES256 key for LOB 02", def: krHMAC(t, "", 'd'), lob: lobES, crossCode: ssotoken.CodeUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defRing := krRing(t, tt.def)
			lobRing := krRing(t, tt.lob)
			lobKeys := map[string]*ssotoken.Keyring{"02": lobRing}
			s := krSigner(t, defRing, lobKeys)
			// NewSigner keeps its own copy of the map.
			lobKeys["01"] = lobRing
			delete(lobKeys, "02")
			assert.Same(t, lobRing, s.Keys("02"))
			assert.Same(t, defRing, s.Keys("01"))
			assert.Same(t, defRing, s.Keys("03"))

			t01 := krIssue(t, s, "01").TokenNo
			t02 := krIssue(t, s, "02").TokenNo
			wantHeader := map[string]any{"alg": string(tt.lob.Algorithm()), "typ": "JWT"}
			if tt.lob.ID() != "" {
				wantHeader["kid"] = tt.lob.ID()
			}
			assert.Equal(t, wantHeader, krHeader(t, t02), "the LOB 02 token is signed with LOB 02's key")

			cases := []struct {
				name  string
				token string
				ring  *ssotoken.Keyring
				lob   string
				code  string // "" means it verifies
			}{
				{name: "01 token, default ring, LOB 01", token: t01, ring: defRing, lob: "01"},
				{name: "02 token, LOB 02 ring, LOB 02", token: t02, ring: lobRing, lob: "02"},
				{name: "01 token, LOB 02 ring, LOB 02", token: t01, ring: lobRing, lob: "02", code: tt.crossCode},
				{name: "01 token, LOB 02 ring, verifier set to LOB 01", token: t01, ring: lobRing, lob: "01", code: tt.crossCode},
				{name: "02 token, default ring, LOB 02", token: t02, ring: defRing, lob: "02", code: tt.crossCode},
				{name: "02 token, default ring, LOB 01", token: t02, ring: defRing, lob: "01", code: tt.crossCode},
				{name: "01 token, default ring, LOB 02", token: t01, ring: defRing, lob: "02", code: ssotoken.CodeWrongLOB},
				{name: "02 token, LOB 02 ring, LOB 01", token: t02, ring: lobRing, lob: "01", code: ssotoken.CodeWrongLOB},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					claims, err := krVerifier(t, c.ring, c.lob).Verify(context.Background(), c.token)
					if c.code == "" {
						require.NoError(t, err)
						assert.Equal(t, c.lob, claims.LOBId)
						return
					}
					assert.Nil(t, claims)
					assert.ErrorIs(t, err, ssotoken.ErrUnauthorized)
					assert.Equal(t, c.code, ssotoken.CodeOf(err))
				})
			}
		})
	}

	t.Run("NewSigner refuses a LOB ring that cannot sign", func(t *testing.T) {
		t.Parallel()
		pub, err := ssotoken.NewVerifyingKey("pub", ssotoken.ES256, ec.Public())
		require.NoError(t, err)
		def := krRing(t, krHMAC(t, "", 'd'))
		for name, lobKeys := range map[string]map[string]*ssotoken.Keyring{
			"nil ring":         {"02": nil},
			"verify-only ring": {"02": krRing(t, pub)},
		} {
			_, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: def, LOBKeys: lobKeys})
			assert.Error(t, err, name)
		}
	})
}

func TestZeroKeyring(t *testing.T) {
	var ring ssotoken.Keyring // not made by NewKeyring
	assert.Nil(t, ring.Active())
	assert.Empty(t, ring.Keys())
	_, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: &ring})
	assert.Error(t, err, "a zero ring cannot sign")
	_, err = ring.Parse("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.AAAA", jwt.MapClaims{}, ssotoken.ParseOptions{})
	assert.Equal(t, ssotoken.CodeUnknownKey, ssotoken.CodeOf(err), "a zero ring verifies nothing")
	assert.Equal(t, `{"keys":[]}`, mustJSON(t, ring.JWKS()))
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
