package httpadapter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ssokit/ssokit/ssotoken"
)

// TestHandlerIssuerSucceedsAfterDeadline: an issuer that ignores its
// context and answers with a token once the call's deadline has passed
// does not get that token to the caller: the answer is 504
// deadline_exceeded, without the token, and the audit record says so. A
// token that arrives too late may already be past what the caller was
// promised (its deadline), so it is dropped, as a token of an abandoned
// call would be.
func TestHandlerIssuerSucceedsAfterDeadline(t *testing.T) {
	ring := newTestRing(t)
	signer := newTestSigner(t, ring)
	lateToken := make(chan string, 1)
	tests := []struct {
		name   string
		issuer ssotoken.Issuer
	}{
		{name: "returns its token after the deadline, no error", issuer: ssotoken.IssuerFunc(func(ctx context.Context, req ssotoken.Request) (ssotoken.Response, error) {
			<-ctx.Done() // ignores it: finishes its work anyway
			resp, err := signer.Issue(context.Background(), req)
			lateToken <- resp.TokenNo
			return resp, err
		})},
		{name: "wrapped in AbandonOnDeadline", issuer: AbandonOnDeadline(ssotoken.IssuerFunc(func(ctx context.Context, req ssotoken.Request) (ssotoken.Response, error) {
			<-ctx.Done()
			resp, err := signer.Issue(context.Background(), req)
			lateToken <- resp.TokenNo
			return resp, err
		}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			audit := newAuditLog()
			h, _ := newTestHandler(t, func(c *Config) {
				c.Timeout = 20 * time.Millisecond
				c.Issuer = tt.issuer
				c.Logger, c.OnEvent = audit.logger, audit.onEvent
			})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(testBody))

			require.Equal(t, http.StatusGatewayTimeout, rec.Code, rec.Body.String())
			env := decodeEnvelope(t, rec)
			assert.Equal(t, ssotoken.CodeDeadlineExceeded, env["ErrorCode"])
			assert.NotContains(t, env, "TokenNo")
			assert.NotContains(t, env, "TokenRefNo")
			tok := <-lateToken
			require.NotEmpty(t, tok, "the issuer did mint a token")
			assert.NotContains(t, rec.Body.String(), tok)
			_, ev, _ := audit.check(t, EndpointGenerateSSOToken, "failed", http.StatusGatewayTimeout, ssotoken.CodeDeadlineExceeded)
			assert.Empty(t, ev.TokenRefNo, "no TokenRefNo in the record of a call that failed")
		})
	}
}
