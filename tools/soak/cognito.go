package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cognito/cognitotest"
)

// cognitoStandIn is the user pool the run's ssoserver trusts: a
// cognitotest.Pool whose JWKS this process serves on loopback, recording
// every fetch (when, and which kids it held), and the key that signs the
// users' tokens, which the rotation changes. other is a pool of another
// issuer that ssoserver does not trust; its JWKS is served nowhere.
type cognitoStandIn struct {
	pool, other *cognitotest.Pool
	srv         *http.Server
	jwksURL     string

	mu      sync.Mutex
	signing string // the kid of the users' new tokens
	old     string // the kid before the rotation, "" before it
	fetches []fetchAt
}

// fetchAt is a JWKS fetch as served: when, and the kids it held.
type fetchAt struct {
	at   time.Time
	kids []string
}

// poolID is the stand-in pool's id; the issuer is its URL followed by it,
// as Cognito's is.
const poolID = "eu-west-1_SoakPool1"

// startCognito serves a new pool on a loopback port.
func startCognito() (*cognitoStandIn, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	pool, err := cognitotest.New(cognitotest.PoolID(poolID), cognitotest.Issuer(base+"/"+poolID))
	if err != nil {
		ln.Close()
		return nil, err
	}
	other, err := cognitotest.New(cognitotest.PoolID("eu-west-1_OtherPool9"))
	if err != nil {
		ln.Close()
		return nil, err
	}
	c := &cognitoStandIn{pool: pool, other: other, signing: pool.KeyID(),
		jwksURL: base + "/" + poolID + "/.well-known/jwks.json"}
	mux := http.NewServeMux()
	mux.Handle("GET /"+poolID+"/.well-known/jwks.json", http.HandlerFunc(c.serveJWKS))
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// close stops serving the JWKS.
func (c *cognitoStandIn) close() { c.srv.Close() }

// issuer returns the pool's issuer, the tokens' iss.
func (c *cognitoStandIn) issuer() string { return c.pool.Issuer() }

// serveJWKS answers with the pool's JWKS and records the fetch.
func (c *cognitoStandIn) serveJWKS(w http.ResponseWriter, r *http.Request) {
	rec := &bodyRecorder{ResponseWriter: w}
	c.pool.Handler().ServeHTTP(rec, r)
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	_ = json.Unmarshal(rec.body.Bytes(), &set)
	f := fetchAt{at: time.Now()}
	for _, k := range set.Keys {
		f.kids = append(f.kids, k.Kid)
	}
	c.mu.Lock()
	c.fetches = append(c.fetches, f)
	c.mu.Unlock()
}

// bodyRecorder keeps a copy of what a handler writes.
type bodyRecorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (b *bodyRecorder) Write(p []byte) (int, error) {
	b.body.Write(p)
	return b.ResponseWriter.Write(p)
}

// recordedFetches returns the fetches so far, their times given by since
// (negative before the workload).
func (c *cognitoStandIn) recordedFetches(since func(time.Time) time.Duration) []jwksFetch {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]jwksFetch, len(c.fetches))
	for i, f := range c.fetches {
		out[i] = jwksFetch{At: since(f.at), KIDs: f.kids}
	}
	return out
}

// publishNew makes a new key and publishes it beside the signing one,
// which still signs; it returns the new kid.
func (c *cognitoStandIn) publishNew() (old, next string) {
	next = c.pool.AddKey()
	c.mu.Lock()
	old = c.signing
	c.mu.Unlock()
	c.pool.Publish(old, next)
	return old, next
}

// signWith makes kid sign the users' new tokens.
func (c *cognitoStandIn) signWith(kid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.old, c.signing = c.signing, kid
}

// dropOld leaves only the signing key in the JWKS.
func (c *cognitoStandIn) dropOld() {
	c.mu.Lock()
	kid := c.signing
	c.mu.Unlock()
	c.pool.Publish(kid)
}

// keys returns the kid that signs new tokens and the one before the
// rotation ("" before it).
func (c *cognitoStandIn) keys() (signing, old string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signing, c.old
}

// accessToken mints an access token of the pool for u, signed with kid
// (the signing key when empty), changed by opts.
func (c *cognitoStandIn) accessToken(u *user, kid string, opts ...cognitotest.TokenOption) (string, error) {
	if kid == "" {
		kid, _ = c.keys()
	}
	if kid == "" {
		return "", errors.New("no signing key")
	}
	return c.pool.Token(cognito.TokenUseAccess, append(userClaims(u, kid), opts...)...)
}

// otherPoolToken mints an access token of the untrusted pool for u.
func (c *cognitoStandIn) otherPoolToken(u *user) (string, error) {
	return c.other.Token(cognito.TokenUseAccess, userClaims(u, c.other.KeyID())...)
}

// userClaims are the claims that make a token u's: its subject, username
// and CIINo (the custom attribute a pre-token-generation trigger adds).
func userClaims(u *user, kid string) []cognitotest.TokenOption {
	return []cognitotest.TokenOption{
		cognitotest.With("sub", u.sub),
		cognitotest.With("username", u.name),
		cognitotest.With("custom:ciino", u.ciino),
		cognitotest.SignWith(kid),
	}
}
