package cookiesso

import (
	"context"
	"encoding/json"
	"errors"
	"time"

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

// Codes of cookie validation failures.
const (
	CodeCookieMissing      = "cookie_missing"       // no cookie of the configured name, or an empty one (400)
	CodeCookieDuplicate    = "cookie_duplicate"     // two cookies of the configured name (400)
	CodeCookieTooLarge     = "cookie_too_large"     // over MaxCookieBytes (400)
	CodeCookieMalformed    = "cookie_malformed"     // not a JWS of the expected form (400)
	CodeCookieBadSignature = "cookie_bad_signature" // well formed, signature not valid (401)
	CodeCookieExpired      = "cookie_expired"       // past "exp" plus leeway (401)
	CodeCookieInvalid      = "cookie_invalid"       // well formed and signed, claims not acceptable (401)
)

func badCookie(code, msg string, cause error) error {
	return ssotoken.NewError(ssotoken.ErrBadRequest, code, msg, cause)
}

func cookieUnauthorized(code, msg string) error {
	return ssotoken.NewError(ssotoken.ErrUnauthorized, code, msg, nil)
}

var (
	errCookieMalformed = badCookie(CodeCookieMalformed, "the SSO cookie is ill-formatted", nil)
	errCookieSignature = cookieUnauthorized(CodeCookieBadSignature, "the SSO cookie's signature is not valid")
	errCookieExpired   = cookieUnauthorized(CodeCookieExpired, "the SSO cookie has expired")
)

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
	// ssotoken.MaxLeeway. Zero means none.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// cookieClaims are the claims of an HS256 JWT cookie.
type cookieClaims struct {
	Subject   string   `json:"sub"`
	Roles     []string `json:"roles"`
	ExpiresAt int64    `json:"exp"`
	NotBefore int64    `json:"nbf"`
	IssuedAt  int64    `json:"iat"`
	Issuer    string   `json:"iss"`
	Audience  string   `json:"aud"`
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
	payload, _, err := ssotoken.ParseJWS(nil, v.ring, value)
	if err != nil {
		return nil, jwsCookieError(err)
	}
	var c cookieClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, badCookie(CodeCookieMalformed, "the SSO cookie's claims are ill-formatted", err)
	}
	now := v.now()
	switch {
	case c.Subject == "":
		return nil, cookieUnauthorized(CodeCookieInvalid, "the SSO cookie names no user")
	case c.ExpiresAt == 0:
		return nil, cookieUnauthorized(CodeCookieInvalid, "the SSO cookie has no expiry")
	case !now.Before(time.Unix(c.ExpiresAt, 0).Add(v.leeway)):
		return nil, errCookieExpired
	case c.NotBefore != 0 && now.Before(time.Unix(c.NotBefore, 0).Add(-v.leeway)),
		c.IssuedAt != 0 && now.Before(time.Unix(c.IssuedAt, 0).Add(-v.leeway)):
		return nil, cookieUnauthorized(CodeCookieInvalid, "the SSO cookie is not valid yet")
	case v.iss != "" && c.Issuer != v.iss:
		return nil, cookieUnauthorized(CodeCookieInvalid, "the SSO cookie's issuer is not accepted")
	case v.aud != "" && c.Audience != v.aud:
		return nil, cookieUnauthorized(CodeCookieInvalid, "the SSO cookie's audience is not accepted")
	}
	return &ssotoken.Principal{
		Subject:   c.Subject,
		Username:  c.Subject,
		Issuer:    c.Issuer,
		Groups:    c.Roles,
		ExpiresAt: time.Unix(c.ExpiresAt, 0),
		Claims:    json.RawMessage(payload),
	}, nil
}

// jwsCookieError turns a ParseJWS failure into the cookie's taxonomy: a
// value that is not a JWS of the expected form is ill-formatted (400); a
// wrong algorithm, key or signature is unauthorized (401).
func jwsCookieError(err error) error {
	switch ssotoken.CodeOf(err) {
	case ssotoken.CodeTokenMalformed, ssotoken.CodeTokenMissing:
		return errCookieMalformed
	default:
		return errCookieSignature
	}
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
			return nil, errCookieMalformed
		}
		return nil, err
	}
	return p, nil
}
