package httpadapter

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// Endpoints: the values of Event.Endpoint, one per handler or middleware
// of this package that emits audit records, so that one OnEvent function
// can serve them all and use the endpoint as a metric label.
const (
	EndpointGenerateSSOToken = "generate_sso_token" // Handler (NewHandler): POST /v2/get_sso_token
	EndpointCookieExchange   = "cookie_exchange"    // CookieExchangeHandler
	EndpointBearer           = "bearer"             // RequireBearer
	EndpointSSOToken         = "sso_token"          // RequireSSOToken: a LOB's redemption of a TokenNo
)

// Event describes one finished call of an endpoint of this package (see
// Endpoint), for metrics and tracing hooks: Config.OnEvent,
// CookieExchangeOptions.OnEvent, BearerOptions.OnEvent and
// SSOTokenOptions.OnEvent. It never holds a credential (no token, cookie,
// JWT or secret); it holds the subject and TokenRefNo, which the audit
// records name too. Fields an endpoint does not know are empty.
type Event struct {
	Endpoint   string        // EndpointGenerateSSOToken, EndpointCookieExchange, EndpointBearer or EndpointSSOToken
	Status     int           // HTTP status written; 200 when a middleware passed the request on (the next handler writes its own)
	Code       string        // error code, "" on success
	ClientID   string        // GenerateSSOToken: the x-lob-client-id, when one was sent and registered
	LOBId      string        // GenerateSSOToken: the requested LOB, once the body was read; RequireSSOToken: the accepted token's LOBId
	Subject    string        // GenerateSSOToken and RequireBearer: the caller's subject, once authenticated
	TokenRefNo string        // GenerateSSOToken: the TokenRefNo issued; RequireSSOToken: the accepted token's "jti" (its TokenRefNo), when it has one
	Latency    time.Duration // from the start of the call to the response (a middleware: to its verdict)
}

// Outcome is the outcome an audit record names: "failed" for a status of
// 500 or more (the service could not answer), "refused" for any other
// failure, and on success "issued" (GenerateSSOToken), "exchanged" (the
// cookie exchange), "authenticated" (RequireBearer) or "accepted"
// (RequireSSOToken). The set is bounded, for a metric label.
func (e Event) Outcome() string {
	switch {
	case e.Status >= 500:
		return "failed"
	case e.Status != http.StatusOK:
		return "refused"
	}
	switch e.Endpoint {
	case EndpointGenerateSSOToken:
		return "issued"
	case EndpointCookieExchange:
		return "exchanged"
	case EndpointBearer:
		return "authenticated"
	case EndpointSSOToken:
		return "accepted"
	}
	return "ok"
}

// auditor writes the audit record of an endpoint and calls its OnEvent.
type auditor struct {
	endpoint string
	message  string // the record's message
	logger   *slog.Logger
	onEvent  func(context.Context, Event)
	guard    *Guard // for the client's address; nil reads the peer's
}

// on reports whether records are wanted at all, so that an endpoint
// without Logger or OnEvent does not even read the clock.
func (a *auditor) on() bool { return a.logger != nil || a.onEvent != nil }

// record completes ev from err (endpoint, status, code), writes the audit
// record at Info level (Warn for 5xx), then calls OnEvent, both on the
// request's goroutine after the response (or the refusal) was written.
func (a *auditor) record(r *http.Request, ev *Event, err error) {
	ev.Endpoint = a.endpoint
	ev.Status = StatusFor(err)
	ev.Code = ssotoken.CodeOf(err)
	if a.logger != nil {
		a.log(r, ev, err)
	}
	if a.onEvent != nil {
		a.onEvent(r.Context(), *ev)
	}
}

func (a *auditor) log(r *http.Request, ev *Event, err error) {
	level := slog.LevelInfo
	if ev.Status >= 500 {
		level = slog.LevelWarn
	}
	var buf [11]slog.Attr
	attrs := append(buf[:0],
		slog.String("endpoint", ev.Endpoint),
		slog.String("outcome", ev.Outcome()),
		slog.Int("status", ev.Status),
		slog.String("error_code", ev.Code),
		slog.String("token_ref_no", ev.TokenRefNo),
		slog.String("lob_id", ev.LOBId),
		slog.String("client_id", ev.ClientID),
		slog.String("subject", ev.Subject),
		slog.Duration("latency", ev.Latency),
	)
	if ip, ok := a.guard.ClientIP(r); ok {
		attrs = append(attrs, slog.String("client_ip", ip.String()))
	}
	if err != nil {
		// The cause is for operators; this module's errors never carry a
		// credential in their text.
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	a.logger.LogAttrs(r.Context(), level, a.message, attrs...)
}
