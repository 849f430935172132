package httpadapter

import (
	"context"
	"net/http"
	"strings"

	"github.com/ssokit/ssokit/ssotoken"
)

var (
	errMissingAuthorization  = ssotoken.NewError(ssotoken.ErrUnauthorized, CodeMissingAuthorization, "the Authorization header is missing or blank", nil)
	errInvalidAuthorization  = ssotoken.NewError(ssotoken.ErrUnauthorized, CodeInvalidAuthorization, "the Authorization header is not a bearer token", nil)
	errMultipleAuthorization = ssotoken.NewError(ssotoken.ErrBadRequest, CodeMultipleAuthorization, "more than one Authorization header", nil)
)

// BearerToken returns the token of the request's Authorization header,
// which may be "Bearer <token>" with any case of the scheme (RFC 6750
// section 2.1, RFC 9110 section 11.1) or, as the GenerateSSOToken
// document's JavaScript sample sends it, the bare token. It fails with
// ErrUnauthorized (missing_authorization) when the header is absent or
// blank, ErrUnauthorized (invalid_authorization) for another scheme such
// as "Basic ...", and ErrBadRequest (multiple_authorization) for two
// Authorization headers. A token in the query string or a form field is
// never read.
func BearerToken(r *http.Request) (string, error) {
	values := r.Header["Authorization"]
	switch len(values) {
	case 0:
		return "", errMissingAuthorization
	case 1:
	default:
		return "", errMultipleAuthorization
	}
	return parseAuthorization(values[0])
}

func parseAuthorization(v string) (string, error) {
	v = strings.Trim(v, " \t")
	if v == "" {
		return "", errMissingAuthorization
	}
	sp := strings.IndexByte(v, ' ')
	if tab := strings.IndexByte(v, '\t'); tab >= 0 && (sp < 0 || tab < sp) {
		sp = tab
	}
	if sp < 0 {
		if strings.EqualFold(v, "Bearer") {
			return "", errMissingAuthorization // the scheme alone
		}
		return v, nil // the bare token
	}
	if !strings.EqualFold(v[:sp], "Bearer") {
		return "", errInvalidAuthorization
	}
	tok := strings.TrimLeft(v[sp:], " \t")
	switch {
	case tok == "":
		return "", errMissingAuthorization
	case !tokenChars(tok):
		return "", errInvalidAuthorization
	}
	return tok, nil
}

// tokenChars reports whether tok holds no space, tab or comma: one
// credential, not a list.
func tokenChars(tok string) bool {
	return strings.IndexByte(tok, ' ') < 0 && strings.IndexByte(tok, '\t') < 0 && strings.IndexByte(tok, ',') < 0
}

type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p *ssotoken.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal RequireBearer put in ctx.
func PrincipalFromContext(ctx context.Context) (*ssotoken.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*ssotoken.Principal)
	return p, ok && p != nil
}

// RequireBearer returns middleware that authenticates every request's
// bearer token (see BearerToken) with auth and passes the request on with
// the principal in its context (PrincipalFromContext). A failure is
// written with WriteError: 401 with a WWW-Authenticate challenge, 403 for
// a missing permission, 502 or 504 when the authenticator cannot answer.
func RequireBearer(auth ssotoken.Authenticator) func(http.Handler) http.Handler {
	if auth == nil {
		panic("httpadapter: RequireBearer with a nil Authenticator")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := BearerToken(r)
			if err != nil {
				WriteError(w, err)
				return
			}
			p, err := auth.Authenticate(r.Context(), tok)
			if err == nil && p == nil {
				err = errNoPrincipal
			}
			if err != nil {
				WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
		})
	}
}
