package cognito

import (
	"strings"

	"github.com/ssokit/ssokit/internal/jose"
)

// claimNames are the claims the Authenticator reads, beside the
// registered ones. Under the module's JSON policy a member whose name
// differs from one of them only by case ("EXP", "Client_id") is refused.
var claimNames = jose.ClaimNames("client_id", "token_use", "scope", "cognito:groups", "auth_time", "username", "cognito:username")

// attrPrefix starts the names of a user pool's custom attributes.
const attrPrefix = "custom:"

// claims are the claims of a Cognito token: the registered ones, read by
// jose.Registered (golang-jwt's jwt.Claims, decoded under the module's
// JSON policy on the validator's first question, after the signature, so
// a forgery is reported as a bad signature whatever its claims hold), and
// Cognito's own.
type claims struct {
	jose.Registered
	clientID, tokenUse, scope string
	username, cognitoUsername string
	groups                    []string
	attrs                     map[string]string
}

// newClaims returns claims ready for golang-jwt's parser.
func newClaims() *claims {
	c := new(claims)
	c.Init(claimNames, c.member)
	return c
}

// member decodes one of Cognito's own claims, checking its JSON type.
// custom:* attributes must be strings.
func (c *claims) member(name string, v []byte) (err error) {
	switch name {
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
	case "cognito:groups":
		c.groups, err = jose.Strings(v)
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

// audString is "aud" when it is one string (an ID token's app client), or
// "": aws-jwt-verify refuses any other "aud" for an ID token.
func (c *claims) audString() string {
	if c.AudienceString {
		return c.Audience[0]
	}
	return ""
}
