package main

import (
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/ssotoken"
)

// A session is a signed cookie and nothing else: an HS256 JWT under the
// session key that holds what the welcome page shows. The server keeps no
// record of it, so no volume of arrivals, however large, can push a
// session out, and every instance that holds the same key accepts the
// sessions of the others. The price: a session cannot be ended on the
// server before its exp, except by changing the key, which ends them all.
const (
	sessionCookie = "lob_session"
	sessionTTL    = 8 * time.Hour
	// minSessionKeyBytes is the shortest -session-key: RFC 7518 section
	// 3.2 asks for an HS256 key at least as long as its hash, 256 bits.
	minSessionKeyBytes = 32
	// maxSessionCookieBytes bounds a session cookie's value: what a
	// browser keeps of one cookie (RFC 6265 section 6.1). A longer value
	// was not made here, and is not parsed.
	maxSessionCookieBytes = 4096
	// sessionLeeway is the clock skew allowed between the instances that
	// share the key, on "iat" and "exp".
	sessionLeeway = time.Minute
)

// sessionAlg is the one algorithm a session cookie may name: a cookie
// under any other (none, HS512, RS256 with the key as a "public key") is
// refused before its signature is looked at.
var sessionAlg = jwt.SigningMethodHS256

// sessionClaims are a session cookie's claims: the TokenNo's claims that
// the welcome page shows, and iss, aud, iat and exp.
type sessionClaims struct {
	CIINo         string `json:"CIINo"`
	LOBId         string `json:"LOBId"`
	Functionality string `json:"Functionality"`
	TokenRefNo    string `json:"TokenRefNo,omitempty"` // the TokenNo's jti, when it had one
	Date          string `json:"Date"`                 // the TokenNo's issue time
	jwt.RegisteredClaims
}

// sessions make and check the session cookies of one LOB. The issuer
// and audience name the lobapp and its LOB, and the key is not the
// TokenNo's, so that neither can stand for the other: a TokenNo presented
// as a session lacks them and fails the signature, and a session cookie
// presented as a TokenNo fails the signature (and its 8-hour lifetime).
type sessions struct {
	key      []byte
	issuer   string // "urn:ssokit:lobapp:" and the LOBId
	audience string // the issuer and ":session"
	now      func() time.Time
	parser   *jwt.Parser
}

// newSessions returns the sessions of LOB lob under key, on the clock
// now.
func newSessions(key []byte, lob string, now func() time.Time) *sessions {
	iss := "urn:ssokit:lobapp:" + lob
	aud := iss + ":session"
	return &sessions{
		key: key, issuer: iss, audience: aud, now: now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{sessionAlg.Alg()}),
			jwt.WithIssuer(iss),
			jwt.WithAudience(aud),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithStrictDecoding(),
			jwt.WithLeeway(sessionLeeway),
			jwt.WithTimeFunc(now),
		),
	}
}

// sessionKey returns the key of c's sessions, and whether it is a random
// one of this process's: c's -session-key, which must be at least
// minSessionKeyBytes long and not the TokenNo's secret (a TokenNo would
// then be signed with a session's key, and the one check between them
// would be the claims), or, when c gives none, 32 random bytes.
func (c appConfig) sessionKey() (key []byte, random bool, err error) {
	switch {
	case c.sessionKeyText == "":
		key = make([]byte, minSessionKeyBytes)
		_, _ = rand.Read(key) // never fails (crypto/rand)
		return key, true, nil
	case len(c.sessionKeyText) < minSessionKeyBytes:
		return nil, false, fmt.Errorf("-session-key (SSO_SESSION_KEY) is %d bytes: at least %d", len(c.sessionKeyText), minSessionKeyBytes)
	case c.secret != "" && hmac.Equal([]byte(c.sessionKeyText), []byte(c.secret)):
		return nil, false, errors.New("-session-key is the TokenNo secret (-sso-secret): give sessions a key of their own, so that a TokenNo can never stand for a session nor a session for a TokenNo")
	}
	return []byte(c.sessionKeyText), false, nil
}

// issue returns the value of a new session cookie for the TokenNo claims
// c, valid for sessionTTL. It fails only for claims too large for a
// cookie, which an issuer that keeps to the document's field lengths
// never signs.
func (s *sessions) issue(c *ssotoken.Claims) (string, error) {
	now := s.now()
	v, err := jwt.NewWithClaims(sessionAlg, sessionClaims{
		CIINo: c.CIINo, LOBId: c.LOBId, Functionality: c.Functionality, TokenRefNo: c.ID, Date: c.Date,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Audience:  jwt.ClaimStrings{s.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(sessionTTL)),
		},
	}).SignedString(s.key)
	if err != nil {
		return "", err
	}
	if len(v) > maxSessionCookieBytes {
		return "", errSessionTooLarge
	}
	return v, nil
}

// errSessionTooLarge refuses a TokenNo whose claims do not fit in a
// session cookie: a browser would drop it.
var errSessionTooLarge = ssotoken.NewError(ssotoken.ErrBadRequest, "session_too_large", "the TokenNo's claims are too large for a session", nil)

// check returns the claims of the session cookie value v, or false when v
// is no session of this LOB's: too long, not a JWT, another algorithm,
// signed with another key, tampered with, expired, or another LOB's.
// Every such cookie is no session, never an error.
func (s *sessions) check(v string) (*sessionClaims, bool) {
	if v == "" || len(v) > maxSessionCookieBytes {
		return nil, false
	}
	var c sessionClaims
	if _, err := s.parser.ParseWithClaims(v, &c, func(*jwt.Token) (any, error) { return s.key, nil }); err != nil {
		return nil, false
	}
	return &c, true
}

// fromRequest returns the claims of r's session cookie, if it holds a
// session.
func (s *sessions) fromRequest(r *http.Request) (*sessionClaims, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, false
	}
	return s.check(c.Value)
}

// sessionCookieFor returns the session cookie of value v for r: Path /,
// HttpOnly, Secure when r came over TLS, and SameSite Lax, so that it
// comes along on the top-level GET of / that follows a portal's cross-site
// POST to /sso, and on no cross-site POST.
func sessionCookieFor(r *http.Request, v string) *http.Cookie {
	return &http.Cookie{
		Name: sessionCookie, Value: v, Path: "/", MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	}
}
