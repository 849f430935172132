package cognito

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

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
		if e.Kind != ssotoken.ErrUnauthorized && e.Kind != ssotoken.ErrForbidden {
			t.Fatalf("kind %v for garbage: %v", e.Kind, err)
		}
		if len(token) > 8 && strings.Contains(err.Error(), token) {
			t.Fatalf("the error quotes the token")
		}
	})
}

// FuzzParseClaims checks the claim reader against encoding/json: whatever
// it accepts is valid JSON, and the claims it reads are the ones
// encoding/json reads.
func FuzzParseClaims(f *testing.F) {
	for _, m := range []map[string]any{accessClaims(), idClaims()} {
		b, _ := json.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte(`{"token\u005fuse":"acc\u0065ss","exp":1.5e9,"cognito:groups":[],"custom:a":"\ud83d\ude00"}`))
	f.Add([]byte(`{"a":[{"b":[1,2,{"c":null}]}],"exp":-0.0,"sub":"\u0000"}`))
	f.Add([]byte(` { } `))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c claims
		if parseClaims(b, string(b), &c) != parseOK {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		// Claim names are case-sensitive (RFC 7519 section 4), so the
		// reference is a map, not encoding/json's case-folding struct fields.
		var ref map[string]json.RawMessage
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatalf("encoding/json refuses what was accepted: %v", err)
		}
		for name, got := range map[string]string{"iss": c.iss, "sub": c.sub, "aud": c.aud, "token_use": c.tokenUse, "client_id": c.clientID, "scope": c.scope, "username": c.username} {
			raw, ok := ref[name]
			if !ok {
				if got != "" {
					t.Fatalf("%s: read %q from nothing", name, got)
				}
				continue
			}
			var want string
			if err := json.Unmarshal(raw, &want); err != nil || got != want {
				t.Fatalf("%s: read %q, encoding/json %q (%v)", name, got, want, err)
			}
		}
		var groups []string
		if raw, ok := ref["cognito:groups"]; ok {
			if err := json.Unmarshal(raw, &groups); err != nil {
				t.Fatalf("groups: %v", err)
			}
		}
		if strings.Join(groups, "\x00") != strings.Join(c.groups, "\x00") || len(groups) != len(c.groups) {
			t.Fatalf("groups %q, encoding/json %q", c.groups, groups)
		}
		for name, got := range c.attrs {
			var want string
			if err := json.Unmarshal(ref[name], &want); err != nil || got != want {
				t.Fatalf("%s: read %q, encoding/json %q", name, got, want)
			}
		}
		raw, ok := ref["exp"]
		if c.exp.set != ok {
			t.Fatalf("exp set %v, present %v", c.exp.set, ok)
		}
		if ok {
			var want float64
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("exp: %v", err)
			}
			if got := float64(c.exp.t.Unix()) + float64(c.exp.t.Nanosecond())/1e9; math.Abs(got-want) > 1e-3*math.Max(1, math.Abs(want)) {
				t.Fatalf("exp %v, encoding/json %v", got, want)
			}
		}
	})
}
