package cognito

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssotoken"
)

// returnsWithin runs f and, if it has not returned within d, panics: the
// test binary ends at once, with every goroutine's stack, instead of
// hanging until the run's timeout. A hang is a failure.
func returnsWithin(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		panic(fmt.Sprintf("%s: %s did not return within %v", t.Name(), what, d))
	}
}

// TestAuthenticateReturnsPromptly is the package's first test (its file
// sorts first): Authenticate answers within seconds on every path of the
// key lookup, cold and cached, for one static pool and for two remote
// pools that publish the same kid (a token naming either pool, another
// issuer, or none; an unknown kid, a forgery, no kid). A lookup that
// loops forever ends the test binary at once rather than hang it.
func TestAuthenticateReturnsPromptly(t *testing.T) {
	k := getKeys(t)
	fa := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.k1, "shared")))
	fb := newFakeCognito(t, jwksJSON(t, jwkOf(t, k.other, "shared")))
	cfg := fa.config()
	cfg.Pools = []Pool{{Issuer: otherIssuer, JWKSURL: fb.srv.URL + "/jwks.json"}}
	var remote *Authenticator
	returnsWithin(t, 10*time.Second, "New", func() { remote = newRemote(t, cfg) })
	static := newStatic(t, baseConfig())

	for _, tt := range []struct {
		name string
		a    *Authenticator
		tok  string
	}{
		{"static: genuine", static, sign(t, k.k1, "k1", accessClaims())},
		{"static: forged", static, sign(t, k.other, "k1", accessClaims())},
		{"static: unknown kid", static, sign(t, k.k1, "k9", accessClaims())},
		{"static: no kid", static, signRaw(t, k.k1, `{"alg":"RS256"}`, accessPayload(t))},
		{"two pools: A's token", remote, sign(t, k.k1, "shared", accessClaims())},
		{"two pools: B's token", remote, sign(t, k.other, "shared", with(accessClaims(), "iss", otherIssuer))},
		{"two pools: another issuer", remote, sign(t, k.k1, "shared", with(accessClaims(), "iss", "https://example.com/x"))},
		{"two pools: no issuer", remote, sign(t, k.k1, "shared", with(accessClaims(), "iss", nil))},
		{"two pools: unknown kid", remote, sign(t, k.k1, "k9", accessClaims())},
	} {
		for range 2 { // cold, then cached when it verified
			returnsWithin(t, 10*time.Second, tt.name, func() {
				ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
				defer cancel()
				_, err := tt.a.Authenticate(ctx, tt.tok)
				if err != nil && ssotoken.KindOf(err) != ssotoken.ErrUnauthorized {
					t.Errorf("%s: %v", tt.name, err)
				}
			})
		}
	}
}
