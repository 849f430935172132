package cookiesso

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// CodeRoleMissing is the code of a genuine exchanged JWT whose user lacks
// the required role: ErrUnauthorized (401), as the Cookie SSO document
// answers a user without the "Use API" permission.
const CodeRoleMissing = "role_missing"

// AuthenticatorConfig configures NewAuthenticator. Keys is required.
type AuthenticatorConfig struct {
	// Keys verifies the exchanged JWT: the Exchanger's ring (or, on
	// another service, its verification keys). Required.
	Keys *ssotoken.Keyring
	// Issuer and Audience must equal the JWT's "iss" and "aud". Empty
	// means DefaultIssuer and DefaultAudience, as for the Exchanger.
	Issuer, Audience string
	// Role is the role every call needs. Empty means DefaultRole
	// ("Use API").
	Role string
	// Leeway is the clock skew allowed on "exp" and "iat", at most
	// ssotoken.MaxLeeway. Zero means none.
	Leeway time.Duration
	// MaxTokenBytes caps the token. Zero means
	// ssotoken.DefaultMaxTokenBytes (8 KiB).
	MaxTokenBytes int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Authenticator authenticates the API calls that carry an exchanged JWT
// as "Authorization: Bearer": the signature under its own keys (the
// algorithm pinned per key), "exp" (required), "iat", "iss", "aud" and
// "sub", then the role. It is an ssotoken.Authenticator, safe for
// concurrent use.
type Authenticator struct {
	keys     *ssotoken.Keyring
	iss, aud string
	role     string
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
	}
	a := &Authenticator{
		keys: cfg.Keys, iss: cfg.Issuer, aud: cfg.Audience, role: cfg.Role,
		leeway: cfg.Leeway, max: cfg.MaxTokenBytes, now: cfg.Now,
	}
	if a.iss == "" {
		a.iss = DefaultIssuer
	}
	if a.aud == "" {
		a.aud = DefaultAudience
	}
	if a.role == "" {
		a.role = DefaultRole
	}
	if a.max == 0 {
		a.max = ssotoken.DefaultMaxTokenBytes
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

func unauthorized(code, msg string) error {
	return ssotoken.NewError(ssotoken.ErrUnauthorized, code, msg, nil)
}

var (
	errTooLarge      = unauthorized(ssotoken.CodeTokenTooLarge, "the token is too large")
	errMalformed     = unauthorized(ssotoken.CodeClaimsMalformed, "the token's claims are malformed")
	errExpMissing    = unauthorized(ssotoken.CodeExpMissing, "the token has no expiry")
	errExpired       = unauthorized(ssotoken.CodeTokenExpired, "the token has expired")
	errNotYetValid   = unauthorized(ssotoken.CodeTokenNotYetValid, "the token is not valid yet")
	errWrongIssuer   = unauthorized(ssotoken.CodeWrongIssuer, "the token's issuer is not accepted")
	errWrongAudience = unauthorized(ssotoken.CodeWrongAudience, "the token's audience is not accepted")
	errNoSubject     = unauthorized(CodeCookieInvalid, "the token names no user")
	errRoleMissing   = unauthorized(CodeRoleMissing, "the user lacks the role this API needs")
)

// Authenticate implements ssotoken.Authenticator.
func (a *Authenticator) Authenticate(_ context.Context, token string) (*ssotoken.Principal, error) {
	if len(token) > a.max {
		return nil, errTooLarge
	}
	b := bufPool.Get().(*[]byte)
	defer bufPool.Put(b)
	payload, _, err := ssotoken.ParseJWS((*b)[:0], a.keys, token)
	*b = payload[:0]
	if err != nil {
		return nil, err
	}
	var c jwtClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errMalformed
	}
	now := a.now()
	switch {
	case c.ExpiresAt == 0:
		return nil, errExpMissing
	case !now.Before(time.Unix(c.ExpiresAt, 0).Add(a.leeway)):
		return nil, errExpired
	case c.IssuedAt != 0 && now.Before(time.Unix(c.IssuedAt, 0).Add(-a.leeway)):
		return nil, errNotYetValid
	case c.Issuer != a.iss:
		return nil, errWrongIssuer
	case c.Audience != a.aud:
		return nil, errWrongAudience
	case c.Subject == "":
		return nil, errNoSubject
	case !slices.Contains(c.Roles, a.role):
		return nil, errRoleMissing
	}
	return &ssotoken.Principal{
		Subject:   c.Subject,
		Username:  c.Subject,
		TokenUse:  "cookiesso",
		Issuer:    c.Issuer,
		Groups:    c.Roles,
		ExpiresAt: time.Unix(c.ExpiresAt, 0),
		Claims:    json.RawMessage(slices.Clone(payload)),
	}, nil
}
