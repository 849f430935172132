package httpadapter

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		token  string
		code   string
	}{
		{name: "Bearer", values: []string{"Bearer abc.def.ghi"}, token: "abc.def.ghi"},
		{name: "lower case", values: []string{"bearer abc"}, token: "abc"},
		{name: "mixed case, tab, padding", values: []string{" BeArEr\tabc "}, token: "abc"},
		{name: "bare token", values: []string{"abc.def.ghi"}, token: "abc.def.ghi"},
		{name: "absent", code: CodeMissingAuthorization},
		{name: "blank", values: []string{"   "}, code: CodeMissingAuthorization},
		{name: "scheme alone", values: []string{"Bearer"}, code: CodeMissingAuthorization},
		{name: "Basic", values: []string{"Basic dXNlcjpwYXNz"}, code: CodeInvalidAuthorization},
		{name: "Bearer with two tokens", values: []string{"Bearer abc def"}, code: CodeInvalidAuthorization},
		{name: "Bearer with a comma list", values: []string{"Bearer abc,Bearer def"}, code: CodeInvalidAuthorization},
		{name: "two headers", values: []string{"Bearer abc", "Bearer def"}, code: CodeMultipleAuthorization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, v := range tt.values {
				r.Header.Add("Authorization", v)
			}
			tok, err := BearerToken(r)
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.token, tok)
				return
			}
			assert.Equal(t, tt.code, ssotoken.CodeOf(err))
			assert.Empty(t, tok)
		})
	}
}

func TestBearerTokenIgnoresQueryAndForm(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/?access_token=abc", strings.NewReader("access_token=abc"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := BearerToken(r)
	assert.Equal(t, CodeMissingAuthorization, ssotoken.CodeOf(err))
}

func TestRequireBearer(t *testing.T) {
	auth := &fakeAuth{errors: map[string]error{
		"tok-no-role": ssotoken.NewError(ssotoken.ErrUnauthorized, "role_missing", "the user lacks the Use API role", nil),
	}}
	h := RequireBearer(auth, BearerOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalFromContext(r.Context())
		require.True(t, ok)
		_, _ = w.Write([]byte(p.Subject))
	}))

	tests := []struct {
		name, authz string
		status      int
		body        string
	}{
		{"valid", "Bearer " + testBearer, 200, "user-1"},
		{"missing", "", 401, `"ErrorCode":"missing_authorization"`},
		{"refused", "Bearer tok-no-role", 401, `"ErrorCode":"role_missing"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/services/v2/user.json", nil)
			if tt.authz != "" {
				r.Header.Set("Authorization", tt.authz)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			assert.Equal(t, tt.status, rec.Code)
			assert.Contains(t, rec.Body.String(), tt.body)
			if tt.status == 401 {
				assert.True(t, strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer"))
			}
		})
	}
	_, ok := PrincipalFromContext(context.Background())
	assert.False(t, ok)
}

func TestRequireSSOToken(t *testing.T) {
	ring := newTestRing(t)
	// With jti every token is distinct; without it, two of the same
	// request in the same millisecond would be one token.
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring, Now: time.Now, IncludeJTI: true})
	require.NoError(t, err)
	v, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{
		Keys: ring, LOBId: "01",
		Replay: ssotoken.NewMemoryReplayStore(ssotoken.MemoryReplayConfig{}),
	})
	require.NoError(t, err)
	issue := func() string {
		resp, err := signer.Issue(context.Background(), ssotoken.Request{CIINo: "10001004", LOBId: "01", Functionality: "D"})
		require.NoError(t, err)
		return resp.TokenNo
	}
	landing := func(opts SSOTokenOptions) http.Handler {
		return RequireSSOToken(v, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := ClaimsFromContext(r.Context())
			require.True(t, ok)
			_, _ = w.Write([]byte(c.CIINo + " " + c.Functionality))
		}))
	}
	form := func(values url.Values) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/sso", strings.NewReader(values.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}

	t.Run("Authorization header, then replay", func(t *testing.T) {
		tok := issue()
		for i, want := range []int{200, 401} {
			r := httptest.NewRequest(http.MethodPost, "/sso", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			landing(SSOTokenOptions{}).ServeHTTP(rec, r)
			require.Equal(t, want, rec.Code, "redemption %d", i+1)
			if want == 401 {
				assert.Contains(t, rec.Body.String(), `"ErrorCode":"token_replayed"`)
			}
		}
	})
	t.Run("POST form field", func(t *testing.T) {
		rec := httptest.NewRecorder()
		landing(SSOTokenOptions{}).ServeHTTP(rec, form(url.Values{"TokenNo": {issue()}}))
		assert.Equal(t, 200, rec.Code)
		assert.Equal(t, "10001004 D", rec.Body.String())
	})
	t.Run("custom form field", func(t *testing.T) {
		rec := httptest.NewRecorder()
		landing(SSOTokenOptions{FormField: "sso"}).ServeHTTP(rec, form(url.Values{"sso": {issue()}}))
		assert.Equal(t, 200, rec.Code)
	})
	t.Run("query string refused by default", func(t *testing.T) {
		rec := httptest.NewRecorder()
		landing(SSOTokenOptions{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sso?TokenNo="+issue(), nil))
		assert.Equal(t, 401, rec.Code)
		assert.Contains(t, rec.Body.String(), CodeMissingAuthorization)
		assert.Contains(t, rec.Body.String(), "TokenNo form field", "the message says where the token goes")
	})
	t.Run("query string when opted in", func(t *testing.T) {
		rec := httptest.NewRecorder()
		landing(SSOTokenOptions{AllowQuery: true}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sso?TokenNo="+issue(), nil))
		assert.Equal(t, 200, rec.Code)
	})
	t.Run("two tokens", func(t *testing.T) {
		rec := httptest.NewRecorder()
		landing(SSOTokenOptions{}).ServeHTTP(rec, form(url.Values{"TokenNo": {issue(), issue()}}))
		assert.Equal(t, 400, rec.Code)
	})
	t.Run("form over the limit", func(t *testing.T) {
		rec := httptest.NewRecorder()
		landing(SSOTokenOptions{MaxFormBytes: 100}).ServeHTTP(rec, form(url.Values{"TokenNo": {strings.Repeat("a", 200)}}))
		assert.Equal(t, 413, rec.Code)
	})
	t.Run("tampered", func(t *testing.T) {
		tok := issue()
		rec := httptest.NewRecorder()
		landing(SSOTokenOptions{}).ServeHTTP(rec, form(url.Values{"TokenNo": {tok[:len(tok)-3] + "AAA"}}))
		assert.Equal(t, 401, rec.Code)
		assert.Equal(t, `Bearer error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
	})
	t.Run("ErrorHandler writes every refusal", func(t *testing.T) {
		var got []string
		opts := SSOTokenOptions{MaxFormBytes: 1000, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = append(got, fmt.Sprintf("%s %d %s", r.URL.Path, StatusFor(err), ssotoken.CodeOf(err)))
			w.WriteHeader(StatusFor(err))
		}}
		tok := issue()
		for _, r := range []*http.Request{
			form(url.Values{"TokenNo": {tok}}),
			form(url.Values{"TokenNo": {tok}}),
			form(url.Values{}),
			form(url.Values{"TokenNo": {strings.Repeat("a", 2000)}}),
		} {
			landing(opts).ServeHTTP(httptest.NewRecorder(), r)
		}
		assert.Equal(t, []string{
			"/sso 401 token_replayed",
			"/sso 401 missing_authorization",
			"/sso 413 body_too_large",
		}, got, "the first redemption succeeds and reaches the landing handler")
	})
}

func TestChallenge(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errMissingAuthorization, "Bearer"},
		{ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeTokenReplayed, "used", nil), `Bearer error="invalid_token"`},
		{ssotoken.NewError(ssotoken.ErrForbidden, ssotoken.CodeInsufficientScope, "scope", nil), `Bearer error="insufficient_scope"`},
		{errUnknownClient, ""},
		{ErrMethodNotAllowed, ""},
		{nil, ""},
	} {
		assert.Equal(t, tt.want, Challenge(tt.err), "%v", tt.err)
		if tt.err != nil {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.err)
			assert.Equal(t, tt.want, rec.Header().Get("WWW-Authenticate"), "WriteError sends Challenge's value")
		}
	}
}

func TestJWKSHandler(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	key, err := ssotoken.NewSigningKey("ed-1", ssotoken.EdDSA, priv)
	require.NoError(t, err)
	hmacKey, err := ssotoken.NewHMACKey("h-1", testSecret)
	require.NoError(t, err)
	ring, err := ssotoken.NewKeyring(key, hmacKey)
	require.NoError(t, err)
	h := JWKSHandler(ring, 0)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/jwks.json", nil))
	require.Equal(t, 200, rec.Code)
	assert.Equal(t, "application/jwk-set+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "public, max-age=300", rec.Header().Get("Cache-Control"))
	var set ssotoken.JWKS
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &set))
	require.Len(t, set.Keys, 1, "the HS256 secret is never published")
	assert.Equal(t, "ed-1", set.Keys[0].Kid)
	assert.NotContains(t, rec.Body.String(), string(testSecret))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/.well-known/jwks.json", nil))
	assert.Equal(t, 200, rec.Code)
	assert.Empty(t, rec.Body.String())

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/.well-known/jwks.json", nil))
	assert.Equal(t, 405, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

func TestStatusFor(t *testing.T) {
	tests := []struct {
		err    error
		status int
	}{
		{nil, 200},
		{ssotoken.NewError(ssotoken.ErrBadRequest, "x", "x", nil), 400},
		{ssotoken.NewError(ssotoken.ErrUnauthorized, "x", "x", nil), 401},
		{ssotoken.NewError(ssotoken.ErrForbidden, "x", "x", nil), 403},
		{ssotoken.NewError(ssotoken.ErrNotAcceptable, "x", "x", nil), 406},
		{ssotoken.NewError(ssotoken.ErrUpstream, "x", "x", nil), 502},
		{ssotoken.NewError(ssotoken.ErrTimeout, "x", "x", nil), 504},
		{ErrMethodNotAllowed, 405},
		{ErrBodyTooLarge, 413},
		{context.DeadlineExceeded, 504},
		{assert.AnError, 502},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.status, StatusFor(tt.err), "%v", tt.err)
	}
}
