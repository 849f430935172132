package cognito

import (
	"bytes"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/internal/jose"
)

// claimNames are the claims the Authenticator reads. Under the module's
// JSON policy a member whose name differs from one of them only by case
// ("EXP", "Client_id") is refused.
var claimNames = []string{
	"sub", "iss", "client_id", "aud", "token_use", "scope", "cognito:groups",
	"exp", "iat", "nbf", "auth_time", "jti", "username", "cognito:username",
}

// attrPrefix starts the names of a user pool's custom attributes.
const attrPrefix = "custom:"

// claims are the claims of a Cognito token, decoded by golang-jwt through
// UnmarshalJSON under the module's JSON policy. They implement jwt.Claims,
// so golang-jwt's validator checks exp, nbf and iat.
//
// A claim set that breaks the policy is not refused in UnmarshalJSON,
// which golang-jwt calls before it verifies the signature: the fault is
// kept in err and returned by Validate, which golang-jwt calls after the
// signature has verified. So a forged token is reported as a bad signature
// whatever its claims hold.
type claims struct {
	decoded bool  // UnmarshalJSON ran (a JSON null payload never reaches it)
	err     error // the first fault under the policy, from jose
	raw     []byte

	sub, iss, clientID, tokenUse, scope string
	username, cognitoUsername           string
	audString                           string // "aud" when it is a string
	aud, groups                         []string
	attrs                               map[string]string

	exp, nbf, iat          jwt.NumericDate
	hasExp, hasNbf, hasIat bool
}

var _ jwt.ClaimsValidator = (*claims)(nil)

// UnmarshalJSON decodes the claim set raw under the policy (see claims).
func (c *claims) UnmarshalJSON(raw []byte) error {
	c.decoded = true
	c.raw = bytes.Clone(raw)
	c.err = jose.Object(raw, claimNames, c.member)
	return nil
}

// member decodes one top-level claim, checking its JSON type.
func (c *claims) member(name string, v []byte) (err error) {
	switch name {
	case "sub":
		c.sub, err = jose.String(v)
	case "iss":
		c.iss, err = jose.String(v)
	case "client_id":
		c.clientID, err = jose.String(v)
	case "token_use":
		c.tokenUse, err = jose.String(v)
	case "scope":
		c.scope, err = jose.String(v)
	case "username":
		c.username, err = jose.String(v)
	case "cognito:username":
		c.cognitoUsername, err = jose.String(v)
	case "jti":
		_, err = jose.String(v)
	case "aud":
		if len(v) > 0 && v[0] == '"' {
			c.audString, err = jose.String(v)
			c.aud = []string{c.audString}
		} else {
			c.aud, err = jose.Audience(v) // RFC 7519 section 4.1.3
		}
	case "cognito:groups":
		c.groups, err = jose.Strings(v)
	case "exp":
		c.exp, err = numericDate(v, jose.Seconds)
		c.hasExp = true
	case "nbf":
		c.nbf, err = numericDate(v, jose.SecondsUp)
		c.hasNbf = true
	case "iat":
		c.iat, err = numericDate(v, jose.SecondsUp)
		c.hasIat = true
	case "auth_time":
		_, err = jose.Seconds(v)
	default:
		if strings.HasPrefix(name, attrPrefix) {
			var s string
			if s, err = jose.String(v); err == nil {
				if c.attrs == nil {
					c.attrs = make(map[string]string, 4)
				}
				c.attrs[name] = s
			}
		}
	}
	return err
}

// numericDate is a NumericDate decoded by decode (jose.Seconds or
// jose.SecondsUp: a fraction rounded the stricter way).
func numericDate(v []byte, decode func([]byte) (int64, error)) (jwt.NumericDate, error) {
	n, err := decode(v)
	return jwt.NumericDate{Time: time.Unix(n, 0)}, err
}

// GetExpirationTime returns "exp", or nil when the token has none.
func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) {
	if !c.hasExp {
		return nil, nil
	}
	return &c.exp, nil
}

// GetNotBefore returns "nbf", or nil when the token has none.
func (c *claims) GetNotBefore() (*jwt.NumericDate, error) {
	if !c.hasNbf {
		return nil, nil
	}
	return &c.nbf, nil
}

// GetIssuedAt returns "iat", or nil when the token has none.
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error) {
	if !c.hasIat {
		return nil, nil
	}
	return &c.iat, nil
}

// GetIssuer returns "iss".
func (c *claims) GetIssuer() (string, error) { return c.iss, nil }

// GetSubject returns "sub".
func (c *claims) GetSubject() (string, error) { return c.sub, nil }

// GetAudience returns "aud".
func (c *claims) GetAudience() (jwt.ClaimStrings, error) { return c.aud, nil }

// Validate returns the claim set's fault under the policy, if any. The
// parser calls it once the signature has verified.
func (c *claims) Validate() error {
	if !c.decoded {
		return jose.ErrSyntax // the payload was JSON null
	}
	return c.err
}
