package ssotoken

import (
	"strconv"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/jsonx"
)

// DateLayout is the layout of the "Date" claim: UTC with milliseconds, as
// in the API document's sample ("2025-01-20T08:49:46.756Z").
const DateLayout = "2006-01-02T15:04:05.000Z"

// Claims is the claim set of a TokenNo. The first six fields are exactly
// the API document's sample, in its order, and all a Signer issues by
// default. The optional claims follow them, in this order, each only when
// it is set: "nbf" (never issued by Signer, honoured by Verifier), "iss"
// and "aud" (SignerConfig.Issuer and Audience), and last "jti", the
// TokenRefNo (SignerConfig.IncludeJTI). Times are Unix seconds, as on the
// wire.
type Claims struct {
	CIINo         string `json:"CIINo"`
	LOBId         string `json:"LOBId"`
	Functionality string `json:"Functionality"`
	Date          string `json:"Date"`          // issue time, DateLayout, UTC
	IssuedAt      int64  `json:"iat"`           // Unix seconds
	ExpiresAt     int64  `json:"exp"`           // Unix seconds
	NotBefore     int64  `json:"nbf,omitempty"` // Unix seconds; never issued by Signer, honoured by Verifier
	Issuer        string `json:"iss,omitempty"`
	Audience      string `json:"aud,omitempty"`
	ID            string `json:"jti,omitempty"` // the TokenRefNo, with SignerConfig.IncludeJTI
}

// IssuedAtTime returns IssuedAt as a time.Time.
func (c *Claims) IssuedAtTime() time.Time { return time.Unix(c.IssuedAt, 0) }

// ExpiresAtTime returns ExpiresAt as a time.Time.
func (c *Claims) ExpiresAtTime() time.Time { return time.Unix(c.ExpiresAt, 0) }

// appendJSON appends the claims as a JSON object, in the order of the
// fields of Claims (the API document's, then the optional claims) and with
// the same output as encoding/json for these fields (but without
// reflection, and without escaping <, > and &, which JSON does not
// require); a zero time is left out, as the Signer never issues one.
// A non-zero date is written as the Date claim instead of c.Date, and a
// non-nil jti as the jti claim instead of c.ID, so that the signer needs
// no string for either.
func (c *Claims) appendJSON(b []byte, date time.Time, jti []byte) []byte {
	b = append(b, `{"CIINo":`...)
	b = jsonx.AppendString(b, c.CIINo)
	b = append(b, `,"LOBId":`...)
	b = jsonx.AppendString(b, c.LOBId)
	b = append(b, `,"Functionality":`...)
	b = jsonx.AppendString(b, c.Functionality)
	if date.IsZero() {
		b = append(b, `,"Date":`...)
		b = jsonx.AppendString(b, c.Date)
	} else {
		b = append(b, `,"Date":"`...)
		b = appendDate(b, date)
		b = append(b, '"')
	}
	if c.IssuedAt != 0 {
		b = append(b, `,"iat":`...)
		b = strconv.AppendInt(b, c.IssuedAt, 10)
	}
	if c.ExpiresAt != 0 {
		b = append(b, `,"exp":`...)
		b = strconv.AppendInt(b, c.ExpiresAt, 10)
	}
	if c.NotBefore != 0 {
		b = append(b, `,"nbf":`...)
		b = strconv.AppendInt(b, c.NotBefore, 10)
	}
	if c.Issuer != "" {
		b = append(b, `,"iss":`...)
		b = jsonx.AppendString(b, c.Issuer)
	}
	if c.Audience != "" {
		b = append(b, `,"aud":`...)
		b = jsonx.AppendString(b, c.Audience)
	}
	if jti != nil {
		b = append(b, `,"jti":"`...)
		b = append(b, jti...) // digits only
		b = append(b, '"')
	} else if c.ID != "" {
		b = append(b, `,"jti":`...)
		b = jsonx.AppendString(b, c.ID)
	}
	return append(b, '}')
}

// appendDate appends t in DateLayout, as t.UTC().AppendFormat(b,
// DateLayout) does but without interpreting the layout: a signing spent a
// tenth of its time there.
func appendDate(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, DateLayout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append(b, byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T')
	b = append(b, byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':')
	b = append(b, byte('0'+sec/10), byte('0'+sec%10), '.')
	return append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// claimNames are the claims a TokenNo may carry: a member equal to one of
// them but for case ("lobid", "EXP") is refused.
var claimNames = jose.ClaimNames("CIINo", "LOBId", "Functionality", "Date")

// tokenClaims are a TokenNo's claims as golang-jwt reads them (see
// jose.Registered: decoded under the module's JSON policy, after the
// signature).
type tokenClaims struct {
	jose.Registered
	Claims
}

func newTokenClaims() *tokenClaims {
	c := new(tokenClaims)
	c.Init(claimNames, func(name string, v []byte) (err error) {
		switch name {
		case "CIINo":
			c.CIINo, err = jose.String(v)
		case "LOBId":
			c.LOBId, err = jose.String(v)
		case "Functionality":
			c.Functionality, err = jose.String(v)
		case "Date":
			c.Date, err = jose.String(v)
		}
		return err
	})
	return c
}

// claims returns the decoded claims; call it after a successful parse.
func (c *tokenClaims) claims() *Claims {
	r, out := &c.Registered, &c.Claims
	out.IssuedAt, out.ExpiresAt, out.NotBefore = r.IssuedAt, r.ExpiresAt, r.NotBefore
	out.ID, out.Issuer = r.ID, r.Issuer
	if len(r.Audience) == 1 {
		out.Audience = r.Audience[0]
	}
	return out
}
