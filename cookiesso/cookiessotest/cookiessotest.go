// Package cookiessotest stands in for the main site of the Cookie SSO
// exchange in a host's tests: a Signer mints the SSO cookie the main site
// sets (an HS256 JWT with "sub", "roles", "iat" and "exp") and gives the
// cookiesso.HMACValidatorConfig that accepts it; a MainSite answers a
// cookiesso.RemoteValidator's questions about opaque session cookies
// ({"username": ..., "roles": [...]} for the sessions it knows, 401 for
// the others).
//
//	s, _ := cookiessotest.NewSigner()
//	v := s.Validator(t)
//	ex, _ := cookiesso.New(cookiesso.Config{Validator: v, Keys: apiRing})
//	tok, err := ex.Exchange(ctx, s.Cookie(t, "jdoe", cookiesso.DefaultRole))
//
// The package is for tests and development: its secrets live in memory.
package cookiessotest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/cookiesso"
	"github.com/ssokit/ssokit/ssotoken"
)

// DefaultLifetime is the lifetime of a Signer's cookies, "exp" minus
// "iat", unless Lifetime says otherwise.
const DefaultLifetime = 8 * time.Hour

// An Option configures a Signer.
type Option struct{ apply func(*Signer) error }

// Secret sets the cookie's HS256 secret, at least 32 bytes (as
// cookiesso.NewHMACValidator requires). Without it, a Signer makes a
// random one.
func Secret(secret []byte) Option {
	return Option{func(s *Signer) error {
		if len(secret) < ssotoken.MinHMACSecretLen {
			return fmt.Errorf("cookiessotest: the secret is %d bytes, want at least %d", len(secret), ssotoken.MinHMACSecretLen)
		}
		s.secret = append([]byte(nil), secret...)
		return nil
	}}
}

// Lifetime sets the cookies' lifetime (default DefaultLifetime).
func Lifetime(d time.Duration) Option {
	return Option{func(s *Signer) error {
		if d < time.Second {
			return errors.New("cookiessotest: a lifetime under a second")
		}
		s.lifetime = d
		return nil
	}}
}

// Clock sets the clock that gives cookies their "iat" and "exp";
// ValidatorConfig then carries it as Now. Default time.Now.
func Clock(now func() time.Time) Option {
	return Option{func(s *Signer) error { s.now, s.clock = now, now; return nil }}
}

// Signer mints SSO cookies as the main site does. It is safe for
// concurrent use.
type Signer struct {
	secret     []byte
	lifetime   time.Duration
	now, clock func() time.Time // clock: Clock's, or nil
}

// NewSigner returns a Signer, with a random secret unless Secret gives
// one.
func NewSigner(opts ...Option) (*Signer, error) {
	s := &Signer{lifetime: DefaultLifetime, now: time.Now}
	for _, o := range opts {
		if o.apply == nil {
			continue
		}
		if err := o.apply(s); err != nil {
			return nil, err
		}
	}
	if s.secret == nil {
		s.secret = []byte(rand.Text() + rand.Text()) // 52 bytes
	}
	return s, nil
}

// Secret returns a copy of the cookie's secret.
func (s *Signer) Secret() []byte { return append([]byte(nil), s.secret...) }

// Claims returns the claims of a cookie of the user sub with roles, now:
// "sub", "roles" (an array, empty without roles), "iat" and "exp". Change
// them and Sign them for a cookie of another shape.
func (s *Signer) Claims(sub string, roles ...string) map[string]any {
	now := s.now()
	return map[string]any{
		"sub":   sub,
		"roles": append([]string{}, roles...),
		"iat":   now.Unix(),
		"exp":   now.Add(s.lifetime).Unix(),
	}
}

// Sign returns claims as an HS256 JWT under the Signer's secret: a
// cookie's value. A time.Time claim is written as seconds since the
// epoch.
func (s *Signer) Sign(claims map[string]any) (string, error) {
	c := maps.Clone(claims)
	for k, v := range c {
		if t, ok := v.(time.Time); ok {
			c[k] = t.Unix()
		}
	}
	v, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(c)).SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("cookiessotest: %w", err)
	}
	return v, nil
}

// Cookie returns the value of an SSO cookie of the user sub with roles
// (cookiesso.DefaultRole, "Use API", for the exchanged JWT to call the
// API). It fails t if the cookie cannot be signed.
func (s *Signer) Cookie(t testing.TB, sub string, roles ...string) string {
	t.Helper()
	v, err := s.Sign(s.Claims(sub, roles...))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ValidatorConfig returns the configuration of a cookiesso validator that
// accepts the Signer's cookies: its secret, and its clock when Clock set
// one.
func (s *Signer) ValidatorConfig() cookiesso.HMACValidatorConfig {
	return cookiesso.HMACValidatorConfig{Secret: s.Secret(), Now: s.clock}
}

// Validator returns cookiesso.NewHMACValidator(s.ValidatorConfig()),
// failing t if it cannot be made.
func (s *Signer) Validator(t testing.TB) cookiesso.Validator {
	t.Helper()
	v, err := cookiesso.NewHMACValidator(s.ValidatorConfig())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// HTTPCookie returns the SSO cookie of value under
// cookiesso.DefaultCookieName ("AnswerHubCookieSSO"), for
// http.Request.AddCookie.
func HTTPCookie(value string) *http.Cookie {
	return &http.Cookie{Name: cookiesso.DefaultCookieName, Value: value}
}
