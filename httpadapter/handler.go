package httpadapter

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// Header names of the GenerateSSOToken document.
const (
	HeaderAPIVersion = "x-api-version"
	HeaderClientID   = "x-lob-client-id"
)

// The same names in canonical form, for map lookups without
// canonicalizing on every request.
var (
	canonicalAPIVersion = http.CanonicalHeaderKey(HeaderAPIVersion)
	canonicalClientID   = http.CanonicalHeaderKey(HeaderClientID)
)

// headerValue returns the first value of the canonical header key.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Defaults of a Handler.
const (
	DefaultAPIVersion   = "1.0.0"
	DefaultMaxBodyBytes = 8 << 10
	DefaultTimeout      = 10 * time.Second
)

// ClientRegistry knows the registered x-lob-client-id values, which
// callers may present each, and the LOBs each may ask a token for.
// Implementations are safe for concurrent use; a host can back one with its
// own store. StaticRegistry is a map-based one.
//
// The x-lob-client-id header is an identifier, not a credential (the API
// document prints one): a registry must tie it to the authenticated caller,
// or any caller the Authenticator accepts could use another client's id.
type ClientRegistry interface {
	// LOBs returns the LOBIds clientID may request when caller presents
	// it, with ok false when clientID is not registered or not for this
	// caller. An error means the registry could not answer (the request
	// then fails with 502, or 504 past its deadline).
	LOBs(ctx context.Context, clientID string, caller *ssotoken.Principal) (lobs []string, ok bool, err error)
}

// Registration is one x-lob-client-id of a StaticRegistry.
type Registration struct {
	// LOBs are the LOBIds the client may ask a token for.
	LOBs []string
	// AppClients are the app clients (Principal.ClientID: a Cognito access
	// token's client_id) allowed to present this x-lob-client-id.
	// Required unless InsecureAnyAppClient is set.
	AppClients []string
	// InsecureAnyAppClient lets every caller the Authenticator accepts
	// present this x-lob-client-id. Set it only when the Authenticator
	// accepts a single app client, so that the binding would add nothing.
	InsecureAnyAppClient bool
}

// StaticRegistry is a ClientRegistry held in memory: x-lob-client-id to
// its Registration. It must not be changed while in use. NewHandler
// refuses one with an entry that has no LOB, or neither AppClients nor
// InsecureAnyAppClient.
type StaticRegistry map[string]Registration

// LOBs implements ClientRegistry.
func (s StaticRegistry) LOBs(_ context.Context, clientID string, caller *ssotoken.Principal) ([]string, bool, error) {
	r, ok := s[clientID]
	if !ok || !r.InsecureAnyAppClient && (caller == nil || !slices.Contains(r.AppClients, caller.ClientID)) {
		return nil, false, nil
	}
	return r.LOBs, true, nil
}

func (s StaticRegistry) validate() error {
	for id, r := range s {
		switch {
		case len(r.LOBs) == 0:
			return errors.New("httpadapter: StaticRegistry[" + id + "] has no LOB")
		case len(r.AppClients) == 0 && !r.InsecureAnyAppClient:
			return errors.New("httpadapter: StaticRegistry[" + id + "] names no AppClients (set InsecureAnyAppClient only when a single app client is accepted)")
		}
	}
	return nil
}

// Config configures the GenerateSSOToken Handler. Authenticator, Issuer
// and Clients are required, and so is one way of binding the body's CIINo
// to the caller: CIINoClaim or CIINoResolver, or else an explicit
// InsecureUnboundCIINo.
type Config struct {
	// Authenticator validates the caller's Authorization token, for
	// example a cognito.Authenticator. Required.
	Authenticator ssotoken.Authenticator
	// Issuer mints the token, for example an ssotoken.Signer or a Client
	// of a remote endpoint. Required.
	Issuer ssotoken.Issuer
	// Clients lists the x-lob-client-id values, the callers that may
	// present each, and the LOBs each may request. Required.
	Clients ClientRegistry

	// APIVersions are the accepted x-api-version values. Empty means
	// DefaultAPIVersion ("1.0.0").
	APIVersions []string

	// CIINoClaim binds the body's CIINo to the caller: it must equal this
	// claim of the caller's token (Principal.StringClaim, so
	// "custom:ciino" works for Cognito), else 403 ciino_mismatch, as when
	// the claim is absent or not a string. Without a binding, a user
	// signed in as one customer could obtain a TokenNo for another's
	// CIINo: NewHandler requires CIINoClaim or CIINoResolver (not both)
	// unless InsecureUnboundCIINo is set.
	CIINoClaim string

	// CIINoResolver binds the body's CIINo to the caller for pools whose
	// tokens do not carry it: it returns the caller's CIINo, looked up
	// from the principal (in a customer store, say), and the body's must
	// equal it, else 403 ciino_mismatch, as when it returns "". It is
	// called once per call, after the body and its LOB are checked, with
	// the call's context, so Timeout bounds it: it must return when ctx is
	// done. Its error is classified with ssotoken.Wrap: an error of the
	// taxonomy keeps its kind (an ErrForbidden one is 403), a context
	// deadline is 504, anything else 502. It must be safe for concurrent
	// use. Exclusive with CIINoClaim.
	CIINoResolver func(ctx context.Context, caller *ssotoken.Principal) (string, error)

	// InsecureUnboundCIINo lets a caller ask a token for any CIINo. Set it
	// only when every caller the Authenticator accepts is a trusted back
	// end that asks on behalf of users it has authenticated itself; it
	// cannot be combined with CIINoClaim or CIINoResolver.
	InsecureUnboundCIINo bool

	// Guard refuses requests from networks or hosts that are not allowed
	// (406). Nil allows all.
	Guard *Guard

	// Limiter bounds how many tokens each caller (LimitKey: its issuer,
	// app client and subject) is issued; a call over the limit is 429
	// rate_limited with Retry-After, and takes nothing from the limit.
	// Calls refused for any other reason are not counted. Nil means a
	// MemoryLimiter of DefaultIssueLimit (60 a minute, 20 at once), unless
	// InsecureNoIssueLimit is set. Give a fleet of instances one shared
	// limit with httpadapter/redislimit.
	Limiter Limiter

	// InsecureNoIssueLimit turns the issuing limit off: one signed-in
	// caller can then mint tokens as fast as the server answers, and fill
	// a LOB's replay store. For load tests and benchmarks, or behind a
	// gateway that limits per caller; it cannot be combined with Limiter.
	InsecureNoIssueLimit bool

	// MaxBodyBytes caps the request body; a larger one is 413. Zero means
	// DefaultMaxBodyBytes (8 KiB).
	MaxBodyBytes int64

	// Timeout bounds the whole call, authentication and issuing included;
	// past it the answer is 504. Zero means DefaultTimeout (10 s).
	Timeout time.Duration

	// Logger, when set, receives one audit record per call, message
	// "GenerateSSOToken", at Info level (Warn for 5xx): endpoint
	// ("generate_sso_token"), outcome ("issued", "refused", "failed"),
	// status, error code, TokenRefNo, LOBId, client id, subject, latency,
	// the client's address (as Guard reads it) and, on failure, the error
	// for operators. Never a token, a CIINo or a secret.
	Logger *slog.Logger

	// OnEvent, when set, is called once per call with its Event
	// (Endpoint EndpointGenerateSSOToken), to feed metrics or traces
	// without this module importing them; the other endpoints' options
	// take the same function. It is called on the request's goroutine,
	// with the request's context, after the response is written and the
	// audit record logged: it must not block (the handler returns after
	// it) and must be safe for concurrent use.
	OnEvent func(context.Context, Event)
}

// Handler serves POST /v2/get_sso_token as the GenerateSSOToken document
// describes it. It is safe for concurrent use.
type Handler struct {
	auth       ssotoken.Authenticator
	issuer     ssotoken.Issuer
	clients    ClientRegistry
	versions   []string
	ciinoClaim string
	resolver   func(context.Context, *ssotoken.Principal) (string, error)
	unbound    bool
	guard      *Guard
	limiter    Limiter
	maxBody    int64
	timeout    time.Duration
	audit      auditor
}

// NewHandler returns the GenerateSSOToken handler for cfg, or an error if
// a required field is missing or the CIINo binding is not configured
// (neither CIINoClaim nor CIINoResolver nor InsecureUnboundCIINo, or more
// than one of them).
func NewHandler(cfg Config) (*Handler, error) {
	switch {
	case isNil(cfg.Authenticator):
		return nil, errors.New("httpadapter: Config.Authenticator is required")
	case isNil(cfg.Issuer):
		return nil, errors.New("httpadapter: Config.Issuer is required")
	case isNil(cfg.Clients):
		return nil, errors.New("httpadapter: Config.Clients is required")
	case cfg.MaxBodyBytes < 0 || cfg.Timeout < 0:
		return nil, errors.New("httpadapter: Config.MaxBodyBytes and Timeout must not be negative")
	case cfg.InsecureNoIssueLimit && !isNil(cfg.Limiter):
		return nil, errors.New("httpadapter: Config.InsecureNoIssueLimit cannot be combined with Config.Limiter")
	}
	if err := checkCIINoBinding(&cfg); err != nil {
		return nil, err
	}
	if r, ok := cfg.Clients.(StaticRegistry); ok {
		if err := r.validate(); err != nil {
			return nil, err
		}
	}
	h := &Handler{
		auth:       cfg.Authenticator,
		issuer:     cfg.Issuer,
		clients:    cfg.Clients,
		versions:   slices.Clone(cfg.APIVersions),
		ciinoClaim: cfg.CIINoClaim,
		resolver:   cfg.CIINoResolver,
		unbound:    cfg.InsecureUnboundCIINo,
		guard:      cfg.Guard,
		limiter:    cfg.Limiter,
		maxBody:    cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes),
		timeout:    cmp.Or(cfg.Timeout, DefaultTimeout),
		audit: auditor{
			endpoint: EndpointGenerateSSOToken, message: "GenerateSSOToken",
			logger: cfg.Logger, onEvent: cfg.OnEvent, guard: cfg.Guard,
		},
	}
	if len(h.versions) == 0 {
		h.versions = []string{DefaultAPIVersion}
	}
	if isNil(h.limiter) && !cfg.InsecureNoIssueLimit {
		h.limiter, _ = NewMemoryLimiter(MemoryLimiterConfig{Limit: DefaultIssueLimit}) // valid by construction
	}
	if isNil(h.limiter) {
		h.limiter = nil
	}
	return h, nil
}

// checkCIINoBinding requires exactly one of cfg's three CIINo modes.
func checkCIINoBinding(cfg *Config) error {
	claim, resolver := cfg.CIINoClaim != "", cfg.CIINoResolver != nil
	switch {
	case claim && resolver:
		return errors.New("httpadapter: set Config.CIINoClaim or Config.CIINoResolver, not both")
	case cfg.InsecureUnboundCIINo && (claim || resolver):
		return errors.New("httpadapter: Config.InsecureUnboundCIINo cannot be combined with CIINoClaim or CIINoResolver")
	case !claim && !resolver && !cfg.InsecureUnboundCIINo:
		return errors.New("httpadapter: the body's CIINo must be bound to the caller: set Config.CIINoClaim to the token claim that holds it " +
			`(e.g. "custom:ciino"), or Config.CIINoResolver to look it up from the caller; ` +
			"set Config.InsecureUnboundCIINo only for a trusted back end that asks on behalf of users")
	}
	return nil
}

var (
	errMissingAPIVersion     = badRequest(CodeMissingAPIVersion, "the x-api-version header is missing")
	errMultipleHeader        = badRequest(CodeMultipleHeader, "x-api-version, x-lob-client-id and Content-Type must each be sent once")
	errUnsupportedAPIVersion = badRequest(CodeUnsupportedAPIVersion, "the x-api-version is not supported")
	errMissingClientID       = badRequest(CodeMissingClientID, "the x-lob-client-id header is missing")
	errMissingContentType    = badRequest(CodeMissingContentType, "the Content-Type header is missing")
	errBadContentType        = badRequest(CodeBadContentType, "the Content-Type must be application/json")
	errUnknownClient         = ssotoken.NewError(ssotoken.ErrForbidden, CodeUnknownClient, "the x-lob-client-id is not registered for this caller", nil)
	errLOBNotAllowed         = ssotoken.NewError(ssotoken.ErrForbidden, CodeLOBNotAllowed, "this client may not request a token for that LOB", nil)
	errCIINoMismatch         = ssotoken.NewError(ssotoken.ErrForbidden, CodeCIINoMismatch, "the CIINo is not the caller's", nil)
)

// bindCIINo checks that ciino, the body's, is the caller's: the claim's
// value or the resolver's answer. With InsecureUnboundCIINo it passes.
func (h *Handler) bindCIINo(ctx context.Context, p *ssotoken.Principal, ciino string) error {
	var want string
	switch {
	case h.unbound:
		return nil
	case h.resolver != nil:
		v, err := h.resolver(ctx, p)
		if err != nil {
			return ssotoken.Wrap(err)
		}
		if err := ctx.Err(); err != nil {
			return ssotoken.Wrap(err) // the answer came too late
		}
		want = v
	default:
		want, _ = p.StringClaim(h.ciinoClaim) // absent: "", a mismatch
	}
	if want == "" || want != ciino {
		return errCIINoMismatch
	}
	return nil
}

// isNil reports whether v is nil or an interface holding a nil pointer,
// map or func (a *ssotoken.Signer left nil by an ignored error, say), so
// that NewHandler fails at construction rather than at the first request.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Interface, reflect.Slice, reflect.Chan:
		return r.IsNil()
	}
	return false
}

// errNoPrincipal answers an Authenticator that broke its contract by
// returning neither a principal nor an error.
var errNoPrincipal = ssotoken.NewError(ssotoken.ErrUpstream, ssotoken.CodeInternal, "internal error", errors.New("the authenticator returned no principal"))

func badRequest(code, msg string) error {
	return ssotoken.NewError(ssotoken.ErrBadRequest, code, msg, nil)
}

// ServeHTTP checks the request, cheapest first, and answers with the
// document's envelope:
//
//  1. method POST, else 405 with Allow: POST
//  2. the network guard, else 406
//  3. x-api-version, x-lob-client-id and Content-Type: application/json
//     present, else 400; the API version accepted, else 400
//  4. Authorization present and non-blank, else 401; authenticated, else
//     401, 403, 502 or 504
//  5. the client registered, else 403
//  6. the body: one JSON object, valid UTF-8, with CIINo, LOBId and
//     Functionality as strings, at most MaxBodyBytes (413 over it), else
//     400; the names exactly as the document spells them: a case variant
//     ("ciino"), a name twice, invalid UTF-8 or an escaped lone surrogate
//     is 400 malformed_body; members other than those three are ignored
//     and never reach the token
//  7. the LOB allowed for the client, else 403; then the CIINo bound to
//     the caller (CIINoClaim or CIINoResolver; skipped only with
//     InsecureUnboundCIINo), else 403, or 502 or 504 when the resolver
//     fails
//  8. the caller within its issuing limit (Limiter), else 429 with
//     Retry-After (502 or 504 when the limiter cannot decide)
//  9. the token issued within the deadline, else 502 or 504
//
// Success is 200 with Cache-Control: no-store.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ev := Event{}
	ctx, cancel := context.WithDeadline(r.Context(), start.Add(h.timeout))
	defer cancel()

	resp, err := h.serve(ctx, w, r, &ev)
	if err == nil && ctx.Err() != nil {
		err = ssotoken.Wrap(ctx.Err())
	}
	if ssotoken.CodeOf(err) == ssotoken.CodeCanceled && r.Context().Err() != nil {
		// The client went away (a deadline, the call's or the server's,
		// stays a timeout): no one reads the answer, the record says why.
		err = ErrClientDisconnected
	}
	if err != nil {
		WriteError(w, err)
	} else {
		writeResponse(w, &resp)
	}
	if !h.audit.on() {
		return
	}
	ev.Latency = time.Since(start)
	if err == nil {
		ev.TokenRefNo = resp.TokenRefNo
	}
	h.audit.record(r, &ev, err)
}

func (h *Handler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, ev *Event) (ssotoken.Response, error) {
	if r.Method != http.MethodPost {
		return ssotoken.Response{}, ErrMethodNotAllowed
	}
	if err := h.guard.Check(r); err != nil {
		return ssotoken.Response{}, err
	}
	if err := h.checkHeaders(r); err != nil {
		return ssotoken.Response{}, err
	}
	clientID := headerValue(r.Header, canonicalClientID)

	tok, err := BearerToken(r)
	if err != nil {
		return ssotoken.Response{}, err
	}
	p, err := h.auth.Authenticate(ctx, tok)
	if err == nil && p == nil {
		err = errNoPrincipal
	}
	if err != nil {
		return ssotoken.Response{}, err
	}
	ev.Subject = p.Subject

	lobs, ok, err := h.clients.LOBs(ctx, clientID, p)
	switch {
	case err != nil:
		return ssotoken.Response{}, ssotoken.Wrap(err)
	case !ok:
		return ssotoken.Response{}, errUnknownClient
	}
	ev.ClientID = clientID

	req, err := h.decodeBody(ctx, w, r)
	if err != nil {
		return ssotoken.Response{}, err
	}
	ev.LOBId = req.LOBId
	if !slices.Contains(lobs, req.LOBId) {
		return ssotoken.Response{}, errLOBNotAllowed
	}
	if err := h.bindCIINo(ctx, p, req.CIINo); err != nil {
		return ssotoken.Response{}, err
	}
	if err := h.checkLimit(ctx, p); err != nil {
		return ssotoken.Response{}, err
	}
	return h.issue(ctx, req)
}

func (h *Handler) checkHeaders(r *http.Request) error {
	version := headerValue(r.Header, canonicalAPIVersion)
	switch {
	case version == "":
		return errMissingAPIVersion
	case headerValue(r.Header, canonicalClientID) == "":
		return errMissingClientID
	case len(r.Header[canonicalAPIVersion]) > 1, len(r.Header[canonicalClientID]) > 1, len(r.Header["Content-Type"]) > 1:
		// One value each, never "the first wins": the registry, the audit
		// record and a host's middleware must not read different ones.
		return errMultipleHeader
	}
	ct := headerValue(r.Header, "Content-Type")
	if ct == "" {
		return errMissingContentType
	}
	if ct != "application/json" { // the common case needs no parsing
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return errBadContentType
		}
	}
	if !slices.Contains(h.versions, version) {
		return errUnsupportedAPIVersion
	}
	return nil
}

// decodeBody reads one JSON object of at most h.maxBody bytes.
func (h *Handler) decodeBody(ctx context.Context, w http.ResponseWriter, r *http.Request) (ssotoken.Request, error) {
	var req ssotoken.Request
	// The call's deadline may end the body's read early, never late: the
	// server's ReadTimeout keeps bounding a body that trickles in, however
	// long Timeout is. (A no-op where the ResponseWriter cannot set
	// deadlines, such as a test recorder.)
	if deadline, ok := ctx.Deadline(); ok {
		t := time.AfterFunc(time.Until(deadline), func() { _ = http.NewResponseController(w).SetReadDeadline(time.Now()) })
		defer t.Stop()
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	defer bodyPool.Put(buf)
	buf.Reset()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err == nil {
		// Exactly one value: trailing data is an error.
		err = unmarshalRequest(buf.Bytes(), &req)
	}
	if buf.Cap() > 4*DefaultMaxBodyBytes {
		*buf = bytes.Buffer{} // do not keep a large body in the pool
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return req, ErrBodyTooLarge
		case errors.Is(err, io.ErrUnexpectedEOF):
			// The connection ended before the body's declared end.
			return req, ErrClientDisconnected
		case errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() != nil:
			return req, ssotoken.Wrap(context.DeadlineExceeded) // the body did not arrive in time
		}
		return req, ssotoken.NewError(ssotoken.ErrBadRequest, CodeMalformedBody, "the body must be one JSON object with CIINo, LOBId and Functionality", err)
	}
	return req, req.Validate()
}

var bodyPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 512)) }}

// issue calls the issuer under ctx. Issuers return when ctx is done (the
// module's all do); wrap one that may not with AbandonOnDeadline.
//
// The request has passed every check by then, so an issuer's failure is
// never the caller's fault: a remote issuer that refuses our own
// credential (401) or network (406) is answered 502, not passed on as if
// the caller's token or address were wrong. Only timeouts keep their kind.
func (h *Handler) issue(ctx context.Context, req ssotoken.Request) (ssotoken.Response, error) {
	resp, err := h.issuer.Issue(ctx, req)
	if err == nil {
		return resp, nil
	}
	switch ssotoken.KindOf(err) {
	case ssotoken.ErrUpstream, ssotoken.ErrTimeout:
		return ssotoken.Response{}, ssotoken.Wrap(err)
	}
	return ssotoken.Response{}, ssotoken.NewError(ssotoken.ErrUpstream, CodeIssuerRefused, "the token could not be issued", err)
}

// AbandonOnDeadline wraps an Issuer that may not return when its context
// is done (a third-party client without deadlines, say): each Issue runs
// in a goroutine of its own, and the caller gets ErrTimeout as soon as ctx
// is done, while the abandoned call finishes in the background. It costs a
// goroutine per call, so the module's own issuers, which honour ctx, do
// without it.
func AbandonOnDeadline(iss ssotoken.Issuer) ssotoken.Issuer {
	return ssotoken.IssuerFunc(func(ctx context.Context, req ssotoken.Request) (ssotoken.Response, error) {
		type result struct {
			resp ssotoken.Response
			err  error
		}
		done := make(chan result, 1)
		go func() {
			resp, err := iss.Issue(ctx, req)
			done <- result{resp, err}
		}()
		select {
		case res := <-done:
			return res.resp, res.err
		case <-ctx.Done():
			return ssotoken.Response{}, ssotoken.Wrap(ctx.Err())
		}
	})
}
