// Package baseline is the GenerateSSOToken handler a user would write
// instead of ssokit: golang-jwt with a keyfunc over the Cognito JWKS into
// MapClaims, the same header, claim, client and body checks,
// encoding/json, and golang-jwt to sign the TokenNo. It is the baseline of
// httpadapter's BenchmarkBaselineHandwritten and of tools/loadtest (the
// tools module), kept in one place so both measure the same code. It is
// not an example to copy.
package baseline

import (
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ssokit/ssokit/ssotoken"
)

// New returns the handler: Cognito access tokens of issuer and clientID,
// verified with the keys of the JWKS document jwks; clients maps each
// x-lob-client-id to the LOBIds it may ask for; secret signs the TokenNo.
// Like the benchmark, every TokenNo carries the same TokenRefNo: the
// baseline measures the checks and the crypto, not a reference number
// generator.
func New(jwks []byte, issuer, clientID string, clients map[string][]string, secret []byte) (http.Handler, error) {
	kf, err := keyfunc.NewJWKSetJSON(jwks)
	if err != nil {
		return nil, err
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired(), jwt.WithIssuer(issuer), jwt.WithIssuedAt())
	fail := func(w http.ResponseWriter, status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"ReturnCode": 0, "ReturnMessage": code, "ErrorCode": code})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			fail(w, 405, "method_not_allowed")
			return
		}
		if r.Header.Get("x-api-version") != "1.0.0" || r.Header.Get("x-lob-client-id") == "" {
			fail(w, 400, "bad_headers")
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			fail(w, 400, "bad_content_type")
			return
		}
		raw := strings.TrimSpace(r.Header.Get("Authorization"))
		if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
			raw = raw[7:]
		}
		tok, err := parser.Parse(raw, kf.KeyfuncCtx(r.Context()))
		if err != nil {
			fail(w, 401, "invalid_token")
			return
		}
		mc := tok.Claims.(jwt.MapClaims)
		if mc["token_use"] != "access" || mc["client_id"] != clientID {
			fail(w, 401, "invalid_token")
			return
		}
		lobs, ok := clients[r.Header.Get("x-lob-client-id")]
		if !ok {
			fail(w, 403, "unknown_client")
			return
		}
		var req ssotoken.Request
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<10)).Decode(&req); err != nil || req.Validate() != nil {
			fail(w, 400, "bad_body")
			return
		}
		if !slices.Contains(lobs, req.LOBId) {
			fail(w, 403, "lob_not_allowed")
			return
		}
		if mc["custom:ciino"] != req.CIINo {
			fail(w, 403, "ciino_mismatch")
			return
		}
		now := time.Now()
		ref := "179541659802801"
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"CIINo": req.CIINo, "LOBId": req.LOBId, "Functionality": req.Functionality,
			"Date": now.UTC().Format(ssotoken.DateLayout), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}).SignedString(secret)
		if err != nil {
			fail(w, 502, "internal_error")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(ssotoken.Response{ReturnCode: 1, ReturnMessage: ssotoken.MessageGenerated, TokenRefNo: ref, TokenNo: s})
	}), nil
}
