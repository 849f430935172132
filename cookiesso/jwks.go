package cookiesso

import (
	"context"
	"crypto/rsa"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/limit"
	"github.com/ssokit/ssokit/ssotoken"
)

// MaxJWKSBytes caps the JWKS document a JWKSValidator reads: 1 MiB.
const MaxJWKSBytes = 1 << 20

// JWKSValidatorConfig configures NewJWKSValidator.
type JWKSValidatorConfig struct {
	// URL is the JWKS document of the cookie's issuer. Required.
	URL string
	// Algorithms are the accepted "alg" values. Empty means RS256 only.
	Algorithms []string
	// Issuer and Audience, when set, must equal the cookie's "iss" and
	// its "aud" (or one of its audiences).
	Issuer, Audience string
	// Leeway is the clock skew allowed on "exp", "nbf" and "iat", at most
	// ssotoken.MaxLeeway (MaxLeeway itself is accepted). Zero means none.
	// A cookie is expired from "exp" + Leeway on, and not yet valid while
	// now + Leeway is before "nbf" or "iat".
	Leeway time.Duration
	// HTTPClient fetches the JWKS. Nil means a client with a 10 s timeout.
	// Either way a JWKS body over MaxJWKSBytes is refused.
	HTTPClient *http.Client
	// RefreshInterval is how often the JWKS is fetched again. Zero means
	// one hour; a negative value is refused. A cookie with an unknown
	// "kid" also triggers a fetch, at most one per 10 s.
	RefreshInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per failed JWKS fetch (never a body or a
	// cookie). Nil means slog.Default().
	Logger *slog.Logger
}

// JWKSValidator validates cookies that are JWTs signed by a key of a
// remote JWKS, which keyfunc fetches at start (without failing when the
// JWKS is down) and refreshes in the background. Only keys whose "use" is
// "sig" (or absent) verify. Cookies must carry "kid"; "sub" and "exp" are required and "roles" (an array of strings)
// becomes Principal.Groups. Close stops the background refresh. It is
// safe for concurrent use.
type JWKSValidator struct {
	kf     keyfunc.Keyfunc
	parser *jwt.Parser
	cancel context.CancelFunc
}

// NewJWKSValidator starts fetching cfg.URL and returns the validator.
func NewJWKSValidator(cfg JWKSValidatorConfig) (*JWKSValidator, error) {
	if cfg.URL == "" {
		return nil, errors.New("cookiesso: JWKSValidatorConfig.URL is required")
	}
	if cfg.Leeway < 0 || cfg.Leeway > ssotoken.MaxLeeway {
		return nil, errors.New("cookiesso: JWKSValidatorConfig.Leeway must be between 0 and 5m")
	}
	if cfg.RefreshInterval < 0 {
		return nil, errors.New("cookiesso: JWKSValidatorConfig.RefreshInterval must not be negative")
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	for _, a := range algs {
		if a == "none" || strings.HasPrefix(a, "HS") {
			return nil, errors.New("cookiesso: a JWKS validator accepts asymmetric algorithms only")
		}
	}
	client := limit.Client(cfg.HTTPClient, 10*time.Second, MaxJWKSBytes)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.URL}, keyfunc.Override{
		Client:            client,
		RefreshInterval:   cfg.RefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(10*time.Second), 1),
		RateLimitWaitMax:  time.Second,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				// One line per failed fetch, never per request; the body
				// is never logged.
				logger.WarnContext(ctx, "cookiesso: JWKS fetch failed; the last good keys stay", "jwks_url", u, "error", err.Error())
			}
		},
	})
	if err != nil {
		cancel()
		return nil, err
	}
	// Only signing keys verify cookies: a key marked "use":"enc" never
	// does (a key without "use" may).
	kf, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: kf.Storage(), UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	if err != nil {
		cancel()
		return nil, err
	}
	var opts []jwt.ParserOption
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &JWKSValidator{kf: kf, parser: jose.Parser(algs, cfg.Leeway, now, opts...), cancel: cancel}, nil
}

// Close stops the background refresh.
func (v *JWKSValidator) Close() error {
	v.cancel()
	return nil
}

// Validate implements Validator.
func (v *JWKSValidator) Validate(ctx context.Context, value string) (*ssotoken.Principal, error) {
	if !jose.Compact(value) {
		return nil, ErrCookieMalformed
	}
	c := newUserClaims()
	tok, err := v.parser.ParseWithClaims(value, c, func(t *jwt.Token) (any, error) {
		h, err := jose.CheckHeader(v.parser, t)
		switch {
		case err != nil:
			return nil, err
		case h.HasTyp && !strings.EqualFold(h.Typ, "JWT"):
			return nil, jose.ErrType
		case h.Kid == "":
			return nil, errors.New("cookie has no kid") // never try every key
		}
		key, err := v.kf.KeyfuncCtx(ctx)(t)
		if err != nil {
			return nil, err
		}
		return key, v.usable(ctx, h.Kid, key)
	})
	switch {
	case err == nil && tok.Valid:
	case jose.IsPolicy(err), errors.Is(err, jwt.ErrTokenMalformed),
		errors.Is(err, jwt.ErrTokenUnverifiable) && tok != nil && tok.Method == nil: // no "alg"
		return nil, ErrCookieMalformed
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrCookieExpired
	case errors.Is(err, jwt.ErrTokenUnverifiable) && !v.haveKeys(ctx):
		return nil, ssotoken.ErrKeysUnavailable
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, ErrCookieBadSignature
	default:
		return nil, ssotoken.NewError(ssotoken.ErrUnauthorized, CodeCookieInvalid, "the SSO cookie is not valid", err)
	}
	if c.Subject == "" {
		return nil, errCookieNoUser
	}
	return c.principal(""), nil
}

// usable refuses a key that must never verify a cookie, whatever keyfunc
// found: an RSA key under 2048 bits, a key whose key_ops do not include
// verify, and a kid that two keys of the set share (never "the first
// wins"). keyfunc has checked use and alg.
func (v *JWKSValidator) usable(ctx context.Context, kid string, key any) error {
	if k, ok := key.(*rsa.PublicKey); ok && k.N.BitLen() < ssotoken.MinRSABits {
		return errors.New("cookiesso: RSA key under 2048 bits")
	}
	all, err := v.kf.Storage().KeyReadAll(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, jwk := range all {
		m := jwk.Marshal()
		if m.KID != kid {
			continue
		}
		if n++; n > 1 {
			return errors.New("cookiesso: two keys of the JWKS share the kid")
		}
		if len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify) {
			return errors.New("cookiesso: the key may not verify")
		}
	}
	return nil
}

// haveKeys reports whether a key was ever loaded.
func (v *JWKSValidator) haveKeys(ctx context.Context) bool {
	all, err := v.kf.Storage().KeyReadAll(ctx)
	return err == nil && len(all) > 0
}
