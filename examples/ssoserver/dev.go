package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cognito/cognitotest"
	"github.com/ssokit/ssokit/cookiesso/cookiessotest"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// Dev mode's registrations.
const (
	devAppClient = "dev-app-client" // the Cognito app client of the dev access token
	devLOBClient = "1RrLMyLrZGA="   // the document's sample x-lob-client-id
	devLifetime  = 12 * time.Hour
	// devCIINoClaim is the claim of the dev access token that holds the
	// caller's CIINo, the sample's; dev mode binds the body's CIINo to it.
	devCIINoClaim = "custom:ciino"
)

// The GenerateSSOToken document's request sample.
const (
	sampleCIINo         = "10001XXX"
	sampleLOBId         = "XX"
	sampleFunctionality = "D"
)

// devSample is the request that dev mode's curl line and the portal's page
// send: the document's request sample, with the first registered client
// and LOB where -lob-client registered others.
type devSample struct {
	clientID, ciino, lobID, functionality string
}

func newDevSample(o *options) devSample {
	clientID := devLOBClient
	if _, ok := o.clients[clientID]; !ok {
		clientID = slices.Sorted(maps.Keys(o.clients))[0]
	}
	lobID := o.clients[clientID][0]
	if slices.Contains(o.clients[clientID], sampleLOBId) {
		lobID = sampleLOBId
	}
	return devSample{clientID: clientID, ciino: sampleCIINo, lobID: lobID, functionality: sampleFunctionality}
}

// body is the sample's JSON body.
func (s devSample) body() string {
	b, _ := json.Marshal(ssotoken.Request{CIINo: s.ciino, LOBId: s.lobID, Functionality: s.functionality})
	return string(b)
}

// devCreds are dev mode's stand-in for Cognito and the credentials it
// prints.
type devCreds struct {
	issuer      string
	cognitoKeys *ssotoken.Keyring
	jwks        []byte
	accessToken string
	cookie      string
	expires     time.Time // of the access token and the cookie

	generatedSSOSecret bool // -sso-secret was neither given nor in SSO_SECRET
}

// newDevCreds makes an ephemeral RSA key for the dev Cognito, signs a dev
// access token with it, fills in random secrets that were not given, and
// signs a dev SSO cookie. The stand-ins for Cognito and for the main site
// that sets the cookie are the module's test kits, cognitotest and
// cookiessotest.
func newDevCreds(o *options, base string) (*devCreds, error) {
	d := &devCreds{generatedSSOSecret: o.ssoSecret == "" && o.ssoKey == nil}
	for _, s := range []*string{&o.ssoSecret, &o.cookieSecret, &o.apiSecret} {
		if *s == "" && (s != &o.ssoSecret || o.ssoKey == nil) {
			*s = rand.Text() + rand.Text()
		}
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	key, err := ssotoken.NewSigningKey("dev-cognito-1", ssotoken.RS256, priv)
	if err != nil {
		return nil, err
	}
	ring, err := ssotoken.NewKeyring(key) // what build serves at /dev/cognito/.well-known/jwks.json
	if err != nil {
		return nil, err
	}
	now := time.Now()
	d.expires = now.Add(devLifetime)
	pool, err := cognitotest.New(
		cognitotest.SigningKey(key.ID(), priv),
		cognitotest.Issuer(base+"/dev/cognito"),
		cognitotest.ClientID(o.cognitoClientIDs[0]),
		cognitotest.Subject("00000000-0000-4000-8000-000000000001"),
		cognitotest.Username("dev-user"),
		cognitotest.Groups("Use API"),
		cognitotest.Scopes(append([]string{"aws.cognito.signin.user.admin"}, o.reqScopes...)...),
		cognitotest.Clock(func() time.Time { return now }), // the token is minted now, once
		cognitotest.Lifetime(devLifetime),
	)
	if err != nil {
		return nil, err
	}
	d.issuer, d.cognitoKeys, d.jwks = pool.Issuer(), ring, pool.JWKS()
	var claims []cognitotest.TokenOption
	if o.ciinoClaim != "" {
		claims = append(claims, cognitotest.With(o.ciinoClaim, sampleCIINo))
	}
	if d.accessToken, err = pool.Token(cognito.TokenUseAccess, claims...); err != nil {
		return nil, err
	}

	site, err := cookiessotest.NewSigner(
		cookiessotest.Secret([]byte(o.cookieSecret)),
		cookiessotest.Clock(func() time.Time { return now }),
		cookiessotest.Lifetime(devLifetime),
	)
	if err != nil {
		return nil, err
	}
	d.cookie, err = site.Sign(site.Claims("dev-user", "Use API"))
	return d, err
}

// print writes dev mode's banner: how to stop the server, then lines to
// paste into bash or zsh in another terminal, at the repository's root.
// Every line is either a comment or a command that works as pasted. Each
// credential is printed once, in a shell variable (TOKEN, COOKIE) that
// the commands after it use, or in the command that needs it (lobapp's
// SSO_SECRET).
func (d *devCreds) print(w io.Writer, base string, o *options, portal string) {
	s := newDevSample(o)
	var cacert, certEnv string // with -tls-cert: how curl and Go programs trust it
	if o.tlsPair != nil {
		cacert = " --cacert " + shellQuote(o.tlsCertFile)
		certEnv = "SSL_CERT_FILE=" + shellQuote(o.tlsCertFile) + " "
	}
	exchange := "curl -sS" + cacert + " -X POST " + shellQuote(base+httpadapter.CookieSSOPath) +
		` -H "Cookie: $COOKIE" -H "Accept: application/json" -H "Content-Type: application/json"`

	// examples/client's flags where its defaults are not this server's.
	client := "go run ./examples/client"
	for _, f := range [][3]string{
		{"-url", base, "http://127.0.0.1:8080"},
		{"-client-id", s.clientID, devLOBClient},
		{"-api-version", o.apiVersions[0], "1.0.0"},
		{"-lob", s.lobID, sampleLOBId},
	} {
		if f[1] != f[2] {
			client += " " + f[0] + " " + shellQuote(f[1])
		}
	}
	client = certEnv + client + ` -token "$TOKEN"`

	lobapp := "go run ./examples/lobapp"
	if s.lobID != sampleLOBId {
		lobapp += " -lob " + shellQuote(s.lobID)
	}
	if addr := lobAddr(o.lobURL); addr != "" && addr != "127.0.0.1:8081" {
		lobapp += " -addr " + shellQuote(addr)
	}
	switch {
	case o.ssoKey != nil:
		lobapp = certEnv + lobapp + " -sso-jwks-url " + shellQuote(base+"/.well-known/jwks.json") + "   # this server's public keys"
	case d.generatedSSOSecret:
		lobapp = "SSO_SECRET=" + singleQuote(o.ssoSecret) + " " + lobapp + "   # this dev server's random secret"
	default:
		lobapp += "   # with this server's SSO_SECRET in the environment"
	}

	fmt.Fprintf(w, `
# ssoserver is running in dev mode on %[1]s: an ephemeral RSA key stands in for Cognito
# (its JWKS: %[1]s/dev/cognito/.well-known/jwks.json). Stop it with Ctrl-C.
# Paste these lines into bash or zsh in another terminal, at the repository's root. The dev
# access token (of dev-user, from the dev Cognito) and the dev SSO cookie are valid for 12 hours.
TOKEN=%[2]s
COOKIE=%[3]s

# GenerateSSOToken: a TokenNo for LOB %[4]s
curl -sS%[5]s -X POST %[6]s -H %[7]s -H %[8]s -H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" -d %[9]s

# The same call through httpadapter.Client
%[10]s

# Cookie SSO: exchange the SSO cookie for a JWT
%[11]s

# The user behind the JWT (needs the "Use API" role)
JWT=$(%[11]s | sed -E 's/.*"jwt":"([^"]+)".*/\1/'); curl -sS%[5]s %[12]s -H "Accept: application/json" -H "Authorization: Bearer $JWT"

# The linked LOB, to hand a TokenNo to (POST it to %[13]s as TokenNo=...)
%[14]s
`, base, singleQuote(d.accessToken), singleQuote(o.cookieName+"="+d.cookie), s.lobID, cacert,
		shellQuote(base+"/v2/get_sso_token"), shellQuote("x-api-version: "+o.apiVersions[0]), shellQuote("x-lob-client-id: "+s.clientID),
		shellQuote(s.body()), client, exchange, shellQuote(base+userJSONPath), o.lobURL, lobapp)
	if portal != "" {
		fmt.Fprintf(w, `
# Both journeys in a browser (start the LOB with the line above first): the portal runs the
# document's fetch sample and hands you to the LOB; its forum exchanges the SSO cookie. Open
# %s/
`, portal)
	}
	fmt.Fprintln(w)
}

// lobAddr is the listen address lobapp needs for the LOB URL u: its host
// and port when u is http on loopback, else "".
func lobAddr(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" || p.Port() == "" || !isLoopback(p.Host) {
		return ""
	}
	return p.Host
}

// shellQuote quotes s for bash and zsh: in double quotes when that keeps
// it as it is (no $, `, \, " or !, which interactive shells expand), else
// in single quotes.
func shellQuote(s string) string {
	if !strings.ContainsAny(s, "$`\\\"!") {
		return `"` + s + `"`
	}
	return singleQuote(s)
}

// singleQuote quotes s for bash and zsh in single quotes, which keep
// everything as it is.
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
