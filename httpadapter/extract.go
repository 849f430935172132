package httpadapter

import (
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/ssokit/ssokit/ssotoken"
)

// TokenExtractor finds the credential of a request for RequireBearer
// (BearerOptions.TokenExtractor) and RequireSSOToken
// (SSOTokenOptions.TokenExtractor). It returns one of three answers:
//
//   - the token;
//   - "" and a nil error when its source is absent from the request (no
//     Authorization header, no cookie of the name, no form field): the
//     middleware then refuses the request 401 missing_authorization, or
//     passes it on without a principal when credentials are optional, and
//     FromFirst tries its next extractor;
//   - an error when the source is present but unusable (blank, not a
//     bearer token, sent twice, a form that cannot be read): the request
//     is refused with it, even when credentials are optional. Return
//     ssotoken errors (ssotoken.NewError), whose kind gives the status; an
//     error outside the taxonomy is answered 502.
//
// w is there only for http.MaxBytesReader; an extractor never writes the
// response. FromAuthorizationHeader, FromCookie, FromForm and FromFirst
// return the usual ones; a host may write its own.
type TokenExtractor func(w http.ResponseWriter, r *http.Request) (string, error)

// errNoCredential is the refusal of a request in which a host's own
// TokenExtractor found nothing.
var errNoCredential = ssotoken.NewError(ssotoken.ErrUnauthorized, CodeMissingAuthorization, "no credential was sent", nil)

// FromAuthorizationHeader returns the default TokenExtractor: the token of
// the Authorization header, as BearerToken reads it ("Bearer <token>" or
// the bare token). Without the header the source is absent; a blank
// header, another scheme ("Basic ...") or two Authorization headers are
// refused (401 missing_authorization, 401 invalid_authorization, 400
// multiple_authorization).
func FromAuthorizationHeader() TokenExtractor {
	return fromAuthorizationHeader
}

func fromAuthorizationHeader(_ http.ResponseWriter, r *http.Request) (string, error) {
	if len(r.Header["Authorization"]) == 0 {
		return "", nil
	}
	return BearerToken(r)
}

// FromCookie returns a TokenExtractor that reads the cookie named name, a
// token as it is (no "Bearer " prefix). Without the cookie, or with an
// empty value (a cookie cleared at sign-out), the source is absent. The
// cookie twice in the request (cookie tossing from a sibling domain) is
// 400 multiple_authorization; a value that net/http cannot parse or that
// holds a space, tab or comma is 401 invalid_authorization. It panics if
// name is not a valid cookie name.
//
// A cookie is ambient authority: the browser sends it with every request
// to the site, including one that another site's page provokes. Guard
// state-changing routes behind a cookie against cross-site requests
// (SameSite cookies, an Origin check), and with FromFirst put the
// credential a page sends deliberately first:
// FromFirst(FromAuthorizationHeader(), FromCookie(name)).
func FromCookie(name string) TokenExtractor {
	if err := (&http.Cookie{Name: name}).Valid(); err != nil {
		panic("httpadapter: FromCookie(" + strconv.Quote(name) + "): not a valid cookie name")
	}
	var (
		errTwice = badRequest(CodeMultipleAuthorization, "the "+name+" cookie was sent more than once")
		errBad   = ssotoken.NewError(ssotoken.ErrUnauthorized, CodeInvalidAuthorization, "the "+name+" cookie does not hold a token", nil)
	)
	return func(_ http.ResponseWriter, r *http.Request) (string, error) {
		switch n := countCookies(r, name); {
		case n == 0:
			return "", nil
		case n > 1:
			return "", errTwice
		}
		cs := r.CookiesNamed(name)
		switch {
		case len(cs) != 1:
			return "", errBad // a value net/http does not parse, or past its count limit
		case cs[0].Value == "":
			return "", nil
		case !tokenChars(cs[0].Value):
			return "", errBad
		}
		return cs[0].Value, nil
	}
}

// DefaultMaxFormBytes caps the form body that FromForm reads, and
// RequireSSOToken's default extractor when SSOTokenOptions.MaxFormBytes is
// zero.
const DefaultMaxFormBytes = 16 << 10

// FromForm returns a TokenExtractor that reads the form field of a POST
// whose Content-Type is application/x-www-form-urlencoded (a browser's
// form submission), parsing at most DefaultMaxFormBytes of body. Another
// method, another body, or a form without the field is an absent source:
// the URL query is never read, since a token in a URL ends up in access
// logs and browser history. The field twice is 400
// multiple_authorization, the field empty 401 missing_authorization, a
// form over the limit 413 body_too_large, and one that cannot be parsed
// 400 malformed_body. The form stays parsed for the next handler
// (r.PostForm). It panics if field is empty.
func FromForm(field string) TokenExtractor {
	if field == "" {
		panic("httpadapter: FromForm with an empty field name")
	}
	return formToken(field, DefaultMaxFormBytes, false, ssotoken.NewError(ssotoken.ErrUnauthorized, CodeMissingAuthorization, "the "+field+" form field is empty", nil))
}

// formToken reads field from a POST form of at most maxBytes, and from the
// URL query as well when query is set: one source, so that the field in
// both is two tokens. A present but empty field is errEmpty.
func formToken(field string, maxBytes int64, query bool, errEmpty error) TokenExtractor {
	return func(w http.ResponseWriter, r *http.Request) (string, error) {
		var values []string
		if r.Method == http.MethodPost {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
				r.Body = http.MaxBytesReader(w, r.Body, maxBytes)
				if err := r.ParseForm(); err != nil {
					var tooLarge *http.MaxBytesError
					if errors.As(err, &tooLarge) {
						return "", ErrBodyTooLarge
					}
					return "", ssotoken.NewError(ssotoken.ErrBadRequest, CodeMalformedBody, "the form could not be read", err)
				}
				values = r.PostForm[field]
			}
		}
		if query {
			values = append(values, r.URL.Query()[field]...)
		}
		switch len(values) {
		case 0:
			return "", nil
		case 1:
			if values[0] == "" {
				return "", errEmpty
			}
			return values[0], nil
		default:
			return "", badRequest(CodeMultipleAuthorization, "more than one token was sent")
		}
	}
}

// FromFirst returns a TokenExtractor that asks extractors in order, and
// the first whose source is present decides: its token, or its refusal.
// A malformed credential, a blank Authorization header or an empty form
// field is refused, never skipped for the next source (only an empty
// cookie counts as absent, see FromCookie), and later sources are not read (a form body stays unread when
// an Authorization header came first). This is the rule of
// RequireSSOToken's default, the Authorization header before the form
// field. Each source still refuses its own duplicates (two Authorization
// headers, a cookie or a form field twice: 400 multiple_authorization),
// so a request never gets to choose between two tokens of one source.
// Put the credential that a client sends deliberately (the Authorization
// header) before an ambient one (a cookie). With every source absent,
// FromFirst reports an absent source. It panics without extractors or
// with a nil one.
func FromFirst(extractors ...TokenExtractor) TokenExtractor {
	if len(extractors) == 0 {
		panic("httpadapter: FromFirst without extractors")
	}
	for _, e := range extractors {
		if e == nil {
			panic("httpadapter: FromFirst with a nil extractor")
		}
	}
	extractors = append([]TokenExtractor(nil), extractors...)
	return func(w http.ResponseWriter, r *http.Request) (string, error) {
		for _, e := range extractors {
			if tok, err := e(w, r); err != nil || tok != "" {
				return tok, err
			}
		}
		return "", nil
	}
}

// isPreflight reports whether r is a CORS preflight: OPTIONS with Origin
// and Access-Control-Request-Method (the Fetch standard's; a browser sends
// no credential with it).
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// errorWriter returns h, or WriteError when h is nil.
func errorWriter(h func(http.ResponseWriter, *http.Request, error)) func(http.ResponseWriter, *http.Request, error) {
	if h != nil {
		return h
	}
	return func(w http.ResponseWriter, _ *http.Request, err error) { WriteError(w, err) }
}

// gate is what RequireBearer and RequireSSOToken do before they check a
// credential.
type gate struct {
	extract   TokenExtractor
	missing   error // the refusal of a request without a credential
	optional  bool  // CredentialsOptional
	preflight bool  // PassPreflight
}

// token returns r's credential, or pass when r goes on to the next handler
// unchecked (a preflight with PassPreflight; no credential at all with
// CredentialsOptional), or the error to refuse r with.
func (g gate) token(w http.ResponseWriter, r *http.Request) (tok string, pass bool, err error) {
	if g.preflight && isPreflight(r) {
		return "", true, nil
	}
	tok, err = g.extract(w, r)
	if err == nil && tok == "" {
		if g.optional {
			return "", true, nil
		}
		err = g.missing
	}
	return tok, false, err
}
