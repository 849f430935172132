package httpadapter

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// absent is the want of an extractor case whose source is not in the
// request.
const absent = "(absent)"

// req builds a request for the option tables: method, Authorization
// values, Cookie lines, and a form body (POSTed as
// application/x-www-form-urlencoded) or a query.
type req struct {
	method  string
	target  string
	authz   []string
	cookies []string
	form    string
	ctype   string
	origin  string
	acrm    string
}

func (q req) build() *http.Request {
	method := cmp.Or(q.method, http.MethodGet)
	var body io.Reader
	if q.form != "" {
		body = strings.NewReader(q.form)
	}
	r := httptest.NewRequest(method, cmp.Or(q.target, "/api"), body)
	if q.form != "" {
		r.Header.Set("Content-Type", cmp.Or(q.ctype, "application/x-www-form-urlencoded"))
	}
	for _, v := range q.authz {
		r.Header.Add("Authorization", v)
	}
	for _, v := range q.cookies {
		r.Header.Add("Cookie", v)
	}
	if q.origin != "" {
		r.Header.Set("Origin", q.origin)
	}
	if q.acrm != "" {
		r.Header.Set("Access-Control-Request-Method", q.acrm)
	}
	return r
}

func TestTokenExtractors(t *testing.T) {
	header, cookie, form := FromAuthorizationHeader(), FromCookie("sso"), FromForm("TokenNo")
	tests := []struct {
		name string
		ex   TokenExtractor
		req  req
		want string // the token, absent, or the refusal's code
	}{
		{"header: Bearer", header, req{authz: []string{"Bearer abc"}}, "abc"},
		{"header: bare token", header, req{authz: []string{"abc"}}, "abc"},
		{"header: none", header, req{cookies: []string{"sso=abc"}}, absent},
		{"header: blank is refused, not absent", header, req{authz: []string{" "}}, CodeMissingAuthorization},
		{"header: Basic", header, req{authz: []string{"Basic dXNlcjpw"}}, CodeInvalidAuthorization},
		{"header: two", header, req{authz: []string{"Bearer a", "Bearer b"}}, CodeMultipleAuthorization},

		{"cookie", cookie, req{cookies: []string{"a=1; sso=abc; b=2"}}, "abc"},
		{"cookie: quoted", cookie, req{cookies: []string{`sso="abc"`}}, "abc"},
		{"cookie: none", cookie, req{cookies: []string{"other=abc"}}, absent},
		{"cookie: no Cookie header, an Authorization header", cookie, req{authz: []string{"Bearer abc"}}, absent},
		{"cookie and a header: the cookie", cookie, req{authz: []string{"Bearer other"}, cookies: []string{"sso=abc"}}, "abc"},
		{"cookie: empty (cleared at sign-out)", cookie, req{cookies: []string{"sso="}}, absent},
		{"cookie: twice in one line", cookie, req{cookies: []string{"sso=a; sso=b"}}, CodeMultipleAuthorization},
		{"cookie: twice in two lines", cookie, req{cookies: []string{"sso=a", "sso=b"}}, CodeMultipleAuthorization},
		{"cookie: twice, the same value", cookie, req{cookies: []string{"sso=a; sso=a"}}, CodeMultipleAuthorization},
		{"cookie: twice, one empty", cookie, req{cookies: []string{"sso=; sso=b"}}, CodeMultipleAuthorization},
		{"cookie: a space", cookie, req{cookies: []string{`sso="a b"`}}, CodeInvalidAuthorization},
		{"cookie: a comma", cookie, req{cookies: []string{"sso=a,b"}}, CodeInvalidAuthorization},
		{"cookie: unparsable", cookie, req{cookies: []string{`sso=a\b`}}, CodeInvalidAuthorization},

		{"form: POST", form, req{method: "POST", form: "TokenNo=abc&x=1"}, "abc"},
		{"form: with a charset", form, req{method: "POST", form: "TokenNo=abc", ctype: "application/x-www-form-urlencoded; charset=utf-8"}, "abc"},
		{"form: GET with the field in the query", form, req{target: "/api?TokenNo=abc"}, absent},
		{"form: POST with the field in the query only", form, req{method: "POST", target: "/api?TokenNo=abc", form: "x=1"}, absent},
		{"form: POST JSON", form, req{method: "POST", form: `{"TokenNo":"abc"}`, ctype: "application/json"}, absent},
		{"form: PUT", form, req{method: "PUT", form: "TokenNo=abc"}, absent},
		{"form: without the field", form, req{method: "POST", form: "x=1"}, absent},
		{"form: empty", form, req{method: "POST", form: "TokenNo="}, CodeMissingAuthorization},
		{"form: twice", form, req{method: "POST", form: "TokenNo=a&TokenNo=b"}, CodeMultipleAuthorization},
		{"form: unreadable", form, req{method: "POST", form: "TokenNo=%zz"}, CodeMalformedBody},
		{"form: over 16 KiB", form, req{method: "POST", form: "TokenNo=" + strings.Repeat("a", DefaultMaxFormBytes)}, CodeBodyTooLarge},

		{"first: header only", FromFirst(header, cookie), req{authz: []string{"Bearer h"}}, "h"},
		{"first: cookie only", FromFirst(header, cookie), req{cookies: []string{"sso=c"}}, "c"},
		{"first: both, in order", FromFirst(header, cookie), req{authz: []string{"Bearer h"}, cookies: []string{"sso=c"}}, "h"},
		{"first: both, the other order", FromFirst(cookie, header), req{authz: []string{"Bearer h"}, cookies: []string{"sso=c"}}, "c"},
		{"first: a blank header does not fall through", FromFirst(header, cookie), req{authz: []string{""}, cookies: []string{"sso=c"}}, CodeMissingAuthorization},
		{"first: Basic does not fall through", FromFirst(header, cookie), req{authz: []string{"Basic x"}, cookies: []string{"sso=c"}}, CodeInvalidAuthorization},
		{"first: two headers are refused", FromFirst(header, cookie), req{authz: []string{"a", "b"}, cookies: []string{"sso=c"}}, CodeMultipleAuthorization},
		{"first: two cookies are refused", FromFirst(cookie, header), req{authz: []string{"Bearer h"}, cookies: []string{"sso=a; sso=b"}}, CodeMultipleAuthorization},
		{"first: an empty cookie falls through", FromFirst(cookie, header), req{authz: []string{"Bearer h"}, cookies: []string{"sso="}}, "h"},
		{"first: none", FromFirst(header, cookie, form), req{method: "POST", form: "x=1"}, absent},
		{"first: form last", FromFirst(header, cookie, form), req{method: "POST", form: "TokenNo=f"}, "f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.ex(httptest.NewRecorder(), tt.req.build())
			switch {
			case tt.want == absent:
				assert.NoError(t, err)
				assert.Empty(t, tok)
			case strings.Contains(tt.want, "_"):
				assert.Equal(t, tt.want, ssotoken.CodeOf(err), "%v", err)
				assert.Empty(t, tok)
			default:
				assert.NoError(t, err)
				assert.Equal(t, tt.want, tok)
			}
		})
	}
}

// FromFirst reads no source after the one that decides: a form body stays
// unread for the next handler.
func TestFromFirstReadsNoLaterSource(t *testing.T) {
	r := req{method: "POST", authz: []string{"Bearer h"}, form: "TokenNo=f"}.build()
	tok, err := FromFirst(FromAuthorizationHeader(), FromForm("TokenNo"))(httptest.NewRecorder(), r)
	require.NoError(t, err)
	assert.Equal(t, "h", tok)
	assert.Nil(t, r.PostForm, "the form was not parsed")
	body, _ := io.ReadAll(r.Body)
	assert.Equal(t, "TokenNo=f", string(body))
}

func TestExtractorPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"FromCookie empty":     func() { FromCookie("") },
		"FromCookie space":     func() { FromCookie("a b") },
		"FromCookie semicolon": func() { FromCookie("a;b") },
		"FromForm empty":       func() { FromForm("") },
		"FromFirst none":       func() { FromFirst() },
		"FromFirst nil":        func() { FromFirst(FromAuthorizationHeader(), nil) },
		"RequireBearer nil":    func() { RequireBearer(nil, BearerOptions{}) },
		"extractor + FormField": func() {
			RequireSSOToken(fakeVerifier{}, SSOTokenOptions{TokenExtractor: FromCookie("sso"), FormField: "x"})
		},
		"extractor + MaxForm": func() {
			RequireSSOToken(fakeVerifier{}, SSOTokenOptions{TokenExtractor: FromCookie("sso"), MaxFormBytes: 1})
		},
		"extractor + AllowQuery": func() {
			RequireSSOToken(fakeVerifier{}, SSOTokenOptions{TokenExtractor: FromCookie("sso"), AllowQuery: true})
		},
	} {
		assert.Panics(t, f, name)
	}
	assert.NotPanics(t, func() { FromCookie("AnswerHubCookieSSO") })
}

// whoami is the next handler of the option tables: it answers 200 with
// the principal's subject, the claims' CIINo, or "anonymous", and
// "preflight" for an OPTIONS request.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch p, ok := PrincipalFromContext(r.Context()); {
	case r.Method == http.MethodOptions:
		_, _ = io.WriteString(w, "preflight")
	case ok:
		_, _ = io.WriteString(w, p.Subject)
	default:
		if c, ok := ClaimsFromContext(r.Context()); ok {
			_, _ = io.WriteString(w, c.CIINo)
			return
		}
		_, _ = io.WriteString(w, "anonymous")
	}
})

// optionCase is a row of the middleware option tables: the response's
// status and, for 200, its body (who the next handler saw), else its
// ErrorCode.
type optionCase struct {
	name   string
	req    req
	status int
	want   string
}

func runOptionCases(t *testing.T, h http.Handler, tests []optionCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req.build())
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status == http.StatusOK {
				assert.Equal(t, tt.want, rec.Body.String())
				return
			}
			assert.Contains(t, rec.Body.String(), `"ErrorCode":"`+tt.want+`"`)
			if tt.status == http.StatusUnauthorized {
				assert.True(t, strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer"))
			}
		})
	}
}

const (
	preflightOrigin = "https://www.abc.example"
	badToken        = "forged.token.x"
)

func TestRequireBearerOptions(t *testing.T) {
	auth := &fakeAuth{errors: map[string]error{
		"tok-no-role": ssotoken.NewError(ssotoken.ErrForbidden, ssotoken.CodeInsufficientScope, "the user lacks the Use API role", nil),
		"tok-nil":     nil,
	}}
	ok := []string{"Bearer " + testBearer}
	bad := []string{"Bearer " + badToken}
	preflight := req{method: http.MethodOptions, origin: preflightOrigin, acrm: http.MethodGet}
	preflightBadToken := preflight
	preflightBadToken.authz = bad

	tables := []struct {
		name  string
		opts  BearerOptions
		cases []optionCase
	}{
		{"defaults", BearerOptions{}, []optionCase{
			{"header", req{authz: ok}, 200, "user-1"},
			{"none", req{}, 401, CodeMissingAuthorization},
			{"a cookie is not read", req{cookies: []string{"sso=" + testBearer}}, 401, CodeMissingAuthorization},
			{"a form is not read", req{method: "POST", form: "access_token=" + testBearer}, 401, CodeMissingAuthorization},
			{"bad", req{authz: bad}, 401, ssotoken.CodeBadSignature},
			{"insufficient scope", req{authz: []string{"Bearer tok-no-role"}}, 403, ssotoken.CodeInsufficientScope},
			{"authenticator without a principal", req{authz: []string{"Bearer tok-nil"}}, 502, ssotoken.CodeInternal},
			{"two headers", req{authz: []string{"Bearer a", "Bearer b"}}, 400, CodeMultipleAuthorization},
			{"preflight is refused", preflight, 401, CodeMissingAuthorization},
		}},
		{"cookie", BearerOptions{TokenExtractor: FromCookie("sso")}, []optionCase{
			{"cookie", req{cookies: []string{"sso=" + testBearer}}, 200, "user-1"},
			{"cookie and a bad header: the cookie", req{authz: bad, cookies: []string{"sso=" + testBearer}}, 200, "user-1"},
			{"bad cookie and a good header: the cookie", req{authz: ok, cookies: []string{"sso=" + badToken}}, 401, ssotoken.CodeBadSignature},
			{"header only", req{authz: ok}, 401, CodeMissingAuthorization},
			{"cookie twice", req{cookies: []string{"sso=" + testBearer, "sso=" + badToken}}, 400, CodeMultipleAuthorization},
		}},
		{"header, then cookie", BearerOptions{TokenExtractor: FromFirst(FromAuthorizationHeader(), FromCookie("sso"))}, []optionCase{
			{"cookie only", req{cookies: []string{"sso=" + testBearer}}, 200, "user-1"},
			{"good header, bad cookie", req{authz: ok, cookies: []string{"sso=" + badToken}}, 200, "user-1"},
			{"bad header, good cookie: no fall-through", req{authz: bad, cookies: []string{"sso=" + testBearer}}, 401, ssotoken.CodeBadSignature},
			{"blank header, good cookie", req{authz: []string{""}, cookies: []string{"sso=" + testBearer}}, 401, CodeMissingAuthorization},
			{"neither", req{}, 401, CodeMissingAuthorization},
		}},
		{"form", BearerOptions{TokenExtractor: FromForm("access_token")}, []optionCase{
			{"POST", req{method: "POST", form: "access_token=" + testBearer}, 200, "user-1"},
			{"GET with the query", req{target: "/api?access_token=" + testBearer}, 401, CodeMissingAuthorization},
			{"GET with a header", req{authz: ok}, 401, CodeMissingAuthorization},
			{"twice", req{method: "POST", form: "access_token=" + testBearer + "&access_token=" + testBearer}, 400, CodeMultipleAuthorization},
		}},
		{"optional", BearerOptions{CredentialsOptional: true}, []optionCase{
			{"no token", req{}, 200, "anonymous"},
			{"good token", req{authz: ok}, 200, "user-1"},
			{"bad token", req{authz: bad}, 401, ssotoken.CodeBadSignature},
			{"blank header", req{authz: []string{" "}}, 401, CodeMissingAuthorization},
			{"Basic", req{authz: []string{"Basic dXNlcjpw"}}, 401, CodeInvalidAuthorization},
			{"two headers", req{authz: []string{"a", "b"}}, 400, CodeMultipleAuthorization},
			{"insufficient scope", req{authz: []string{"Bearer tok-no-role"}}, 403, ssotoken.CodeInsufficientScope},
			{"preflight is still refused", preflightBadToken, 401, ssotoken.CodeBadSignature},
		}},
		{"optional cookie", BearerOptions{CredentialsOptional: true, TokenExtractor: FromCookie("sso")}, []optionCase{
			{"no cookie", req{authz: ok}, 200, "anonymous"},
			{"cleared cookie", req{cookies: []string{"sso="}}, 200, "anonymous"},
			{"good cookie", req{cookies: []string{"sso=" + testBearer}}, 200, "user-1"},
			{"bad cookie", req{cookies: []string{"sso=" + badToken}}, 401, ssotoken.CodeBadSignature},
			{"cookie twice", req{cookies: []string{"sso=a; sso=b"}}, 400, CodeMultipleAuthorization},
		}},
		{"preflight", BearerOptions{PassPreflight: true}, []optionCase{
			{"preflight", preflight, 200, "preflight"},
			{"preflight with a bad token is not authenticated", preflightBadToken, 200, "preflight"},
			{"OPTIONS without Access-Control-Request-Method", req{method: http.MethodOptions, origin: preflightOrigin}, 401, CodeMissingAuthorization},
			{"OPTIONS without Origin", req{method: http.MethodOptions, acrm: http.MethodGet}, 401, CodeMissingAuthorization},
			{"GET with the preflight's headers", req{origin: preflightOrigin, acrm: http.MethodGet}, 401, CodeMissingAuthorization},
			{"GET", req{authz: ok, origin: preflightOrigin}, 200, "user-1"},
		}},
		{"optional preflight cookie", BearerOptions{CredentialsOptional: true, PassPreflight: true, TokenExtractor: FromCookie("sso")}, []optionCase{
			{"preflight", preflight, 200, "preflight"},
			{"none", req{}, 200, "anonymous"},
			{"bad", req{cookies: []string{"sso=" + badToken}}, 401, ssotoken.CodeBadSignature},
		}},
	}
	for _, tab := range tables {
		t.Run(tab.name, func(t *testing.T) {
			runOptionCases(t, RequireBearer(auth, tab.opts)(whoami), tab.cases)
		})
	}
}

// The ErrorHandler writes every refusal, whatever the options, and is
// never called for a request that passes.
func TestRequireBearerErrorHandler(t *testing.T) {
	auth := &fakeAuth{errors: map[string]error{"tok-nil": nil}}
	for i, opts := range []BearerOptions{
		{},
		{CredentialsOptional: true, PassPreflight: true},
		{TokenExtractor: FromFirst(FromAuthorizationHeader(), FromCookie("sso"), FromForm("access_token"))},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var got []string
			opts.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
				got = append(got, fmt.Sprintf("%s %d %s", r.URL.Path, StatusFor(err), ssotoken.CodeOf(err)))
				w.WriteHeader(http.StatusTeapot)
			}
			h := RequireBearer(auth, opts)(whoami)
			refusals := []struct {
				req  req
				want string
			}{
				{req{authz: []string{"Bearer " + badToken}}, "/api 401 bad_signature"},
				{req{authz: []string{" "}}, "/api 401 missing_authorization"},
				{req{authz: []string{"Basic x"}}, "/api 401 invalid_authorization"},
				{req{authz: []string{"a", "b"}}, "/api 400 multiple_authorization"},
				{req{authz: []string{"Bearer tok-nil"}}, "/api 502 internal_error"},
			}
			passes := []req{{authz: []string{"Bearer " + testBearer}}}
			if opts.CredentialsOptional {
				passes = append(passes, req{}, req{method: http.MethodOptions, origin: preflightOrigin, acrm: http.MethodGet})
			} else {
				refusals = append(refusals, struct {
					req  req
					want string
				}{req{}, "/api 401 missing_authorization"})
			}
			var want []string
			for _, tt := range refusals {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, tt.req.build())
				assert.Equal(t, http.StatusTeapot, rec.Code, "written by the ErrorHandler")
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "WriteError was not called")
				want = append(want, tt.want)
			}
			for _, q := range passes {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, q.build())
				assert.Equal(t, http.StatusOK, rec.Code)
			}
			assert.Equal(t, want, got)
		})
	}
}

// fakeVerifier accepts "tok-ok" (CIINo 10001004), answers "tok-used" as
// replayed and anything else as forged.
type fakeVerifier struct{}

func (fakeVerifier) Verify(_ context.Context, tok string) (*ssotoken.Claims, error) {
	switch tok {
	case "tok-ok":
		return &ssotoken.Claims{CIINo: "10001004", LOBId: "01", Functionality: "D"}, nil
	case "tok-used":
		return nil, ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeTokenReplayed, "the token was already used", nil)
	}
	return nil, ssotoken.NewError(ssotoken.ErrUnauthorized, ssotoken.CodeBadSignature, "the token's signature is not valid", nil)
}

func TestRequireSSOTokenOptions(t *testing.T) {
	preflight := req{method: http.MethodOptions, origin: preflightOrigin, acrm: http.MethodPost}
	tables := []struct {
		name  string
		opts  SSOTokenOptions
		cases []optionCase
	}{
		{"defaults", SSOTokenOptions{}, []optionCase{
			{"header", req{method: "POST", authz: []string{"Bearer tok-ok"}}, 200, "10001004"},
			{"form", req{method: "POST", form: "TokenNo=tok-ok"}, 200, "10001004"},
			{"header and form: the header, as before", req{method: "POST", authz: []string{"Bearer tok-ok"}, form: "TokenNo=forged"}, 200, "10001004"},
			{"bad header and good form: no fall-through", req{method: "POST", authz: []string{"Bearer forged"}, form: "TokenNo=tok-ok"}, 401, ssotoken.CodeBadSignature},
			{"blank header and form", req{method: "POST", authz: []string{""}, form: "TokenNo=tok-ok"}, 401, CodeMissingAuthorization},
			{"form twice", req{method: "POST", form: "TokenNo=tok-ok&TokenNo=tok-ok"}, 400, CodeMultipleAuthorization},
			{"form empty", req{method: "POST", form: "TokenNo="}, 401, CodeMissingAuthorization},
			{"GET with the query", req{target: "/sso?TokenNo=tok-ok"}, 401, CodeMissingAuthorization},
			{"a cookie is not read", req{cookies: []string{"TokenNo=tok-ok"}}, 401, CodeMissingAuthorization},
			{"used", req{method: "POST", form: "TokenNo=tok-used"}, 401, ssotoken.CodeTokenReplayed},
			{"preflight is refused", preflight, 401, CodeMissingAuthorization},
		}},
		{"query allowed", SSOTokenOptions{AllowQuery: true}, []optionCase{
			{"GET with the query", req{target: "/sso?TokenNo=tok-ok"}, 200, "10001004"},
			{"form and query: two tokens", req{method: "POST", target: "/sso?TokenNo=tok-ok", form: "TokenNo=tok-ok"}, 400, CodeMultipleAuthorization},
		}},
		{"cookie", SSOTokenOptions{TokenExtractor: FromCookie("TokenNo")}, []optionCase{
			{"cookie", req{cookies: []string{"TokenNo=tok-ok"}}, 200, "10001004"},
			{"cookie and a bad header: the cookie", req{authz: []string{"Bearer forged"}, cookies: []string{"TokenNo=tok-ok"}}, 200, "10001004"},
			{"form only", req{method: "POST", form: "TokenNo=tok-ok"}, 401, CodeMissingAuthorization},
			{"cookie twice", req{cookies: []string{"TokenNo=tok-ok; TokenNo=tok-ok"}}, 400, CodeMultipleAuthorization},
		}},
		{"form", SSOTokenOptions{TokenExtractor: FromForm("sso")}, []optionCase{
			{"POST", req{method: "POST", form: "sso=tok-ok"}, 200, "10001004"},
			{"GET", req{target: "/sso?sso=tok-ok"}, 401, CodeMissingAuthorization},
			{"header only", req{method: "POST", authz: []string{"Bearer tok-ok"}, form: "x=1"}, 401, CodeMissingAuthorization},
		}},
		{"optional", SSOTokenOptions{CredentialsOptional: true}, []optionCase{
			{"no token", req{}, 200, "anonymous"},
			{"a form without the field", req{method: "POST", form: "x=1"}, 200, "anonymous"},
			{"good token", req{method: "POST", form: "TokenNo=tok-ok"}, 200, "10001004"},
			{"bad token", req{method: "POST", form: "TokenNo=forged"}, 401, ssotoken.CodeBadSignature},
			{"used token", req{authz: []string{"tok-used"}}, 401, ssotoken.CodeTokenReplayed},
			{"empty field", req{method: "POST", form: "TokenNo="}, 401, CodeMissingAuthorization},
			{"two tokens", req{method: "POST", form: "TokenNo=a&TokenNo=b"}, 400, CodeMultipleAuthorization},
			{"unreadable form", req{method: "POST", form: "%zz"}, 400, CodeMalformedBody},
		}},
		{"preflight", SSOTokenOptions{PassPreflight: true}, []optionCase{
			{"preflight", preflight, 200, "preflight"},
			{"OPTIONS alone", req{method: http.MethodOptions}, 401, CodeMissingAuthorization},
			{"POST", req{method: "POST", form: "TokenNo=tok-ok"}, 200, "10001004"},
		}},
	}
	for _, tab := range tables {
		t.Run(tab.name, func(t *testing.T) {
			runOptionCases(t, RequireSSOToken(fakeVerifier{}, tab.opts)(whoami), tab.cases)
		})
	}
}

// The default keeps today's rule: with an Authorization header the form is
// not read, so the landing handler still has the whole body.
func TestRequireSSOTokenHeaderLeavesBodyUnread(t *testing.T) {
	var body string
	h := RequireSSOToken(fakeVerifier{}, SSOTokenOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req{method: "POST", authz: []string{"Bearer tok-ok"}, form: "TokenNo=forged&" + strings.Repeat("x", 20<<10)}.build())
	assert.Equal(t, 200, rec.Code)
	assert.Len(t, body, len("TokenNo=forged&")+20<<10, "not capped at MaxFormBytes either")
}

func TestRequireSSOTokenOptionalErrorHandler(t *testing.T) {
	var got []string
	h := RequireSSOToken(fakeVerifier{}, SSOTokenOptions{
		CredentialsOptional: true, PassPreflight: true,
		TokenExtractor: FromFirst(FromAuthorizationHeader(), FromCookie("sso")),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = append(got, fmt.Sprintf("%d %s", StatusFor(err), ssotoken.CodeOf(err)))
			w.WriteHeader(StatusFor(err))
		},
	})(whoami)
	for _, tt := range []struct {
		req    req
		status int
	}{
		{req{}, 200},
		{req{cookies: []string{"sso=tok-ok"}}, 200},
		{req{method: http.MethodOptions, origin: preflightOrigin, acrm: http.MethodPost}, 200},
		{req{cookies: []string{"sso=tok-used"}}, 401},
		{req{authz: []string{"Bearer forged"}, cookies: []string{"sso=tok-ok"}}, 401},
		{req{cookies: []string{"sso=a", "sso=b"}}, 400},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tt.req.build())
		assert.Equal(t, tt.status, rec.Code, "%+v", tt.req)
	}
	assert.Equal(t, []string{"401 token_replayed", "401 bad_signature", "400 multiple_authorization"}, got)
}

// With PassPreflight, a CORS layer mounted inside RequireBearer answers the
// preflight, and the call that follows is authenticated.
func TestPassPreflightToCORS(t *testing.T) {
	c, err := NewCORS(CORSConfig{AllowedOrigins: []string{preflightOrigin}})
	require.NoError(t, err)
	h := RequireBearer(&fakeAuth{}, BearerOptions{PassPreflight: true})(c.Bearer(whoami, http.MethodGet))

	r := req{method: http.MethodOptions, origin: preflightOrigin, acrm: http.MethodGet}.build()
	r.Header.Set("Access-Control-Request-Headers", "authorization")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, preflightOrigin, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Empty(t, rec.Body.String(), "CORS answered; the handler never ran")

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req{origin: preflightOrigin, authz: []string{"Bearer " + testBearer}}.build())
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "user-1", rec.Body.String())
	assert.Equal(t, preflightOrigin, rec.Header().Get("Access-Control-Allow-Origin"))

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req{origin: preflightOrigin}.build())
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestFromFormKeepsTheFormForTheNextHandler(t *testing.T) {
	var rest string
	h := RequireBearer(&fakeAuth{}, BearerOptions{TokenExtractor: FromForm("access_token")})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest = r.PostFormValue("comment")
	}))
	h.ServeHTTP(httptest.NewRecorder(), req{method: "POST", form: url.Values{"access_token": {testBearer}, "comment": {"hi"}}.Encode()}.build())
	assert.Equal(t, "hi", rest)
}
