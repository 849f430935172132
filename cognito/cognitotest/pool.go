// Package cognitotest is an in-process stand-in for an AWS Cognito user
// pool, for the tests of hosts that validate Cognito tokens with package
// cognito: what net/http/httptest is to net/http.
//
// A Pool holds RSA keys, serves its JWKS (over httptest with NewPool and
// NewServer, or through Handler on a mux of the host's own), mints access
// and ID tokens with the claims Cognito sends, signed RS256 under a kid,
// and gives the cognito.Config that accepts them:
//
//	p := cognitotest.NewPool(t, cognitotest.Defaults(cognitotest.With("custom:ciino", "10001004")))
//	auth, err := cognito.New(p.Config())
//	...
//	principal, err := auth.Authenticate(ctx, p.AccessToken(t))
//	_, err = auth.Authenticate(ctx, p.AccessToken(t, cognitotest.Without("exp"))) // ssotoken.ErrExpMissing
//
// A test can make the pool misbehave as a real one does: rotate its keys
// (Rotate, AddKey, Publish), answer 503 (Down) or something else of its
// choosing (Answer), refuse connections (Refuse), or hold every JWKS
// request until the test releases it (Stall).
//
// New makes a pool without a network, for cognito.NewStatic and for a dev
// mode that serves the JWKS itself.
//
// The issuer of a served pool is its httptest URL followed by
// "/<pool id>", and its JWKS is at the issuer followed by
// "/.well-known/jwks.json", as Cognito's
// (https://cognito-idp.<region>.amazonaws.com/<pool id>) are. Tokens are
// fresh, with a random "jti", "origin_jti" and "event_id" each; their
// times come from the pool's clock (Clock).
//
// The package is for tests and development: its keys live in memory and
// its defaults are public.
package cognitotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/cognito"
)

// The defaults of a Pool, which Options change.
const (
	DefaultPoolID   = "eu-west-1_TestPool1"                  // the user pool id
	DefaultClientID = "test-app-client"                      // the app client: "client_id" and "aud"
	DefaultSubject  = "7d8ca528-4931-4254-9273-ea5ee853f271" // "sub"
	DefaultUsername = "testuser"                             // "username" and "cognito:username"
	DefaultEmail    = "testuser@example.com"                 // "email" of ID tokens
	DefaultScope    = "openid email"                         // "scope" of access tokens
	DefaultLifetime = time.Hour                              // "exp" minus "iat"
)

// keyBits is the size of the RSA keys a Pool makes, as Cognito's.
const keyBits = 2048

// An Option configures a Pool.
type Option struct{ apply func(*Pool) error }

// PoolID sets the user pool id, of the form "<region>_<id>" (default
// DefaultPoolID). It names the pool in its issuer and JWKS URL.
func PoolID(id string) Option {
	return Option{func(p *Pool) error {
		if !poolIDPattern.MatchString(id) {
			return fmt.Errorf("cognitotest: user pool id %q is not of the form region_id", id)
		}
		p.poolID = id
		return nil
	}}
}

// Issuer sets the pool's issuer, the tokens' "iss", an absolute URL.
// Without it, the issuer of a pool from New is Cognito's,
// https://cognito-idp.<region>.amazonaws.com/<pool id>, and that of a
// served pool its URL followed by "/<pool id>". The JWKS URL of a pool
// from New is the issuer followed by "/.well-known/jwks.json"; a served
// pool serves its JWKS at its own address whatever the issuer (JWKSURL).
func Issuer(iss string) Option {
	return Option{func(p *Pool) error {
		if iss == "" {
			return errors.New("cognitotest: empty issuer")
		}
		p.issuer, p.issuerGiven = iss, true
		return nil
	}}
}

// ClientID sets the app client (default DefaultClientID): the "client_id"
// of access tokens, the "aud" of ID tokens, and Config's ClientIDs.
func ClientID(id string) Option {
	return Option{func(p *Pool) error {
		if id == "" {
			return errors.New("cognitotest: empty client id")
		}
		p.clientID = id
		return nil
	}}
}

// Subject sets the user's "sub" (default DefaultSubject).
func Subject(sub string) Option { return Option{func(p *Pool) error { p.subject = sub; return nil }} }

// Username sets the user's name (default DefaultUsername): "username" of
// access tokens, "cognito:username" of ID tokens.
func Username(name string) Option {
	return Option{func(p *Pool) error { p.username = name; return nil }}
}

// Email sets the "email" of ID tokens (default DefaultEmail).
func Email(addr string) Option { return Option{func(p *Pool) error { p.email = addr; return nil }} }

// Groups sets the user's groups, "cognito:groups" of both kinds of token.
// Without it the user is in no group and, as with Cognito, the claim is
// absent.
func Groups(groups ...string) Option {
	return Option{func(p *Pool) error { p.groups = slices.Clone(groups); return nil }}
}

// Scopes sets the scopes of access tokens, their "scope" claim (default
// DefaultScope). Without any, the claim is absent.
func Scopes(scopes ...string) Option {
	return Option{func(p *Pool) error { p.scopes = slices.Clone(scopes); return nil }}
}

// Lifetime sets the tokens' lifetime, "exp" minus "iat" (default
// DefaultLifetime).
func Lifetime(d time.Duration) Option {
	return Option{func(p *Pool) error {
		if d < time.Second {
			return errors.New("cognitotest: a lifetime under a second")
		}
		p.lifetime = d
		return nil
	}}
}

// Clock sets the pool's clock, which gives tokens their "iat",
// "auth_time" and "exp"; Config then carries it as cognito.Config.Now, so
// that the Authenticator shares it. Default time.Now.
func Clock(now func() time.Time) Option {
	return Option{func(p *Pool) error { p.now, p.clock = now, now; return nil }}
}

// Defaults applies opts to every token the pool mints, before the options
// of the call: Defaults(With("custom:ciino", "10001004")) gives every
// token the custom attribute (Cognito puts custom attributes in ID tokens,
// and a pre token generation trigger in access tokens too).
func Defaults(opts ...TokenOption) Option {
	return Option{func(p *Pool) error { p.defaults = append(p.defaults, opts...); return nil }}
}

// SigningKey makes key, under kid, the pool's first key, published and
// signing, instead of a new one. The key must be RSA of at least 2048 bits.
func SigningKey(kid string, key *rsa.PrivateKey) Option {
	return Option{func(p *Pool) error {
		switch {
		case kid == "":
			return errors.New("cognitotest: SigningKey needs a kid")
		case key == nil || key.N.BitLen() < keyBits:
			return errors.New("cognitotest: SigningKey needs an RSA key of at least 2048 bits")
		}
		p.firstKID, p.firstKey = kid, key
		return nil
	}}
}

var poolIDPattern = regexp.MustCompile(`^([a-z]{2}-(?:gov-)?[a-z]+-\d)_[a-zA-Z0-9]+$`)

// Pool is a stand-in user pool. Its methods are safe for concurrent use.
type Pool struct {
	poolID, issuer, jwksURL string
	issuerGiven             bool
	clientID                string
	subject, username       string
	email                   string
	groups, scopes          []string
	lifetime                time.Duration
	now, clock              func() time.Time // clock: the one given to Clock, or nil
	defaults                []TokenOption
	firstKID                string
	firstKey                *rsa.PrivateKey

	mu        sync.Mutex
	keys      map[string]*rsa.PrivateKey
	published []string // the kids in the JWKS, in order
	signing   string   // the kid of new tokens
	fault     fault
	answer    http.Handler // with faultAnswer
	stall     *Stall       // non-nil while stalled

	fetches atomic.Int64
	closed  chan struct{} // closed by Close: ends stalled requests

	srv *httptest.Server // nil without a server
	ln  *switchListener
	tb  testing.TB // NewPool's, for Up's failure to listen again
}

// fault is how the JWKS URL answers.
type fault uint8

const (
	faultNone   fault = iota // the JWKS
	faultDown                // 503
	faultRefuse              // no listener: connections are refused
	faultAnswer              // the test's handler
)

// New returns a pool without a network: tokens, JWKS and Handler, but no
// server. Its issuer is Cognito's for its pool id unless Issuer says
// otherwise. Use it with cognito.NewStatic(p.Config(), p.JWKS()), or to
// serve the JWKS on a mux of one's own.
func New(opts ...Option) (*Pool, error) {
	p, err := newPool(opts)
	if err != nil {
		return nil, err
	}
	if !p.issuerGiven {
		region := poolIDPattern.FindStringSubmatch(p.poolID)[1]
		p.issuer = "https://cognito-idp." + region + ".amazonaws.com/" + p.poolID
	}
	p.jwksURL = p.issuer + "/.well-known/jwks.json"
	return p, nil
}

// newPool applies opts and makes the first key.
func newPool(opts []Option) (*Pool, error) {
	p := &Pool{
		poolID:   DefaultPoolID,
		clientID: DefaultClientID,
		subject:  DefaultSubject,
		username: DefaultUsername,
		email:    DefaultEmail,
		scopes:   strings.Fields(DefaultScope),
		lifetime: DefaultLifetime,
		now:      time.Now,
		keys:     map[string]*rsa.PrivateKey{},
		closed:   make(chan struct{}),
	}
	for _, o := range opts {
		if o.apply == nil {
			continue
		}
		if err := o.apply(p); err != nil {
			return nil, err
		}
	}
	kid, key := p.firstKID, p.firstKey
	if key == nil {
		var err error
		if kid, key, err = newKey(); err != nil {
			return nil, err
		}
	}
	p.keys[kid] = key
	p.published, p.signing = []string{kid}, kid
	return p, nil
}

// NewServer returns a pool that serves its JWKS over an httptest server,
// at JWKSURL; its issuer is the server's URL followed by "/<pool id>"
// unless Issuer says otherwise. Close it when done.
func NewServer(opts ...Option) (*Pool, error) {
	p, err := newPool(opts)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/"+p.poolID+"/.well-known/jwks.json", p.Handler())
	p.srv = httptest.NewUnstartedServer(mux)
	p.ln = &switchListener{inner: p.srv.Listener, addr: p.srv.Listener.Addr(), wake: make(chan struct{})}
	p.srv.Listener = p.ln
	p.srv.Start()
	if !p.issuerGiven {
		p.issuer = p.srv.URL + "/" + p.poolID
	}
	p.jwksURL = p.srv.URL + "/" + p.poolID + "/.well-known/jwks.json"
	return p, nil
}

// NewPool returns a pool served as NewServer's is, closed when t and its
// subtests have completed (t.Cleanup). It fails t if the pool cannot be
// made.
func NewPool(t testing.TB, opts ...Option) *Pool {
	t.Helper()
	p, err := NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	p.tb = t
	t.Cleanup(p.Close)
	return p
}

// Close ends every stalled JWKS request and shuts the server down, if the
// pool has one. It is idempotent.
func (p *Pool) Close() {
	p.mu.Lock()
	select {
	case <-p.closed:
		p.mu.Unlock()
		return
	default:
		close(p.closed)
	}
	p.mu.Unlock()
	if p.srv != nil {
		p.srv.Close()
	}
}

// Issuer returns the pool's issuer, the tokens' "iss".
func (p *Pool) Issuer() string { return p.issuer }

// JWKSURL returns the URL of the pool's JWKS.
func (p *Pool) JWKSURL() string { return p.jwksURL }

// PoolID returns the user pool id.
func (p *Pool) PoolID() string { return p.poolID }

// ClientID returns the app client id.
func (p *Pool) ClientID() string { return p.clientID }

// Now returns the time on the pool's clock.
func (p *Pool) Now() time.Time { return p.now() }

// Config returns the configuration of a cognito.Authenticator that
// accepts the pool's access tokens: its Issuer and JWKSURL, its app
// client, TokenUse "access", and its clock when Clock set one. Change
// TokenUse to cognito.TokenUseID for ID tokens; set RefetchInterval (at
// least cognito.MinRefetchInterval) for a test that rotates keys more than
// once in ten seconds.
func (p *Pool) Config() cognito.Config {
	return cognito.Config{
		Issuer:    p.issuer,
		JWKSURL:   p.jwksURL,
		ClientIDs: []string{p.clientID},
		TokenUse:  cognito.TokenUseAccess,
		Now:       p.clock,
	}
}

// Fetches returns the number of JWKS requests the pool has had, answered
// or not.
func (p *Pool) Fetches() int { return int(p.fetches.Load()) }

// KeyID returns the kid of the key that signs new tokens.
func (p *Pool) KeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signing
}

// Published returns the kids of the keys in the JWKS, in order.
func (p *Pool) Published() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.published)
}

// PrivateKey returns the pool's key named kid, or nil, for a test that
// signs a token of its own making.
func (p *Pool) PrivateKey(kid string) *rsa.PrivateKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[kid]
}

// Rotate makes a new key, adds it to the JWKS beside the others and makes
// it sign new tokens, as Cognito rotates; it returns the new kid. Drop the
// old keys with Publish(newKID). It panics if no key can be made.
func (p *Pool) Rotate() string {
	kid := p.AddKey()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.published = append(p.published, kid)
	p.signing = kid
	return kid
}

// AddKey makes a new key that is neither published nor signing, and
// returns its kid: a token signed with it (SignWith) names a key that the
// JWKS lacks until Publish adds it. It panics if no key can be made.
func (p *Pool) AddKey() string {
	kid, key, err := newKey()
	if err != nil {
		panic(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys[kid] = key
	return kid
}

// Publish makes the JWKS hold exactly the keys kids, in that order
// (none: {"keys":[]}). The signing key does not change: tokens signed by a
// key left out fail as signed by an unknown key. It panics on a kid the
// pool does not have.
func (p *Pool) Publish(kids ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, kid := range kids {
		if p.keys[kid] == nil {
			panic("cognitotest: Publish: the pool has no key " + kid)
		}
	}
	p.published = slices.Clone(kids)
}

// jwk is a key of the JWKS, as Cognito publishes it.
type jwk struct {
	Alg string `json:"alg"`
	E   string `json:"e"`
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	N   string `json:"n"`
	Use string `json:"use"`
}

// JWKS returns the JWKS document of the published keys, as Cognito serves
// it at its JWKS URL.
func (p *Pool) JWKS() []byte {
	p.mu.Lock()
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(p.published))}
	for _, kid := range p.published {
		pub := &p.keys[kid].PublicKey
		set.Keys = append(set.Keys, jwk{
			Alg: "RS256", Kid: kid, Kty: "RSA", Use: "sig",
			E: b64(big.NewInt(int64(pub.E)).Bytes()), N: b64(pub.N.Bytes()),
		})
	}
	p.mu.Unlock()
	b, _ := json.Marshal(set) // strings only
	return b
}

var b64 = base64.RawURLEncoding.EncodeToString

// newKey makes an RSA key and its kid, which like Cognito's is base64 of a
// digest of the key.
func newKey() (string, *rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return "", nil, fmt.Errorf("cognitotest: %w", err)
	}
	sum := sha256.Sum256(key.N.Bytes())
	return base64.StdEncoding.EncodeToString(sum[:]), key, nil
}
