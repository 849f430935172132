package cookiesso

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/internal/jsonx"
	"github.com/ssokit/ssokit/ssotoken"
)

// Defaults of an Exchanger.
const (
	// DefaultCookieName is the SSO cookie's name in the Cookie SSO
	// document's request ("Header AnswerHubCookieSSO=cookie_value"). The
	// document's ssoCookieName is whatever the main site's SSO
	// configuration names it: set Config.CookieName to match.
	DefaultCookieName     = "AnswerHubCookieSSO"
	DefaultTTL            = time.Hour
	DefaultMaxCookieBytes = 4 << 10
	DefaultIssuer         = "ssokit-cookiesso"
	DefaultAudience       = "ssokit-api"
)

// Config configures an Exchanger. Validator and Keys are required.
type Config struct {
	// CookieName is the SSO cookie's name, the document's ssoCookieName.
	// Empty means DefaultCookieName ("AnswerHubCookieSSO").
	CookieName string
	// Validator checks the cookie's value. Required.
	Validator Validator
	// Keys signs the exchanged JWT. Its keys must serve this purpose only:
	// never the cookie's key, never the TokenNo signer's. Required.
	Keys *ssotoken.Keyring
	// TTL is the exchanged JWT's lifetime, at least one second (one
	// second itself is accepted). Zero means one hour; it is also capped
	// by the cookie's own expiry.
	TTL time.Duration
	// Issuer and Audience are the exchanged JWT's "iss" and "aud". Empty
	// means DefaultIssuer and DefaultAudience.
	Issuer, Audience string
	// MaxCookieBytes caps the cookie's value: a value of exactly
	// MaxCookieBytes bytes is read, one byte more is ErrCookieTooLarge.
	// Zero means 4 KiB.
	MaxCookieBytes int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Token is the result of an exchange.
type Token struct {
	JWT       string    // the exchanged JWT, for "Authorization: Bearer"
	ExpiresAt time.Time // its "exp"
}

// Exchanger exchanges an SSO cookie for a JWT that authenticates later API
// calls (POST /services/v2/auth/cookiesso/token.json of the Cookie SSO
// document). It is pure Go: cookie value in, JWT out; package httpadapter
// serves it. It is safe for concurrent use.
type Exchanger struct {
	name     string
	v        Validator
	keys     *ssotoken.Keyring
	ttl      time.Duration
	iss, aud string
	max      int
	now      func() time.Time
}

// New returns an Exchanger for cfg, or an error if cfg is not usable.
func New(cfg Config) (*Exchanger, error) {
	switch {
	case cfg.Validator == nil:
		return nil, errors.New("cookiesso: Config.Validator is required")
	case cfg.Keys == nil:
		return nil, errors.New("cookiesso: Config.Keys is required")
	case cfg.Keys.Active() == nil || !cfg.Keys.Active().CanSign():
		return nil, errors.New("cookiesso: the active key of Config.Keys cannot sign")
	case cfg.TTL < 0 || cfg.MaxCookieBytes < 0:
		return nil, errors.New("cookiesso: Config.TTL and MaxCookieBytes must not be negative")
	case cfg.CookieName != "" && !validCookieName(cfg.CookieName):
		return nil, errors.New("cookiesso: Config.CookieName is not a cookie name")
	}
	e := &Exchanger{
		name: cmp.Or(cfg.CookieName, DefaultCookieName),
		v:    cfg.Validator,
		keys: cfg.Keys,
		ttl:  cmp.Or(cfg.TTL, DefaultTTL),
		iss:  cmp.Or(cfg.Issuer, DefaultIssuer),
		aud:  cmp.Or(cfg.Audience, DefaultAudience),
		max:  cmp.Or(cfg.MaxCookieBytes, DefaultMaxCookieBytes),
		now:  cfg.Now,
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.ttl < time.Second {
		return nil, errors.New("cookiesso: Config.TTL must be at least one second")
	}
	return e, nil
}

// CookieName returns the name of the SSO cookie.
func (e *Exchanger) CookieName() string { return e.name }

// Exchange validates the cookie value and returns a JWT for it: claims
// "sub", "roles", "iat", "exp" (TTL from now, but never past the
// cookie's own expiry), "jti" (16 random bytes, base64url: 22
// characters), "iss" and "aud", signed with the
// exchanger's own key. An empty value is ErrCookieMissing, one over
// MaxCookieBytes ErrCookieTooLarge, one with characters that RFC 6265 does
// not allow in a cookie ErrCookieMalformed (all ErrBadRequest); validation
// failures keep their kind (400 for an ill-formatted cookie, 401 for a bad
// signature or an expired one). The
// JWT never outlives the cookie, so a cookie that a validator accepts only
// thanks to its leeway (past "exp") cannot be exchanged: cookie_expired.
func (e *Exchanger) Exchange(ctx context.Context, value string) (Token, error) {
	switch {
	case value == "":
		return Token{}, ErrCookieMissing
	case len(value) > e.max:
		return Token{}, ErrCookieTooLarge
	case !validCookieValue(value):
		return Token{}, ErrCookieMalformed
	}
	p, err := e.v.Validate(ctx, value)
	if err != nil {
		return Token{}, ssotoken.Wrap(err)
	}
	if p == nil || p.Subject == "" {
		return Token{}, errCookieNoUser
	}
	now := e.now()
	exp := now.Add(e.ttl)
	if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(exp) {
		exp = p.ExpiresAt
	}
	if !exp.After(now) {
		return Token{}, ErrCookieExpired
	}
	c := jwtClaims{
		Subject: p.Subject, Roles: p.Groups, IssuedAt: now.Unix(), ExpiresAt: exp.Unix(),
		Issuer: e.iss, Audience: e.aud,
	}
	_, _ = rand.Read(c.ID[:]) // never fails (crypto/rand.Read crashes the program instead)
	b := bufPool.Get().(*[]byte)
	defer bufPool.Put(b)
	payload := c.appendJSON((*b)[:0])
	*b = payload[:0]
	tok, err := e.keys.Sign(payload)
	if err != nil {
		return Token{}, ssotoken.NewError(ssotoken.ErrUpstream, ssotoken.CodeSigningFailed, "the token could not be signed", err)
	}
	return Token{JWT: tok, ExpiresAt: time.Unix(exp.Unix(), 0).UTC()}, nil
}

// bufPool holds the scratch buffers of Exchange.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// validCookieValue reports whether v is made of RFC 6265 cookie-octets.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// validCookieName reports whether n is an RFC 9110 token.
func validCookieName(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return n != ""
}

// jwtClaims are the claims of the exchanged JWT.
type jwtClaims struct {
	Subject   string   `json:"sub"`
	Roles     []string `json:"roles"`
	IssuedAt  int64    `json:"iat"`
	ExpiresAt int64    `json:"exp"`
	ID        [16]byte `json:"jti"` // random; base64url without padding in the JSON
	Issuer    string   `json:"iss"`
	Audience  string   `json:"aud"`
}

// appendJSON appends the claims as JSON, without reflection.
func (c *jwtClaims) appendJSON(b []byte) []byte {
	b = append(b, `{"sub":`...)
	b = jsonx.AppendString(b, c.Subject)
	b = append(b, `,"roles":[`...)
	for i, r := range c.Roles {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, r)
	}
	b = append(b, `],"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt, 10)
	b = append(b, `,"jti":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, c.ID[:])
	b = append(b, `","iss":`...)
	b = jsonx.AppendString(b, c.Issuer)
	b = append(b, `,"aud":`...)
	b = jsonx.AppendString(b, c.Audience)
	return append(b, '}')
}
