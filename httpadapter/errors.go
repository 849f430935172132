package httpadapter

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssokit/ssokit/internal/jsonx"
	"github.com/ssokit/ssokit/ssotoken"
)

// Codes of the failures this package finds itself. Codes of the other
// packages pass through unchanged.
const (
	CodeMethodNotAllowed      = "method_not_allowed"       // 405
	CodeBodyTooLarge          = "body_too_large"           // 413
	CodeMissingAPIVersion     = "missing_api_version"      // 400
	CodeUnsupportedAPIVersion = "unsupported_api_version"  // 400
	CodeMissingClientID       = "missing_client_id"        // 400
	CodeMissingContentType    = "missing_content_type"     // 400
	CodeBadContentType        = "unsupported_content_type" // 400
	CodeMalformedBody         = "malformed_body"           // 400
	CodeMissingAuthorization  = "missing_authorization"    // 401
	CodeInvalidAuthorization  = "invalid_authorization"    // 401
	CodeMultipleAuthorization = "multiple_authorization"   // 400
	CodeMultipleHeader        = "multiple_header"          // 400: x-api-version, x-lob-client-id or Content-Type sent twice
	CodeUnknownClient         = "unknown_client"           // 403
	CodeLOBNotAllowed         = "lob_not_allowed"          // 403
	CodeCIINoMismatch         = "ciino_mismatch"           // 403
	CodeIPNotAllowed          = "ip_not_allowed"           // 406
	CodeHostNotAllowed        = "host_not_allowed"         // 406
	CodeClientDisconnected    = "client_disconnected"      // 499: the client went away before the answer
)

// StatusClientClosedRequest is the status that StatusFor gives a call
// whose client went away before its answer (nginx's 499): no one reads
// it, but audit records and metrics tell it from a timeout (504) or a
// refusal of the request.
const StatusClientClosedRequest = 499

// The errors of plain HTTP that StatusFor answers 405 and 413. A host's
// own handler writes them with WriteError (setting Allow first when POST is
// not the method it allows). Other errors with the same codes, such as a
// remote server's relayed by a Client, are not these and are not answered
// 405 or 413.
var (
	ErrMethodNotAllowed = ssotoken.NewError(ssotoken.ErrBadRequest, CodeMethodNotAllowed, "method not allowed", nil)
	ErrBodyTooLarge     = ssotoken.NewError(ssotoken.ErrBadRequest, CodeBodyTooLarge, "the request body is too large", nil)
	// ErrClientDisconnected is a call whose client closed the connection
	// (or reset the stream) before it was answered, the body unfinished,
	// say: StatusClientClosedRequest (499), outcome "refused".
	ErrClientDisconnected = ssotoken.NewError(ssotoken.ErrBadRequest, CodeClientDisconnected, "the client closed the request", nil)
)

// StatusFor returns the HTTP status for err: 200 for nil, then by kind
// 400, 401, 403, 406, 502 and 504, as the GenerateSSOToken document's
// error table has them, and 429 for ssotoken.ErrRateLimited; 405, 413 and
// 499 for ErrMethodNotAllowed, ErrBodyTooLarge and ErrClientDisconnected
// (this package's own errors of those codes, not a remote server's). An error outside the taxonomy is 502 and a context
// deadline 504 (see ssotoken.KindOf). This is the one place in the module
// where errors meet statuses.
func StatusFor(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if errors.Is(err, ErrMethodNotAllowed) {
		return http.StatusMethodNotAllowed
	}
	if errors.Is(err, ErrBodyTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	if errors.Is(err, ErrClientDisconnected) {
		return StatusClientClosedRequest
	}
	switch ssotoken.KindOf(err) {
	case ssotoken.ErrBadRequest:
		return http.StatusBadRequest
	case ssotoken.ErrUnauthorized:
		return http.StatusUnauthorized
	case ssotoken.ErrForbidden:
		return http.StatusForbidden
	case ssotoken.ErrNotAcceptable:
		return http.StatusNotAcceptable
	case ssotoken.ErrTimeout:
		return http.StatusGatewayTimeout
	case ssotoken.ErrRateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusBadGateway
	}
}

// ErrorResponse is the body of every failure: the GenerateSSOToken
// envelope with ReturnCode 0, a human ReturnMessage that is safe to show,
// and a stable machine ErrorCode (an addition to the document).
type ErrorResponse struct {
	ReturnCode    int    `json:"ReturnCode"`
	ReturnMessage string `json:"ReturnMessage"`
	ErrorCode     string `json:"ErrorCode"`
}

// WriteError writes err as a failure: the status from StatusFor, the
// ErrorResponse envelope, "Cache-Control: no-store", and on 401 a
// WWW-Authenticate challenge (RFC 6750 section 3: error="invalid_token"
// when a token was presented, a bare challenge when none was); a 403 for a
// missing scope or group carries error="insufficient_scope". A 405 carries
// "Allow: POST", and a 429 "Retry-After" (the error's
// ssotoken.RetryAfterOf in whole seconds, rounded up, at least 1). Only the
// error's safe message and code are written, never its cause.
func WriteError(w http.ResponseWriter, err error) {
	status := StatusFor(err)
	code := ssotoken.CodeOf(err)
	h := w.Header()
	switch c := Challenge(err); {
	case c != "":
		h.Set("WWW-Authenticate", c)
	case status == http.StatusMethodNotAllowed && h.Get("Allow") == "":
		h.Set("Allow", http.MethodPost)
	case status == http.StatusTooManyRequests:
		h.Set("Retry-After", retryAfterValue(ssotoken.RetryAfterOf(err)))
	}
	writeJSON(w, status, ErrorResponse{
		ReturnCode:    ssotoken.ReturnCodeFailure,
		ReturnMessage: ssotoken.MessageOf(err),
		ErrorCode:     code,
	})
}

// Challenge returns the WWW-Authenticate value (RFC 6750 section 3) that
// WriteError sends with err, or "" when err needs none: "Bearer" for a 401
// without a token, `Bearer error="invalid_token"` for any other 401, and
// `Bearer error="insufficient_scope"` for a 403 for a missing scope or
// group. A host that writes its own refusal (a LOB's HTML page, say) sets
// it too.
func Challenge(err error) string {
	switch status, code := StatusFor(err), ssotoken.CodeOf(err); {
	case status == http.StatusUnauthorized && code == CodeMissingAuthorization:
		return "Bearer"
	case status == http.StatusUnauthorized:
		return `Bearer error="invalid_token"`
	case status == http.StatusForbidden && code == ssotoken.CodeInsufficientScope:
		return `Bearer error="insufficient_scope"`
	}
	return ""
}

// writeResponse writes the success envelope, encoded without reflection
// into a pooled buffer (Write does not keep it).
func writeResponse(w http.ResponseWriter, resp *ssotoken.Response) {
	bp := responsePool.Get().(*[]byte)
	b := append((*bp)[:0], `{"ReturnCode":`...)
	b = strconv.AppendInt(b, int64(resp.ReturnCode), 10)
	b = append(b, `,"ReturnMessage":`...)
	b = jsonx.AppendString(b, resp.ReturnMessage)
	b = append(b, `,"TokenRefNo":`...)
	b = jsonx.AppendString(b, resp.TokenRefNo)
	b = append(b, `,"TokenNo":`...)
	b = jsonx.AppendString(b, resp.TokenNo)
	b = append(b, "}\n"...)
	writeBody(w, http.StatusOK, b)
	if cap(b) <= maxPooledResponse {
		*bp = b
		responsePool.Put(bp)
	}
}

var responsePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledResponse bounds the buffers kept in responsePool.
const maxPooledResponse = 16 << 10

// writeJSON writes v with status, as JSON that is never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"ReturnCode":0,"ReturnMessage":"internal error","ErrorCode":"internal_error"}`)
	}
	writeBody(w, status, append(b, '\n'))
}

// writeBody writes a JSON body with status; it is never cached.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	// One allocation for the four values, keys already canonical; each
	// slice is full, so that an append elsewhere copies it. With Date
	// set, net/http does not format the time for every response; a Date
	// set by a middleware stays.
	v := new([4]string)
	*v = [4]string{"application/json", "no-store", "nosniff"}
	h := w.Header()
	h["Content-Type"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	h["X-Content-Type-Options"] = v[2:3:3]
	if _, ok := h["Date"]; !ok {
		v[3] = httpDate()
		h["Date"] = v[3:4:4]
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// httpDate is the Date header's value now, formatted at most about once a
// second.
func httpDate() string {
	now := time.Now()
	if d := lastDate.Load(); d != nil && d.unix == now.Unix() {
		return d.value
	}
	d := &dateValue{unix: now.Unix(), value: now.UTC().Format(http.TimeFormat)}
	lastDate.Store(d)
	return d.value
}

type dateValue struct {
	unix  int64
	value string
}

var lastDate atomic.Pointer[dateValue]
