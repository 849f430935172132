package cognito

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/ssotoken"
)

// FuzzAuthenticate feeds arbitrary strings to a static Authenticator: it
// must never panic, and must only ever return an *ssotoken.Error of kind
// ErrUnauthorized or ErrForbidden (a static key set is never unavailable).
// The checked-in corpus is in testdata/fuzz/FuzzAuthenticate.
func FuzzAuthenticate(f *testing.F) {
	k := getKeys(f)
	f.Add(sign(f, k.k1, "k1", accessClaims()))
	f.Add(sign(f, k.k1, "k1", idClaims()))
	f.Add(sign(f, k.k1, "k1", with(accessClaims(), "exp", nil)))
	f.Add(sign(f, k.other, "k1", accessClaims()))
	f.Add(signRaw(f, k.k1, `{"alg":"RS256","kid":"k1"}`, `{"exp":1e400,"iss":["x"]}`))
	f.Add(signRaw(f, nil, `{"alg":"none"}`, `{}`))
	f.Add("..")
	a, err := NewStatic(baseConfig(), jwksJSON(f, jwkOf(f, k.k1, "k1")))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := a.Authenticate(context.Background(), token)
		if err == nil {
			if p == nil || p.Issuer != testIssuer || p.ClientID != testClient {
				t.Fatalf("accepted a token without the right issuer or client: %+v", p)
			}
			return
		}
		var e *ssotoken.Error
		if !errors.As(err, &e) {
			t.Fatalf("not an *ssotoken.Error: %T %v", err, err)
		}
		if e.Kind() != ssotoken.ErrUnauthorized && e.Kind() != ssotoken.ErrForbidden {
			t.Fatalf("kind %v for garbage: %v", e.Kind(), err)
		}
		if len(token) > 8 && strings.Contains(err.Error(), token) {
			t.Fatalf("the error quotes the token")
		}
	})
}

// FuzzParseClaims holds the claims decoder (golang-jwt's json.Unmarshal
// into claims, under the JSON policy) against encoding/json: whatever it
// accepts is one JSON object with no name twice and no case variant of a
// claim it reads, and the claims it reads are the ones encoding/json reads.
func FuzzParseClaims(f *testing.F) {
	for _, m := range []map[string]any{accessClaims(), idClaims()} {
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte(`{"token\u005fuse":"acc\u0065ss","exp":1.5e9,"cognito:groups":[],"custom:a":"\ud83d\ude00"}`))
	f.Add([]byte(`{"a":[{"b":[1,2,{"c":null}]}],"exp":-0.0,"sub":"\u0000","nbf":0.25,"iat":-1.5}`))
	f.Add([]byte(`{"aud":["a","b"],"custom:x":"1","custom:x":2}`))
	f.Add([]byte(`{"cognito:groups":["a",null],"Client_id":"x"}`))
	f.Add([]byte(` { } `))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := newClaims()
		if json.Unmarshal(b, c) != nil || c.Decode() != nil {
			return
		}
		if !json.Valid(b) || string(c.Raw()) != strings.TrimSpace(string(b)) {
			t.Fatalf("accepted %q, kept %q", b, c.Raw())
		}
		// Claim names are case-sensitive (RFC 7519 section 4), so the
		// reference is a map, not encoding/json's case-folding struct fields.
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatalf("encoding/json refuses what was accepted: %v", err)
		}
		for name := range ref {
			for _, k := range claimNames {
				if name != k && strings.EqualFold(name, k) {
					t.Fatalf("accepted %q beside the claim %q", name, k)
				}
			}
		}
		str := func(name string) (string, bool) {
			var s string
			raw, ok := ref[name]
			if ok && json.Unmarshal(raw, &s) != nil {
				t.Fatalf("%s: accepted %s", name, raw)
			}
			return s, ok
		}
		for name, got := range map[string]string{"iss": c.Issuer, "sub": c.Subject, "token_use": c.tokenUse, "client_id": c.clientID, "scope": c.scope, "username": c.username, "cognito:username": c.cognitoUsername} {
			if want, _ := str(name); got != want {
				t.Fatalf("%s: read %q, encoding/json %q", name, got, want)
			}
		}
		strs := func(name string, got []string) {
			raw, ok := ref[name]
			if !ok {
				if got != nil {
					t.Fatalf("%s: read %q from nothing", name, got)
				}
				return
			}
			var want []any
			if json.Unmarshal(raw, &want) != nil {
				var s string
				if json.Unmarshal(raw, &s) != nil || name != "aud" {
					t.Fatalf("%s: accepted %s", name, raw)
				}
				want = []any{s}
			}
			if len(want) != len(got) {
				t.Fatalf("%s: read %q, encoding/json %q", name, got, want)
			}
			for i := range want {
				if s, ok := want[i].(string); !ok || s != got[i] {
					t.Fatalf("%s: read %q, encoding/json %q", name, got, want)
				}
			}
		}
		strs("aud", c.Audience)
		strs("cognito:groups", c.groups)
		for name := range ref {
			if strings.HasPrefix(name, attrPrefix) {
				if want, _ := str(name); c.attrs[name] != want {
					t.Fatalf("%s: read %q, encoding/json %q", name, c.attrs[name], want)
				}
			}
		}
		if len(c.attrs) > len(ref) {
			t.Fatalf("attributes %q from %s", c.attrs, b)
		}
		for name, d := range map[string]struct {
			set   bool
			got   time.Time
			round func(float64) float64
		}{"exp": {c.HasExp, time.Unix(c.ExpiresAt, 0), math.Floor}, "nbf": {c.HasNbf, time.Unix(c.NotBefore, 0), math.Ceil}, "iat": {c.HasIat, time.Unix(c.IssuedAt, 0), math.Ceil}} {
			raw, ok := ref[name]
			if d.set != ok {
				t.Fatalf("%s set %v, present %v", name, d.set, ok)
			}
			if !ok {
				continue
			}
			var want float64
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := float64(d.got.Unix()); got != d.round(want) && math.Abs(got-d.round(want)) > 1e-9*math.Abs(want) {
				t.Fatalf("%s %v, encoding/json %v", name, got, want)
			}
		}
	})
}

// FuzzDifferential signs mutated headers and claim sets with the pool's
// key and holds Authenticate against golang-jwt's plain jwt.Parse (RS256
// only, the same public key, the same clock): whatever Authenticate
// accepts, jwt.Parse accepts too (with "iat" checked), with the same
// claims, and its header and claims are UTF-8 JSON. The checked-in corpus
// (testdata/fuzz/FuzzDifferential) holds the malformed shapes, so that a
// plain go test replays them.
func FuzzDifferential(f *testing.F) {
	k := getKeys(f)
	now := testNow.Unix()
	header := `{"kid":"k1","alg":"RS256"}`
	for _, m := range []map[string]any{
		accessClaims(), idClaims(),
		with(accessClaims(), "exp", float64(now)+0.5),
		with(accessClaims(), "nbf", float64(now)+0.5, "iat", float64(now)-0.5),
		with(idClaims(), "aud", []string{testClient}),
		with(idClaims(), "custom:n", 5),
		with(accessClaims(), "scope", "openid\tprofile  email"),
		with(accessClaims(), "exp", 0),
	} {
		b, _ := json.Marshal(m)
		f.Add(header, string(b))
	}
	f.Add(`{"alg":"RS256","kid":"k1","alg":"RS256"}`, `{"exp":1700003600}`)
	f.Add(`{"alg":"RS256","kid":"k1","typ":"JWT","cty":"x"}`, `{"token_use":"access","client_id":"client-one","exp":1700003600,"EXP":1}`)
	f.Add(header, `{"token_use":"id","aud":"client-one","iss":"`+testIssuer+`","exp":1.7000036e9,"custom:a":"1","custom:a":"2"}`)

	var auths []*Authenticator
	for _, use := range []string{TokenUseAccess, TokenUseID} {
		cfg := baseConfig()
		cfg.TokenUse = use
		cfg.DisableCache = true
		a, err := NewStatic(cfg, jwksJSON(f, jwkOf(f, k.k1, "k1")))
		if err != nil {
			f.Fatal(err)
		}
		auths = append(auths, a)
	}
	pub := &k.k1.PublicKey
	f.Fuzz(func(t *testing.T, header, payload string) {
		tok := signRaw(t, k.k1, header, payload)
		for _, a := range auths {
			p, err := a.Authenticate(context.Background(), tok)
			if err != nil {
				continue
			}
			if !utf8.ValidString(header) || !utf8.ValidString(payload) || !json.Valid([]byte(header)) || !json.Valid([]byte(payload)) {
				t.Fatalf("accepted a token that is not UTF-8 JSON: %q.%q", header, payload)
			}
			ref, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil },
				jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(baseConfig().Now), jwt.WithIssuedAt())
			if err != nil {
				t.Fatalf("accepted, and golang-jwt refuses it: %v\nheader %s\npayload %s", err, header, payload)
			}
			mc := ref.Claims.(jwt.MapClaims)
			for name, got := range map[string]string{"sub": p.Subject, "iss": p.Issuer, "token_use": p.TokenUse} {
				if want, _ := mc[name].(string); got != want {
					t.Fatalf("%s: %q, golang-jwt %q", name, got, want)
				}
			}
			client, _ := mc["client_id"].(string)
			if p.TokenUse == TokenUseID {
				client, _ = mc["aud"].(string)
			}
			if user, _ := mc["username"].(string); p.Username != user && p.Username != mc["cognito:username"] {
				t.Fatalf("username %q, golang-jwt %v", p.Username, mc)
			}
			scope, _ := mc["scope"].(string)
			groups, _ := mc["cognito:groups"].([]any)
			exp, err := mc.GetExpirationTime()
			switch {
			case p.ClientID != client:
				t.Fatalf("client %q, golang-jwt %q", p.ClientID, client)
			case !slices.Equal(p.Scopes, splitScope(scope)):
				t.Fatalf("scopes %q, golang-jwt %q", p.Scopes, scope)
			case len(groups) != len(p.Groups):
				t.Fatalf("groups %q, golang-jwt %v", p.Groups, groups)
			case err != nil || exp == nil:
				t.Fatalf("golang-jwt's exp: %v %v", exp, err)
			case math.Abs(float64(exp.Unix()-p.ExpiresAt.Unix())) > 1e-9*math.Abs(float64(exp.Unix())):
				t.Fatalf("exp %v, golang-jwt %v", p.ExpiresAt.Unix(), exp.Unix())
			}
			for i, g := range groups {
				if g != p.Groups[i] {
					t.Fatalf("groups %q, golang-jwt %v", p.Groups, groups)
				}
			}
			for name, v := range p.Attributes {
				if mc[name] != v {
					t.Fatalf("%s: %q, golang-jwt %v", name, v, mc[name])
				}
			}
			for name, v := range mc {
				if _, ok := v.(string); ok && strings.HasPrefix(name, attrPrefix) && p.Attributes[name] != v {
					t.Fatalf("%s: %q, golang-jwt %v", name, p.Attributes[name], v)
				}
			}
		}
	})
}

// FuzzJWKS feeds JWKS documents to the key store, as jwkset delivers them:
// no panic, and every key kept is one that may verify RS256 tokens, under
// a kid that one key of the document alone holds.
func FuzzJWKS(f *testing.F) {
	k := getKeys(f)
	good := jwkOf(f, k.k1, "k1")
	enc := good
	enc.USE = jwkset.UseEnc
	f.Add(jwksJSON(f, good))
	f.Add(jwksJSON(f, good, jwkOf(f, k.k2, "k1")))
	f.Add(jwksJSON(f, enc, jwkOf(f, k.small, "small"), jwkOf(f, k.k2, "k2")))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA","kid":"o"},{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"r"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		a, err := NewStatic(baseConfig(), doc)
		if err != nil {
			return
		}
		// The keys jwkset reads from the document; it skips entries of a
		// key type it does not support (no such entry can verify RS256).
		parsed, err := parseStatic(doc)
		if err != nil {
			t.Fatalf("NewStatic accepted %q, which jwkset refuses: %v", doc, err)
		}
		store := a.pools[0].store
		kept, _ := store.KeyReadAll(context.Background())
		if len(kept) != len(*store.keys.Load()) {
			t.Fatalf("%d keys stored, %d indexed", len(kept), len(*store.keys.Load()))
		}
		for _, j := range kept {
			// The rules of a usable key, read from the key itself, not
			// through usable: an RSA key of 2048 to 8192 bits, for
			// signatures (use), RS256 (alg) and verify (key_ops) when
			// they are named, and a kid.
			m := j.Marshal()
			pub, isRSA := j.Key().(*rsa.PublicKey)
			switch {
			case m.KTY != jwkset.KtyRSA || !isRSA || pub.N.BitLen() < 2048 || pub.N.BitLen() > 8192,
				m.USE != "" && m.USE != jwkset.UseSig,
				m.ALG != "" && m.ALG != jwkset.AlgRS256,
				len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify),
				m.KID == "":
				t.Fatalf("kept a key that may not verify RS256 tokens: %+v", m)
			}
			n := 0
			for _, key := range parsed {
				if key.Marshal().KID == j.Marshal().KID {
					n++
				}
			}
			if n > 1 {
				t.Fatalf("kept kid %q, which the document holds %d times", j.Marshal().KID, n)
			}
		}
	})
}
