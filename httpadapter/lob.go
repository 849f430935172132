package httpadapter

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// TokenVerifier verifies a TokenNo; *ssotoken.Verifier is one.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*ssotoken.Claims, error)
}

// SSOTokenOptions configures RequireSSOToken. The zero value reads the
// token from the Authorization header or, without that header, a
// "TokenNo" field of a POST form, refuses a request without one, answers
// refusals with WriteError, and refuses a CORS preflight like any request
// without a token.
type SSOTokenOptions struct {
	// FormField is the POST form field that may carry the token. Empty
	// means "TokenNo".
	FormField string
	// MaxFormBytes caps a form body. Zero means DefaultMaxFormBytes
	// (16 KiB).
	MaxFormBytes int64
	// AllowQuery also reads the token from the URL query (FormField).
	// Tokens in URLs end up in access logs and browser history: leave it
	// off unless a partner can send the token no other way.
	AllowQuery bool
	// TokenExtractor, when set, finds the token instead: FromCookie,
	// FromForm, FromFirst or a host's own. FormField, MaxFormBytes and
	// AllowQuery configure the default extractor only, and RequireSSOToken
	// panics if one of them is set with a TokenExtractor. The default is
	// FromFirst(FromAuthorizationHeader(), the form field) with the limits
	// above.
	TokenExtractor TokenExtractor
	// CredentialsOptional passes a request in which the extractor finds no
	// token at all on to the next handler, without claims in its context
	// (ClaimsFromContext reports false): a landing page that also greets
	// visitors who arrive without a TokenNo. A token that is present but
	// bad (blank, forged, expired, already used, two of them) is still
	// refused.
	CredentialsOptional bool
	// PassPreflight passes a CORS preflight (OPTIONS with Origin and
	// Access-Control-Request-Method) on to the next handler without
	// looking for a token, for a router that mounts the CORS layer inside;
	// set it only when the next handler is that CORS layer (see
	// BearerOptions.PassPreflight). Off, a preflight is refused 401.
	PassPreflight bool
	// ErrorHandler, when set, writes every refusal instead of WriteError,
	// and is never called for a request that passes: a LOB that browsers
	// arrive at can answer them with a page of its own. StatusFor(err) is
	// the status, and ssotoken.MessageOf and CodeOf give the safe message
	// and code; a 401 needs a WWW-Authenticate header (Challenge gives
	// WriteError's). Nil means WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger, when set, receives one audit record, message
	// "RequireSSOToken", per redemption: every token accepted (outcome
	// "accepted", with its LOBId and, when it carries one, its
	// TokenRefNo) or refused (the refusal's status and code:
	// token_replayed, token_expired, wrong_lob, replay_store_unavailable,
	// ...), with the fields and levels of Config.Logger's (endpoint
	// "sso_token"). Never the token, nor the CIINo it carries.
	Logger *slog.Logger
	// OnEvent, when set, is called once per redemption, accepted or
	// refused, with its Event (Endpoint EndpointSSOToken), as
	// Config.OnEvent is: on the request's goroutine, with its context,
	// after the refusal was written or before the next handler is
	// called. It must not block, and must be safe for concurrent use. A
	// request passed on without a token (CredentialsOptional,
	// PassPreflight) is not a redemption and is not recorded.
	OnEvent func(context.Context, Event)
}

type claimsKey struct{}

// ClaimsFromContext returns the TokenNo claims RequireSSOToken put in ctx.
// It reports false for a request that RequireSSOToken let through without
// a token (SSOTokenOptions.CredentialsOptional, PassPreflight).
func ClaimsFromContext(ctx context.Context) (*ssotoken.Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*ssotoken.Claims)
	return c, ok && c != nil
}

// RequireSSOToken returns middleware for the linked LOB's landing
// endpoint: it reads the TokenNo from the Authorization header (Bearer or
// bare) or, when the request has no Authorization header, a POST form
// field (opts.TokenExtractor may say otherwise), verifies it with v
// (single use when v is configured so), and passes the request on with
// the claims in its context (ClaimsFromContext). Refusals are written with
// WriteError, or opts.ErrorHandler: 401 for a missing, bad or used token,
// 400 for two tokens or an unreadable form, 413 for a form over the limit.
// With opts.CredentialsOptional a request without any token passes
// without claims; with opts.PassPreflight a CORS preflight passes to the
// CORS layer inside. With opts.Logger or opts.OnEvent every redemption,
// accepted or refused, is recorded. It panics if v is nil, or if opts sets
// TokenExtractor together with FormField, MaxFormBytes or AllowQuery.
func RequireSSOToken(v TokenVerifier, opts SSOTokenOptions) func(http.Handler) http.Handler {
	if v == nil {
		panic("httpadapter: RequireSSOToken with a nil verifier")
	}
	extract, missing := opts.TokenExtractor, error(errNoCredential)
	if extract != nil {
		if opts.FormField != "" || opts.MaxFormBytes != 0 || opts.AllowQuery {
			panic("httpadapter: SSOTokenOptions.FormField, MaxFormBytes and AllowQuery configure the default extractor; with a TokenExtractor, use FromForm")
		}
	} else {
		field := cmp.Or(opts.FormField, "TokenNo")
		maxBytes := opts.MaxFormBytes
		if maxBytes <= 0 {
			maxBytes = DefaultMaxFormBytes
		}
		missing = errMissingSSOToken(field)
		extract = FromFirst(fromAuthorizationHeader, formToken(field, maxBytes, opts.AllowQuery, missing))
	}
	refuse := errorWriter(opts.ErrorHandler)
	g := gate{extract: extract, missing: missing, optional: opts.CredentialsOptional, preflight: opts.PassPreflight}
	audit := &auditor{endpoint: EndpointSSOToken, message: "RequireSSOToken", logger: opts.Logger, onEvent: opts.OnEvent}
	auditing := audit.on()
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
			var c *ssotoken.Claims
			if err == nil {
				c, err = v.Verify(r.Context(), tok)
			}
			if err != nil {
				refuse(w, r, err)
				if auditing {
					audit.record(r, &Event{Latency: time.Since(start)}, err)
				}
				return
			}
			if auditing {
				ev := Event{Latency: time.Since(start)}
				if c != nil {
					ev.LOBId, ev.TokenRefNo = c.LOBId, c.ID
				}
				audit.record(r, &ev, nil)
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
		})
	}
}

// errMissingSSOToken says where a TokenNo may be sent.
func errMissingSSOToken(field string) error {
	return ssotoken.NewError(ssotoken.ErrUnauthorized, CodeMissingAuthorization,
		"no TokenNo was sent: use the Authorization header or the "+field+" form field", nil)
}

// KeySetSource gives the public keys to publish; *ssotoken.Keyring is one.
type KeySetSource interface {
	JWKS() ssotoken.JWKS
}

// JWKSHandler serves the public keys of src as a JWKS document (RFC 7517)
// to GET and HEAD, for linked LOBs that verify asymmetric TokenNo values.
// Responses may be cached for maxAge (zero means 5 minutes): publish a new
// key at least that long before it starts signing, and keep a retired one
// in the ring until its last token has expired.
func JWKSHandler(src KeySetSource, maxAge time.Duration) http.Handler {
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	cacheControl := "public, max-age=" + strconv.Itoa(int(maxAge/time.Second))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			WriteError(w, ErrMethodNotAllowed)
			return
		}
		b, err := json.Marshal(src.JWKS())
		if err != nil {
			WriteError(w, ssotoken.Wrap(err))
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", cacheControl)
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	})
}
