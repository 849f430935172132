package ssotoken

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Principal is the authenticated caller: who presented a bearer token and
// what it grants. Authenticators fill in what their token class carries; a
// field the token does not carry is left zero.
//
// A Principal returned by an Authenticator may be shared between calls (a
// cache may hand out the same one twice): treat it as read-only.
type Principal struct {
	Subject  string // "sub": the stable user id
	Username string // "username" or "cognito:username"
	ClientID string // the app client the token was issued to ("client_id" or "aud")
	TokenUse string // the token class, for example "access" or "id"
	Issuer   string // "iss"

	Scopes     []string          // OAuth scopes ("scope", space separated)
	Groups     []string          // groups or roles ("cognito:groups", "roles")
	Attributes map[string]string // custom string attributes ("custom:..." for Cognito), keyed by full claim name

	ExpiresAt time.Time       // "exp"
	Claims    json.RawMessage // the token's whole claim set, as sent
}

// HasScope reports whether the principal carries scope s.
func (p *Principal) HasScope(s string) bool { return slices.Contains(p.Scopes, s) }

// InGroup reports whether the principal is in group (or has role) g.
func (p *Principal) InGroup(g string) bool { return slices.Contains(p.Groups, g) }

// Claim decodes the named claim of the raw claim set into v, and reports
// whether the claim was present and decoded.
func (p *Principal) Claim(name string, v any) bool {
	var m map[string]json.RawMessage
	if len(p.Claims) == 0 || json.Unmarshal(p.Claims, &m) != nil {
		return false
	}
	raw, ok := m[name]
	return ok && json.Unmarshal(raw, v) == nil
}

// StringClaim returns the named claim when it is a JSON string. It looks in
// Attributes first and then in the raw claim set.
func (p *Principal) StringClaim(name string) (string, bool) {
	if v, ok := p.Attributes[name]; ok {
		return v, true
	}
	var s string
	ok := p.Claim(name, &s)
	return s, ok
}

// Authenticator validates a bearer token and returns the principal it
// names. cognito.Authenticator and cookiesso's authenticator are
// Authenticators. Implementations are safe for concurrent use.
//
// The token is the raw credential, without any "Bearer " prefix. A failure
// is an error of this package's taxonomy: ErrUnauthorized for a token that
// is not valid, ErrForbidden for a valid token that lacks a required
// permission, ErrUpstream or ErrTimeout when validation could not be done.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*Principal, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(ctx context.Context, token string) (*Principal, error)

// Authenticate calls f(ctx, token).
func (f AuthenticatorFunc) Authenticate(ctx context.Context, token string) (*Principal, error) {
	return f(ctx, token)
}
