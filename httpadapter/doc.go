// Package httpadapter is the net/http layer of ssokit: the
// GenerateSSOToken handler (POST /v2/get_sso_token), the Cookie SSO
// exchange handler, the network guard (406), CORS for browser pages on
// other origins, bearer-token middleware for later API calls, the linked
// LOB's TokenNo middleware, a JWKS handler, and clients that call remote
// GenerateSSOToken and cookie endpoints (a remote GenerateSSOToken is an
// ssotoken.Issuer). It is the one place where error kinds meet HTTP
// statuses (StatusFor, WriteError). Of its siblings it uses
// ssotoken's types and interfaces, and cookiesso's Token and cookie errors
// (it parses the Cookie header that cookiesso, pure Go, never sees); CORS
// speaks the protocol through github.com/rs/cors.
//
// Mounting the endpoint, the happy path:
//
//	h, err := httpadapter.NewHandler(httpadapter.Config{
//		Authenticator: auth, Issuer: signer, Clients: clients,
//		CIINoClaim: "custom:ciino", // the body's CIINo must be the caller's
//	})
//	mux.Handle("/v2/get_sso_token", h) // the handler answers 405 itself, in the envelope
//
// Secure by default, to the letter of the GenerateSSOToken document:
//
//   - The body's CIINo is bound to the caller: NewHandler requires
//     Config.CIINoClaim (the token claim that holds it) or
//     Config.CIINoResolver (a lookup from the caller's principal), and
//     answers another CIINo 403 ciino_mismatch. Only
//     Config.InsecureUnboundCIINo, for a trusted back end that asks on
//     behalf of users, lets any CIINo through.
//   - The body's names are exactly CIINo, LOBId and Functionality: a case
//     variant ("ciino"), a name twice, invalid UTF-8 or an escaped lone
//     surrogate is 400 malformed_body (the module's JSON policy,
//     internal/jose); other members are ignored.
//   - The Guard's host allowlist takes brackets only around an IPv6
//     literal: "[api.example.com]" is 406 host_not_allowed.
//   - Issuing is limited per caller (LimitKey): 60 tokens a minute, 20 at
//     once, in this process unless Config.Limiter says otherwise (a
//     MemoryLimiter of another limit, or httpadapter/redislimit for a
//     fleet); past it, 429 rate_limited with Retry-After. Only
//     Config.InsecureNoIssueLimit turns it off.
//   - The call's deadline only ever shortens the body's read: the
//     server's ReadTimeout keeps bounding a body that trickles in.
//
// The two middlewares, RequireBearer (BearerOptions) and RequireSSOToken
// (SSOTokenOptions), take the same options, in the manner of
// github.com/auth0/go-jwt-middleware, and their zero values keep the
// defaults:
//
//   - TokenExtractor: where the token is. The Authorization header by
//     default (RequireSSOToken: or, without that header, the TokenNo
//     form field); FromCookie, FromForm, or FromFirst for several sources
//     in order, the first present one deciding. A source sent twice (two
//     headers, a cookie or a form field twice) is 400
//     multiple_authorization, never "the first wins", and a malformed
//     credential or a blank header never falls through to the next
//     source.
//   - CredentialsOptional: a request without any credential passes
//     without a principal (claims); a present but bad one is still
//     refused.
//   - PassPreflight: a CORS preflight passes on to a CORS layer mounted
//     inside. Off by default: CORS wraps outermost and answers preflights
//     before any check.
//   - ErrorHandler: writes every refusal instead of WriteError.
//
// A page for everyone that knows signed-in users by their header or their
// session cookie:
//
//	mw := httpadapter.RequireBearer(auth, httpadapter.BearerOptions{
//		TokenExtractor: httpadapter.FromFirst(httpadapter.FromAuthorizationHeader(), httpadapter.FromCookie("session")),
//		CredentialsOptional: true,
//	})
//
// Audit and metrics: every endpoint takes a Logger, for one audit record
// per call (never a credential), and an OnEvent hook with an Event, for
// metrics and traces without this module importing a metrics library:
// Config (GenerateSSOToken), CookieExchangeOptions, BearerOptions
// (refusals, and passes with AuditSuccess) and SSOTokenOptions (every
// redemption, accepted or refused). Event.Endpoint and Event.Outcome tell
// them apart, so one OnEvent function serves all.
//
// Every handler is a plain http.Handler and every middleware a
// func(http.Handler) http.Handler, so they mount the same way on
// http.ServeMux, chi, gin (gin.WrapH) or echo (echo.WrapHandler).
package httpadapter
