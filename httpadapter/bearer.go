package httpadapter

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

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

// PrincipalFromContext returns the principal RequireBearer put in ctx. It
// reports false for a request that RequireBearer let through without one
// (BearerOptions.CredentialsOptional, PassPreflight).
func PrincipalFromContext(ctx context.Context) (*ssotoken.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*ssotoken.Principal)
	return p, ok && p != nil
}

// BearerOptions configures RequireBearer. The zero value reads the token
// from the Authorization header, refuses a request without one, answers
// refusals with WriteError, and refuses a CORS preflight like any request
// without a token.
type BearerOptions struct {
	// TokenExtractor finds the token. Nil means FromAuthorizationHeader();
	// FromCookie, FromForm and FromFirst read a cookie, a form field, or
	// several sources in order.
	TokenExtractor TokenExtractor
	// CredentialsOptional passes a request in which the extractor finds no
	// credential at all on to the next handler, without a principal in its
	// context (PrincipalFromContext reports false): for a route that
	// serves everyone and some users more. A credential that is present
	// but bad (blank, malformed, refused by the authenticator) is still
	// refused.
	CredentialsOptional bool
	// PassPreflight passes a CORS preflight (OPTIONS with Origin and
	// Access-Control-Request-Method) on to the next handler without
	// looking for a credential, for a router that mounts the CORS layer
	// inside the authentication (a browser sends no credential with a
	// preflight). Set it only when the next handler is that CORS layer and
	// answers every preflight itself: anyone can send such a request, and
	// a handler that does not look at the method would serve it
	// unauthenticated. Off, a preflight that reaches RequireBearer is
	// refused 401; CORS wrapped outermost answers preflights before they
	// reach it.
	PassPreflight bool
	// ErrorHandler, when set, writes every refusal instead of WriteError,
	// and is never called for a request that passes. StatusFor(err) is the
	// status, and ssotoken.MessageOf and CodeOf give the safe message and
	// code; a 401 needs a WWW-Authenticate header (Challenge gives
	// WriteError's). Nil means WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger, when set, receives one audit record, message
	// "RequireBearer", per refusal (and per authenticated request with
	// AuditSuccess), with the fields and levels of Config.Logger's
	// (endpoint "bearer"; the subject once authenticated). Never the
	// token.
	Logger *slog.Logger
	// OnEvent, when set, is called once per refusal (and per
	// authenticated request with AuditSuccess) with its Event (Endpoint
	// EndpointBearer), as Config.OnEvent is: on the request's goroutine,
	// with its context, after the refusal was written or before the next
	// handler is called. It must not block, and must be safe for
	// concurrent use.
	OnEvent func(context.Context, Event)
	// AuditSuccess also records each request passed on with a principal
	// (outcome "authenticated", Status 200), not only refusals: a record
	// per API call, which a busy API may not want in its logs. A request
	// passed on without a credential (CredentialsOptional, PassPreflight)
	// is never recorded.
	AuditSuccess bool
}

// RequireBearer returns middleware that authenticates every request's
// token with auth and passes the request on with the principal in its
// context (PrincipalFromContext). The token is the Authorization header's
// (see BearerToken) unless opts.TokenExtractor says otherwise. A refusal
// is written with WriteError, or opts.ErrorHandler: 401 with a
// WWW-Authenticate challenge for a missing or bad token, 400 for two
// tokens, 403 for a missing permission, 502 or 504 when the authenticator
// cannot answer. With opts.CredentialsOptional a request without any
// credential passes without a principal; with opts.PassPreflight a CORS
// preflight passes to the CORS layer inside. With opts.Logger or
// opts.OnEvent every refusal is recorded (and every pass with
// opts.AuditSuccess). It panics if auth is nil.
func RequireBearer(auth ssotoken.Authenticator, opts BearerOptions) func(http.Handler) http.Handler {
	if auth == nil {
		panic("httpadapter: RequireBearer with a nil Authenticator")
	}
	extract, missing := opts.TokenExtractor, error(errNoCredential)
	if extract == nil {
		extract, missing = fromAuthorizationHeader, errMissingAuthorization
	}
	refuse := errorWriter(opts.ErrorHandler)
	g := gate{extract: extract, missing: missing, optional: opts.CredentialsOptional, preflight: opts.PassPreflight}
	audit := &auditor{endpoint: EndpointBearer, message: "RequireBearer", logger: opts.Logger, onEvent: opts.OnEvent}
	auditing, auditSuccess := audit.on(), audit.on() && opts.AuditSuccess
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var start time.Time
			if auditing {
				start = time.Now()
			}
			tok, pass, err := g.token(w, r)
			if pass {
				next.ServeHTTP(w, r)
				return
			}
			var p *ssotoken.Principal
			if err == nil {
				p, err = auth.Authenticate(r.Context(), tok)
				if err == nil && p == nil {
					err = errNoPrincipal
				}
			}
			if err != nil {
				refuse(w, r, err)
				if auditing {
					audit.record(r, &Event{Latency: time.Since(start)}, err)
				}
				return
			}
			if auditSuccess {
				audit.record(r, &Event{Subject: p.Subject, Latency: time.Since(start)}, nil)
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
		})
	}
}
