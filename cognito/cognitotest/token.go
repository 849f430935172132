package cognitotest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/cognito"
)

// A TokenOption changes one token: its claims (With, Without, Claims) or
// its key (SignWith). Options apply in order, the pool's Defaults first.
type TokenOption struct{ apply func(*mint) }

// mint is a token being made.
type mint struct {
	claims map[string]any
	kid    string
}

// With sets the claim name to value, adding it or replacing the pool's:
// With("custom:ciino", "10001004"), With("cognito:groups",
// []string{"admin"}), With("exp", p.Now().Add(-time.Minute)). A time.Time
// is written as seconds since the epoch, as "exp", "iat" and "auth_time"
// are; any other value as encoding/json writes it (nil as null).
func With(name string, value any) TokenOption {
	if t, ok := value.(time.Time); ok {
		value = t.Unix()
	}
	return TokenOption{func(m *mint) { m.claims[name] = value }}
}

// Without removes the claims names: Without("exp").
func Without(names ...string) TokenOption {
	return TokenOption{func(m *mint) {
		for _, n := range names {
			delete(m.claims, n)
		}
	}}
}

// Claims sets every claim of claims, as With does for each.
func Claims(claims map[string]any) TokenOption {
	claims = maps.Clone(claims)
	return TokenOption{func(m *mint) {
		for name, v := range claims {
			With(name, v).apply(m)
		}
	}}
}

// SignWith signs the token with the pool's key kid (from Rotate or AddKey,
// published or not) instead of the signing key.
func SignWith(kid string) TokenOption {
	return TokenOption{func(m *mint) { m.kid = kid }}
}

// AccessToken returns an access token of the pool, as Cognito mints it,
// changed by opts. It fails t if the token cannot be signed.
//
// Its claims are "sub", "cognito:groups" (when the user is in a group),
// "iss", "version" (2), "client_id", "origin_jti", "event_id",
// "token_use" ("access"), "scope" (when there are scopes), "auth_time",
// "exp", "iat", "jti" and "username".
func (p *Pool) AccessToken(t testing.TB, opts ...TokenOption) string {
	t.Helper()
	tok, err := p.Token(cognito.TokenUseAccess, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// IDToken returns an ID token of the pool, as Cognito mints it, changed by
// opts. It fails t if the token cannot be signed.
//
// Its claims are "sub", "cognito:groups" (when the user is in a group),
// "email_verified" (true), "iss", "cognito:username", "origin_jti", "aud"
// (the app client), "event_id", "token_use" ("id"), "auth_time", "exp",
// "iat", "jti" and "email". A pool's custom attributes ("custom:ciino")
// come from Defaults or With.
func (p *Pool) IDToken(t testing.TB, opts ...TokenOption) string {
	t.Helper()
	tok, err := p.Token(cognito.TokenUseID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Token returns a token of the pool, changed by opts, for code that has no
// testing.TB (a dev mode, an Example): use is cognito.TokenUseAccess or
// cognito.TokenUseID, which give the claims of AccessToken and IDToken.
// It fails for another use, a kid the pool does not have, or a claim that
// encoding/json cannot write.
func (p *Pool) Token(use string, opts ...TokenOption) (string, error) {
	m := &mint{claims: p.claims(use)}
	if m.claims == nil {
		return "", fmt.Errorf("cognitotest: token use %q is neither %q nor %q", use, cognito.TokenUseAccess, cognito.TokenUseID)
	}
	p.mu.Lock()
	m.kid = p.signing
	p.mu.Unlock()
	for _, o := range p.defaults {
		if o.apply != nil {
			o.apply(m)
		}
	}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(m)
		}
	}
	key := p.PrivateKey(m.kid)
	if key == nil {
		return "", errors.New("cognitotest: the pool has no key " + m.kid)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(m.claims))
	delete(t.Header, "typ") // Cognito's header is {"kid":...,"alg":"RS256"}
	t.Header["kid"] = m.kid
	tok, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("cognitotest: %w", err)
	}
	return tok, nil
}

// claims returns the claims Cognito puts in a token of use, now, or nil
// for an unknown use.
func (p *Pool) claims(use string) map[string]any {
	now := p.now().Unix()
	c := map[string]any{
		"sub":        p.subject,
		"iss":        p.issuer,
		"origin_jti": uuid(),
		"event_id":   uuid(),
		"token_use":  use,
		"auth_time":  now,
		"iat":        now,
		"exp":        now + int64(p.lifetime/time.Second),
		"jti":        uuid(),
	}
	if len(p.groups) > 0 {
		c["cognito:groups"] = p.groups
	}
	switch use {
	case cognito.TokenUseAccess:
		c["version"] = 2
		c["client_id"] = p.clientID
		c["username"] = p.username
		if len(p.scopes) > 0 {
			c["scope"] = strings.Join(p.scopes, " ")
		}
	case cognito.TokenUseID:
		c["aud"] = p.clientID
		c["cognito:username"] = p.username
		c["email"] = p.email
		c["email_verified"] = true
	default:
		return nil
	}
	return c
}

// uuid returns a random UUID (version 4), as Cognito's "jti", "origin_jti"
// and "event_id" are.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
