package cognito

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// Token uses: the values of the "token_use" claim of Cognito tokens, and of
// Config.TokenUse.
const (
	TokenUseAccess = "access" // an access token: "client_id", "scope", "username"
	TokenUseID     = "id"     // an ID token: "aud", "cognito:username", user attributes
)

// Defaults and limits of Config.
const (
	// DefaultMaxTokenBytes is the longest token accepted when
	// Config.MaxTokenBytes is zero: 16 KiB.
	DefaultMaxTokenBytes = 16 << 10
	// MaxMaxTokenBytes is the largest Config.MaxTokenBytes accepted: 1 MiB.
	MaxMaxTokenBytes = 1 << 20
	// DefaultCacheSize is the number of verified tokens cached when
	// Config.CacheSize is zero.
	DefaultCacheSize = 10000
	// DefaultRefreshInterval is the period of the background JWKS refresh
	// when Config.RefreshInterval is zero.
	DefaultRefreshInterval = time.Hour
	// DefaultRefetchInterval is the least time between two JWKS fetches
	// caused by tokens with an unknown "kid", when Config.RefetchInterval is
	// zero.
	DefaultRefetchInterval = 10 * time.Second
	// MinRefetchInterval is the smallest Config.RefetchInterval accepted.
	MinRefetchInterval = 100 * time.Millisecond
	// DefaultFetchTimeout bounds one JWKS fetch when Config.FetchTimeout is
	// zero.
	DefaultFetchTimeout = 5 * time.Second
	// DefaultMaxJWKSBytes is the largest JWKS response body read when
	// Config.MaxJWKSBytes is zero: 1 MiB.
	DefaultMaxJWKSBytes = 1 << 20
	// MaxLeeway is the largest Config.Leeway accepted.
	MaxLeeway = ssotoken.MaxLeeway
)

// Pool names one Cognito user pool (or a local stand-in for one) whose
// tokens are accepted: either UserPoolID (with an optional Region), from
// which the issuer and JWKS URL are derived, or an explicit Issuer with an
// optional JWKSURL.
type Pool struct {
	// Region is the AWS region of the pool, for example "eu-west-1". It is
	// read from UserPoolID when empty; when set, it must match UserPoolID.
	Region string
	// UserPoolID is the pool's id, for example "eu-west-1_AbCdEf123". With
	// it, the issuer is "https://cognito-idp.{region}.amazonaws.com/{pool}"
	// and the JWKS URL is the issuer followed by "/.well-known/jwks.json".
	UserPoolID string
	// Issuer is the exact "iss" of the pool's tokens, an absolute http or
	// https URL. It is derived from UserPoolID when empty; when both are
	// set they must agree.
	Issuer string
	// JWKSURL is where the pool's keys are fetched (http is allowed, for
	// local stand-ins). Empty means Issuer + "/.well-known/jwks.json". The
	// URL comes only from here, never from a token.
	JWKSURL string
}

// Config configures an Authenticator. The zero value is not usable: a pool,
// the accepted app clients and the token use are required, and New fails
// rather than skip a check that was not configured.
type Config struct {
	// Region, UserPoolID, Issuer and JWKSURL name the user pool whose
	// tokens are accepted, as the fields of Pool do. They may be left empty
	// when Pools names at least one pool.
	Region     string
	UserPoolID string
	Issuer     string
	JWKSURL    string

	// Pools lists further user pools whose tokens are accepted. Each pool
	// has its own key set; a token must name, in "iss", exactly the issuer
	// of the pool whose key verified its signature. Issuers must be
	// distinct.
	Pools []Pool

	// ClientIDs are the accepted app client ids: an access token's
	// "client_id", or an ID token's "aud", must be one of them. Required
	// unless InsecureSkipClientIDCheck is set.
	ClientIDs []string
	// InsecureSkipClientIDCheck accepts tokens of any app client of the
	// pools. Set it only when every app client of every configured pool is
	// trusted to call this service; it cannot be combined with ClientIDs.
	InsecureSkipClientIDCheck bool

	// TokenUse is the kind of token accepted, TokenUseAccess ("access") or
	// TokenUseID ("id"); the token's "token_use" must equal it. Required.
	TokenUse string

	// RequiredScopes are OAuth scopes an access token must all carry in its
	// "scope" claim (all of them, not any of them; unlike aws-jwt-verify,
	// whose scope option means any of). A token without one of them fails
	// with ErrForbidden. Only for TokenUseAccess: ID tokens carry no scope.
	RequiredScopes []string
	// RequiredGroups are groups the user must all be in ("cognito:groups";
	// all of them, not any of them). A token without one of them fails with
	// ErrForbidden. Use Check for an any-of rule.
	RequiredGroups []string

	// Leeway is the clock skew allowed on "exp", "nbf" and "iat", between
	// zero (the default) and MaxLeeway. A token is expired once now is at or
	// past "exp" + Leeway, and not yet valid while now is before "nbf" -
	// Leeway or "iat" - Leeway.
	Leeway time.Duration

	// MaxTokenBytes bounds the token's length in bytes (a token of exactly
	// MaxTokenBytes is read); longer ones are refused before any decoding.
	// Zero means DefaultMaxTokenBytes (16 KiB); at most MaxMaxTokenBytes.
	MaxTokenBytes int

	// HTTPClient fetches the key sets. Nil means a client with a timeout of
	// FetchTimeout that follows no redirects. The client's Transport is
	// wrapped to cap response bodies at MaxJWKSBytes; the client itself is
	// not modified.
	HTTPClient *http.Client
	// FetchTimeout bounds each JWKS fetch, in the background or caused by
	// an unknown "kid". Zero means DefaultFetchTimeout (5 s).
	FetchTimeout time.Duration
	// MaxJWKSBytes caps a JWKS response body; a larger one fails the fetch
	// and the last good keys stay. Zero means DefaultMaxJWKSBytes (1 MiB).
	MaxJWKSBytes int64
	// RefreshInterval is the period of the background JWKS refresh. Zero
	// means DefaultRefreshInterval (1 h).
	RefreshInterval time.Duration
	// RefetchInterval is the least time between two fetches of a pool's
	// JWKS caused by tokens with an unknown "kid"; tokens that arrive while
	// a fetch is running share it. Zero means DefaultRefetchInterval (10 s);
	// at least MinRefetchInterval. A newly published key is accepted at the
	// latest one RefetchInterval after its first token arrives.
	RefetchInterval time.Duration

	// CacheSize is the number of verified tokens remembered, so that a
	// repeated token costs no RSA operation. Zero means DefaultCacheSize
	// (10,000). When the cache is full an arbitrary entry (an expired one
	// when the first few looked at include one) makes room.
	CacheSize int
	// DisableCache turns the verified-token cache off: every call verifies
	// the signature.
	DisableCache bool

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// Check, when set, is called with every principal that passed all the
	// other checks, on cache hits too, and may refuse it. An *ssotoken.Error
	// it returns is returned as it is; a context error becomes ErrTimeout;
	// any other error becomes ErrForbidden with CodeCheckFailed (its text is
	// kept as the cause, for logs). It must treat the principal as
	// read-only and be safe for concurrent use.
	Check func(ctx context.Context, p *ssotoken.Principal) error

	// Logger receives one line per failed JWKS fetch (never a token, a key
	// or a response body). Nil means slog.Default().
	Logger *slog.Logger

	// OnFetch, when set, is called once per finished JWKS fetch of every
	// pool (the first, each refresh, each caused by an unknown kid), once
	// the pool's keys have been replaced or kept, with the pool's issuer
	// and the result ("ok", "HTTP 503", "timeout", "no usable key": see
	// ssotoken.FetchOK and the other Fetch constants): to count fetches by
	// result in the host's metrics. It is called from the goroutine that
	// fetched, a background one and never a request's, possibly from
	// several at once (pools fetch independently), and never after Close
	// returned. It must not block (the requests waiting for the fetch are
	// released after it returns) and must not call Close. Stats gives the
	// same figures on demand.
	OnFetch func(ssotoken.FetchEvent)
}

// poolIDPattern is the shape of a user pool id; the first group is the
// region.
var poolIDPattern = regexp.MustCompile(`^([a-z]{2}-(?:gov-)?[a-z]+-\d)_[a-zA-Z0-9]+$`)

// resolve fills in a pool's issuer and JWKS URL and checks them.
func (p Pool) resolve() (Pool, error) {
	if p.UserPoolID != "" {
		m := poolIDPattern.FindStringSubmatch(p.UserPoolID)
		if m == nil {
			return p, fmt.Errorf("cognito: user pool id %q is not of the form region_id", p.UserPoolID)
		}
		if p.Region != "" && p.Region != m[1] {
			return p, fmt.Errorf("cognito: region %q does not match user pool id %q", p.Region, p.UserPoolID)
		}
		p.Region = m[1]
		iss := "https://cognito-idp." + p.Region + ".amazonaws.com/" + p.UserPoolID
		if p.Issuer != "" && p.Issuer != iss {
			return p, fmt.Errorf("cognito: issuer %q does not match user pool id %q", p.Issuer, p.UserPoolID)
		}
		p.Issuer = iss
	} else if p.Region != "" {
		return p, errors.New("cognito: a region needs a user pool id")
	}
	if p.Issuer == "" {
		return p, errors.New("cognito: a user pool id or an issuer is required")
	}
	if err := checkURL(p.Issuer); err != nil {
		return p, fmt.Errorf("cognito: issuer: %w", err)
	}
	if p.JWKSURL == "" {
		p.JWKSURL = p.Issuer + "/.well-known/jwks.json"
	}
	if err := checkURL(p.JWKSURL); err != nil {
		return p, fmt.Errorf("cognito: JWKS URL: %w", err)
	}
	return p, nil
}

func checkURL(s string) error {
	u, err := url.ParseRequestURI(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not an absolute URL", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%q is not an http or https URL", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// Validate reports whether New would accept cfg, without fetching
// anything: for a host that checks its configuration before it binds a
// port. The error is New's.
func (cfg Config) Validate() error {
	_, err := cfg.validate()
	return err
}

// validate checks cfg, fills in its defaults and returns its pools.
func (cfg *Config) validate() ([]Pool, error) {
	pools, err := cfg.pools()
	if err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return pools, nil
}

// pools returns the configured pools, resolved, with distinct issuers.
func (cfg *Config) pools() ([]Pool, error) {
	var pools []Pool
	if cfg.Region != "" || cfg.UserPoolID != "" || cfg.Issuer != "" || cfg.JWKSURL != "" {
		pools = append(pools, Pool{Region: cfg.Region, UserPoolID: cfg.UserPoolID, Issuer: cfg.Issuer, JWKSURL: cfg.JWKSURL})
	}
	pools = append(pools, cfg.Pools...)
	if len(pools) == 0 {
		return nil, errors.New("cognito: a user pool (UserPoolID or Issuer) is required")
	}
	seen := make(map[string]bool, len(pools))
	for i := range pools {
		p, err := pools[i].resolve()
		if err != nil {
			return nil, err
		}
		if seen[p.Issuer] {
			return nil, fmt.Errorf("cognito: issuer %q is configured twice", p.Issuer)
		}
		seen[p.Issuer] = true
		pools[i] = p
	}
	return pools, nil
}

// check checks every field but the pools.
func (cfg *Config) check() error {
	switch {
	case len(cfg.ClientIDs) == 0 && !cfg.InsecureSkipClientIDCheck:
		return errors.New("cognito: ClientIDs is required (or InsecureSkipClientIDCheck)")
	case len(cfg.ClientIDs) > 0 && cfg.InsecureSkipClientIDCheck:
		return errors.New("cognito: ClientIDs and InsecureSkipClientIDCheck are exclusive")
	case cfg.TokenUse != TokenUseAccess && cfg.TokenUse != TokenUseID:
		return errors.New(`cognito: TokenUse must be "access" or "id"`)
	case cfg.TokenUse == TokenUseID && len(cfg.RequiredScopes) > 0:
		return errors.New("cognito: RequiredScopes needs TokenUse \"access\": ID tokens carry no scope")
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return errors.New("cognito: Leeway must be between 0 and 5m")
	case cfg.MaxTokenBytes < 0 || cfg.MaxTokenBytes > MaxMaxTokenBytes:
		return errors.New("cognito: MaxTokenBytes must be between 0 and 1 MiB")
	case cfg.CacheSize < 0:
		return errors.New("cognito: CacheSize must not be negative (use DisableCache)")
	case cfg.FetchTimeout < 0 || cfg.MaxJWKSBytes < 0 || cfg.RefreshInterval < 0 || cfg.RefetchInterval < 0:
		return errors.New("cognito: FetchTimeout, MaxJWKSBytes, RefreshInterval and RefetchInterval must not be negative")
	case cfg.RefetchInterval != 0 && cfg.RefetchInterval < MinRefetchInterval:
		return errors.New("cognito: RefetchInterval must be at least 100ms")
	}
	for _, list := range [][]string{cfg.ClientIDs, cfg.RequiredScopes, cfg.RequiredGroups} {
		if slices.Contains(list, "") {
			return errors.New("cognito: ClientIDs, RequiredScopes and RequiredGroups must not hold empty strings")
		}
	}
	return nil
}

// setDefaults fills in the fields left zero.
func (cfg *Config) setDefaults() {
	cfg.MaxTokenBytes = cmp.Or(cfg.MaxTokenBytes, DefaultMaxTokenBytes)
	cfg.CacheSize = cmp.Or(cfg.CacheSize, DefaultCacheSize)
	cfg.FetchTimeout = cmp.Or(cfg.FetchTimeout, DefaultFetchTimeout)
	cfg.MaxJWKSBytes = cmp.Or(cfg.MaxJWKSBytes, DefaultMaxJWKSBytes)
	cfg.RefreshInterval = cmp.Or(cfg.RefreshInterval, DefaultRefreshInterval)
	cfg.RefetchInterval = cmp.Or(cfg.RefetchInterval, DefaultRefetchInterval)
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: cfg.FetchTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
}
