package cookiesso

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// CodeRoleMissing is the code of a genuine exchanged JWT whose user lacks
// every accepted role: ErrUnauthorized (401), as the Cookie SSO document
// answers a user without the "Use API" (USE_API) permission.
const CodeRoleMissing = "role_missing"

// The role later API calls need, in the Cookie SSO document's two
// spellings: "Use API" in its permissions note, USE_API in its list of
// responses. An Authenticator accepts either unless
// AuthenticatorConfig.Roles says otherwise.
const (
	DefaultRole      = "Use API" // the permissions note's spelling
	DefaultRoleAlias = "USE_API" // the responses' spelling
)

// DefaultRoles returns the roles an Authenticator accepts by default,
// DefaultRole and DefaultRoleAlias, in a new slice.
func DefaultRoles() []string { return []string{DefaultRole, DefaultRoleAlias} }

// AuthenticatorConfig configures NewAuthenticator. Keys is required.
type AuthenticatorConfig struct {
	// Keys verifies the exchanged JWT: the Exchanger's ring (or, on
	// another service, its verification keys). Required.
	Keys *ssotoken.Keyring
	// Issuer and Audience must equal the JWT's "iss" and "aud". Empty
	// means DefaultIssuer and DefaultAudience, as for the Exchanger.
	Issuer, Audience string
	// Roles are the roles a call may carry: it needs any one of them.
	// Empty means DefaultRoles(), "Use API" or "USE_API". An empty
	// string among them is refused. The slice is copied.
	Roles []string
	// Leeway is the clock skew allowed on "exp" and "iat", at most
	// ssotoken.MaxLeeway (MaxLeeway itself is accepted). Zero means none.
	// A token is expired from "exp" + Leeway on, and not yet valid while
	// now + Leeway is before "iat".
	Leeway time.Duration
	// MaxTokenBytes caps the token: a token of exactly MaxTokenBytes
	// bytes is read, one byte more is ssotoken.ErrTokenTooLarge. Zero
	// means ssotoken.DefaultMaxTokenBytes (8 KiB).
	MaxTokenBytes int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Authenticator authenticates the API calls that carry an exchanged JWT
// as "Authorization: Bearer": the signature under its own keys (the
// algorithm pinned per key), "exp" (required), "iat", "iss", "aud" and
// "sub", then the role (any one of AuthenticatorConfig.Roles). It is an ssotoken.Authenticator, safe for
// concurrent use.
type Authenticator struct {
	keys     *ssotoken.Keyring
	iss, aud string
	roles    []string
	leeway   time.Duration
	max      int
	now      func() time.Time
}

var _ ssotoken.Authenticator = (*Authenticator)(nil)

// NewAuthenticator returns an Authenticator for cfg.
func NewAuthenticator(cfg AuthenticatorConfig) (*Authenticator, error) {
	switch {
	case cfg.Keys == nil:
		return nil, errors.New("cookiesso: AuthenticatorConfig.Keys is required")
	case cfg.Leeway < 0 || cfg.Leeway > ssotoken.MaxLeeway:
		return nil, errors.New("cookiesso: AuthenticatorConfig.Leeway must be between 0 and 5m")
	case cfg.MaxTokenBytes < 0:
		return nil, errors.New("cookiesso: AuthenticatorConfig.MaxTokenBytes must not be negative")
	case slices.Contains(cfg.Roles, ""):
		return nil, errors.New("cookiesso: AuthenticatorConfig.Roles has an empty role")
	}
	roles := slices.Clone(cfg.Roles)
	if len(roles) == 0 {
		roles = DefaultRoles()
	}
	a := &Authenticator{
		keys:   cfg.Keys,
		iss:    cmp.Or(cfg.Issuer, DefaultIssuer),
		aud:    cmp.Or(cfg.Audience, DefaultAudience),
		roles:  roles,
		leeway: cfg.Leeway,
		max:    cmp.Or(cfg.MaxTokenBytes, ssotoken.DefaultMaxTokenBytes),
		now:    cfg.Now,
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

var (
	errNoSubject   = cookieUnauthorized(CodeCookieInvalid, "the token names no user")
	errRoleMissing = cookieUnauthorized(CodeRoleMissing, "the user lacks the role this API needs")
)

// Authenticate implements ssotoken.Authenticator: Keyring.Parse's checks
// (golang-jwt, the module's JSON policy, the signature, "exp" required,
// "iat" and "nbf" with Leeway, the issuer and audience), then a subject
// and one of the accepted roles (CodeRoleMissing otherwise).
func (a *Authenticator) Authenticate(_ context.Context, token string) (*ssotoken.Principal, error) {
	if len(token) > a.max {
		return nil, ssotoken.ErrTokenTooLarge
	}
	c := newUserClaims()
	if _, err := a.keys.Parse(token, c, ssotoken.ParseOptions{Leeway: a.leeway, Now: a.now, Issuer: a.iss, Audience: a.aud}); err != nil {
		return nil, err
	}
	switch {
	case c.Subject == "":
		return nil, errNoSubject
	case !slices.ContainsFunc(c.Roles, func(r string) bool { return slices.Contains(a.roles, r) }):
		return nil, errRoleMissing
	}
	return c.principal("cookiesso"), nil
}
