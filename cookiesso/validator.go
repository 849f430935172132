package cookiesso

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssotoken"
)

// Validator checks an SSO cookie's value and returns the user it names,
// with the user's roles in Principal.Groups. Implementations are safe for
// concurrent use.
//
// A value that is not of the expected form is an ErrBadRequest error
// (400, as the Cookie SSO document has it for an ill-formatted cookie); a
// well-formed value with a bad signature, past its expiry or otherwise not
// valid is ErrUnauthorized (401).
type Validator interface {
	Validate(ctx context.Context, value string) (*ssotoken.Principal, error)
}

// ValidatorFunc adapts a function to the Validator interface.
type ValidatorFunc func(ctx context.Context, value string) (*ssotoken.Principal, error)

// Validate calls f(ctx, value).
func (f ValidatorFunc) Validate(ctx context.Context, value string) (*ssotoken.Principal, error) {
	return f(ctx, value)
}

// Codes of the cookie's refusals.
const (
	CodeCookieMissing      = "cookie_missing"       // no cookie of the configured name, or an empty one (400)
	CodeCookieTooLarge     = "cookie_too_large"     // over MaxCookieBytes (400)
	CodeCookieMalformed    = "cookie_malformed"     // not of the expected form (400)
	CodeCookieBadSignature = "cookie_bad_signature" // well formed, signature not valid (401)
	CodeCookieExpired      = "cookie_expired"       // past "exp" plus leeway (401)
	CodeCookieInvalid      = "cookie_invalid"       // well formed and signed, claims not acceptable (401)
)

// The cookie's refusals, one per code above. A Validator of its own
// returns ErrCookieMalformed for a value that is not of its form and
// ErrCookieBadSignature or ErrCookieExpired where they apply, so that the
// exchange answers 400 and 401 as the Cookie SSO document has them.
var (
	ErrCookieMissing      = ssotoken.NewError(ssotoken.ErrBadRequest, CodeCookieMissing, "no SSO cookie was sent", nil)
	ErrCookieTooLarge     = ssotoken.NewError(ssotoken.ErrBadRequest, CodeCookieTooLarge, "the SSO cookie is too large", nil)
	ErrCookieMalformed    = ssotoken.NewError(ssotoken.ErrBadRequest, CodeCookieMalformed, "the SSO cookie is ill-formatted", nil)
	ErrCookieBadSignature = cookieUnauthorized(CodeCookieBadSignature, "the SSO cookie's signature is not valid")
	ErrCookieExpired      = cookieUnauthorized(CodeCookieExpired, "the SSO cookie has expired")
)

var errCookieNoUser = cookieUnauthorized(CodeCookieInvalid, "the SSO cookie names no user")

func cookieUnauthorized(code, msg string) *ssotoken.Error {
	return ssotoken.NewError(ssotoken.ErrUnauthorized, code, msg, nil)
}

// HMACValidatorConfig configures NewHMACValidator.
type HMACValidatorConfig struct {
	// Secret is the cookie's HS256 key, at least 32 bytes. It must be the
	// cookie's own: never the key of the exchanged JWT or of TokenNo.
	// Required.
	Secret []byte
	// KeyID is the "kid" the cookie's header carries, for issuers that
	// name their keys. Empty means the header has no "kid".
	KeyID string
	// Issuer and Audience, when set, must equal the cookie's "iss" and
	// "aud".
	Issuer, Audience string
	// Leeway is the clock skew allowed on "exp", "nbf" and "iat", at most
	// ssotoken.MaxLeeway (MaxLeeway itself is accepted). Zero means none.
	// A cookie is expired from "exp" + Leeway on (without leeway, one
	// whose "exp" is now is refused), and not yet valid while now +
	// Leeway is before "nbf" or "iat".
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// userClaims are the claims of a JWT cookie and of the exchanged JWT: the
// registered ones and "roles", decoded under the module's JSON policy
// after the signature (see jose.Registered).
type userClaims struct {
	jose.Registered
	Roles []string
}

var userClaimNames = jose.ClaimNames("roles")

func newUserClaims() *userClaims {
	c := new(userClaims)
	c.Init(userClaimNames, func(name string, v []byte) (err error) {
		if name == "roles" {
			c.Roles, err = jose.Strings(v)
		}
		return err
	})
	return c
}

// principal returns the user c names.
func (c *userClaims) principal(tokenUse string) *ssotoken.Principal {
	return &ssotoken.Principal{
		Subject:   c.Subject,
		Username:  c.Subject,
		TokenUse:  tokenUse,
		Issuer:    c.Issuer,
		Groups:    c.Roles,
		ExpiresAt: time.Unix(c.ExpiresAt, 0),
		Claims:    json.RawMessage(c.Raw()),
	}
}

// hmacValidator validates HS256 JWT cookies.
type hmacValidator struct {
	ring     *ssotoken.Keyring
	iss, aud string
	leeway   time.Duration
	now      func() time.Time
}

// NewHMACValidator returns a Validator for cookies that are HS256 JWTs
// signed with a shared secret, with the claims "sub" (required), "roles"
// (an array of strings, optional) and "exp" (required); "nbf" and "iat"
// are honoured when present. The header's algorithm must be HS256.
func NewHMACValidator(cfg HMACValidatorConfig) (Validator, error) {
	key, err := ssotoken.NewHMACKey(cfg.KeyID, cfg.Secret)
	if err != nil {
		return nil, err
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	if cfg.Leeway < 0 || cfg.Leeway > ssotoken.MaxLeeway {
		return nil, errors.New("cookiesso: HMACValidatorConfig.Leeway must be between 0 and 5m")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &hmacValidator{ring: ring, iss: cfg.Issuer, aud: cfg.Audience, leeway: cfg.Leeway, now: cfg.Now}, nil
}

func (v *hmacValidator) Validate(_ context.Context, value string) (*ssotoken.Principal, error) {
	c := newUserClaims()
	if _, err := v.ring.Parse(value, c, ssotoken.ParseOptions{Leeway: v.leeway, Now: v.now, Issuer: v.iss, Audience: v.aud}); err != nil {
		return nil, cookieError(err)
	}
	if c.Subject == "" {
		return nil, errCookieNoUser
	}
	return c.principal(""), nil
}

// cookieError turns a failure of Keyring.Parse into the cookie's
// taxonomy: a value that is not a JWT of the expected form is
// ill-formatted (400); a wrong algorithm, key or signature, an expiry or
// claims that are not acceptable are unauthorized (401).
func cookieError(err error) error {
	switch ssotoken.CodeOf(err) {
	case ssotoken.CodeTokenMalformed, ssotoken.CodeTokenMissing, ssotoken.CodeClaimsMalformed:
		return ErrCookieMalformed
	case ssotoken.CodeTokenExpired:
		return ErrCookieExpired
	case ssotoken.CodeExpMissing:
		return cookieUnauthorized(CodeCookieInvalid, "the SSO cookie has no expiry")
	case ssotoken.CodeTokenNotYetValid:
		return cookieUnauthorized(CodeCookieInvalid, "the SSO cookie is not valid yet")
	case ssotoken.CodeWrongIssuer:
		return cookieUnauthorized(CodeCookieInvalid, "the SSO cookie's issuer is not accepted")
	case ssotoken.CodeWrongAudience:
		return cookieUnauthorized(CodeCookieInvalid, "the SSO cookie's audience is not accepted")
	}
	return ErrCookieBadSignature
}

// AuthenticatorValidator validates cookies whose value is a bearer token
// that an ssotoken.Authenticator checks: for example a Cognito ID token
// kept in a cookie, checked by a cognito.Authenticator. A value that is
// not a token is ErrBadRequest; anything else the authenticator refuses
// keeps its kind.
type AuthenticatorValidator struct {
	Authenticator ssotoken.Authenticator
}

// Validate implements Validator.
func (a AuthenticatorValidator) Validate(ctx context.Context, value string) (*ssotoken.Principal, error) {
	p, err := a.Authenticator.Authenticate(ctx, value)
	if err != nil {
		if ssotoken.CodeOf(err) == ssotoken.CodeTokenMalformed {
			return nil, ErrCookieMalformed
		}
		return nil, err
	}
	return p, nil
}
