package ssotoken

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// The JWS helpers below serve every token class of the module: the
// TokenNo here, and the JWT that package cookiesso issues for a cookie.
// Each class has its own Keyring, so that a token of one class never
// verifies as another.

var b64 = base64.RawURLEncoding.Strict()

// AppendJWS appends to dst a compact JWS (RFC 7515 section 7.1) of
// payload, a JSON object, signed with key: key's header, then the
// base64url payload and signature. It fails only if key cannot sign.
func AppendJWS(dst []byte, key *Key, payload []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, key.header...)
	dst = base64.RawURLEncoding.AppendEncode(dst, payload)
	n := len(dst)
	// The signature goes after the signing input, then is moved into
	// place as base64url; its raw bytes are the scratch space.
	dst, err := key.appendSignature(dst, dst[start:n])
	if err != nil {
		return dst[:start], err
	}
	sigLen := len(dst) - n
	dst = append(dst, make([]byte, base64.RawURLEncoding.EncodedLen(sigLen)+1)...)
	enc := dst[n+sigLen:]
	enc[0] = '.'
	base64.RawURLEncoding.Encode(enc[1:], dst[n:n+sigLen])
	copy(dst[n:], enc)
	return dst[:n+len(enc)], nil
}

// ParseJWS checks that token is a compact JWS signed by a key of ring, and
// appends its decoded payload to dst. It checks, in order: three segments
// of strict base64url (no padding, no alternate encodings); the header,
// whose algorithm must be the key's (a key is found by "kid", or is the
// ring's key without id when the header has none; "crit" is refused); and
// the signature (HMAC compared in constant time). It does not look at the
// payload. Failures are ErrUnauthorized errors with the codes
// token_missing, token_malformed, unknown_key, alg_not_allowed and
// bad_signature. The caller bounds the token's size first.
func ParseJWS(dst []byte, ring *Keyring, token string) ([]byte, *Key, error) {
	if token == "" {
		return dst, nil, errTokenMissing
	}
	i := strings.IndexByte(token, '.')
	if i < 0 {
		return dst, nil, errTokenMalformed
	}
	j := strings.IndexByte(token[i+1:], '.')
	if j < 0 {
		return dst, nil, errTokenMalformed
	}
	j += i + 1
	if strings.IndexByte(token[j+1:], '.') >= 0 {
		return dst, nil, errTokenMalformed
	}
	key, err := lookupKey(ring.load(), token[:i+1])
	if err != nil {
		return dst, nil, err
	}

	// One copy of the token, then the signature and the payload decoded
	// after it; the payload is moved to the front at the end.
	start := len(dst)
	b := append(dst, token...)
	n := len(b)
	b, err = b64.AppendDecode(b, b[start+j+1:n])
	if err != nil {
		return dst, nil, errTokenMalformed
	}
	if !key.verify(b[start:start+j], b[n:]) {
		return dst, nil, errBadSignature
	}
	m := len(b)
	b, err = b64.AppendDecode(b, b[start+i+1:start+j])
	if err != nil {
		return dst, nil, errTokenMalformed
	}
	k := copy(b[start:], b[m:])
	return b[:start+k], key, nil
}

// lookupKey finds the key for the header segment h (with its trailing
// '.'). A header this package produced is found with one map lookup; any
// other is decoded and its alg and kid checked.
func lookupKey(snap *keySnapshot, h string) (*Key, error) {
	if k, ok := snap.byHeader[h]; ok {
		return k, nil
	}
	raw, err := b64.DecodeString(h[:len(h)-1])
	if err != nil {
		return nil, errTokenMalformed
	}
	var hdr struct {
		Alg  *string         `json:"alg"`
		Kid  *string         `json:"kid"`
		Typ  *string         `json:"typ"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr.Alg == nil {
		return nil, errTokenMalformed
	}
	if hdr.Crit != nil {
		// RFC 7515 section 4.1.11: extensions we do not understand.
		return nil, errTokenMalformed
	}
	if hdr.Typ != nil && !strings.EqualFold(*hdr.Typ, "JWT") {
		return nil, errTokenMalformed
	}
	id := ""
	if hdr.Kid != nil {
		if *hdr.Kid == "" {
			return nil, errUnknownKey
		}
		id = *hdr.Kid
	}
	k, ok := snap.byID[id]
	if !ok {
		return nil, errUnknownKey
	}
	if Algorithm(*hdr.Alg) != k.alg {
		return nil, errAlgNotAllowed
	}
	return k, nil
}
