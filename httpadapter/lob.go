package httpadapter

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"mime"
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
// token from the Authorization header or a "TokenNo" form field of a POST.
type SSOTokenOptions struct {
	// FormField is the POST form field that may carry the token. Empty
	// means "TokenNo".
	FormField string
	// MaxFormBytes caps a form body. Zero means 16 KiB.
	MaxFormBytes int64
	// AllowQuery also reads the token from the URL query (FormField).
	// Tokens in URLs end up in access logs and browser history: leave it
	// off unless a partner can send the token no other way.
	AllowQuery bool
	// ErrorHandler, when set, writes every refusal instead of WriteError:
	// a LOB that browsers arrive at can answer them with a page of its own.
	// StatusFor(err) is the status, and ssotoken.MessageOf and CodeOf give
	// the safe message and code; a 401 needs a WWW-Authenticate header
	// (Challenge gives WriteError's). Nil means WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

type claimsKey struct{}

// ClaimsFromContext returns the TokenNo claims RequireSSOToken put in ctx.
func ClaimsFromContext(ctx context.Context) (*ssotoken.Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*ssotoken.Claims)
	return c, ok && c != nil
}

// RequireSSOToken returns middleware for the linked LOB's landing
// endpoint: it reads the TokenNo from the Authorization header (Bearer or
// bare) or a POST form field, verifies it with v (single use when v is
// configured so), and passes the request on with the claims in its context
// (ClaimsFromContext). Failures are written with WriteError, or
// opts.ErrorHandler (401 for a bad or used token, 400 for two tokens or an
// unreadable form).
func RequireSSOToken(v TokenVerifier, opts SSOTokenOptions) func(http.Handler) http.Handler {
	if v == nil {
		panic("httpadapter: RequireSSOToken with a nil verifier")
	}
	opts.FormField = cmp.Or(opts.FormField, "TokenNo")
	if opts.MaxFormBytes <= 0 {
		opts.MaxFormBytes = 16 << 10
	}
	refuse := opts.ErrorHandler
	if refuse == nil {
		refuse = func(w http.ResponseWriter, _ *http.Request, err error) { WriteError(w, err) }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := ssoToken(w, r, &opts)
			var c *ssotoken.Claims
			if err == nil {
				c, err = v.Verify(r.Context(), tok)
			}
			if err != nil {
				refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
		})
	}
}

func ssoToken(w http.ResponseWriter, r *http.Request, opts *SSOTokenOptions) (string, error) {
	if len(r.Header.Values("Authorization")) > 0 {
		return BearerToken(r)
	}
	var values []string
	if r.Method == http.MethodPost {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			r.Body = http.MaxBytesReader(w, r.Body, opts.MaxFormBytes)
			if err := r.ParseForm(); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					return "", ErrBodyTooLarge
				}
				return "", ssotoken.NewError(ssotoken.ErrBadRequest, CodeMalformedBody, "the form could not be read", err)
			}
			values = r.PostForm[opts.FormField]
		}
	}
	if opts.AllowQuery {
		values = append(values, r.URL.Query()[opts.FormField]...)
	}
	switch len(values) {
	case 0:
		return "", errMissingSSOToken(opts.FormField)
	case 1:
		if values[0] == "" {
			return "", errMissingSSOToken(opts.FormField)
		}
		return values[0], nil
	default:
		return "", badRequest(CodeMultipleAuthorization, "more than one token was sent")
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
