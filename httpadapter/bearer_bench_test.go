package httpadapter_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

// BenchmarkRequireBearer is the bearer middleware's own cost: the header
// parsed, a stand-in authenticator that answers at once, the principal put
// in the context.
func BenchmarkRequireBearer(b *testing.B) {
	p := &ssotoken.Principal{Subject: "user-1"}
	auth := ssotoken.AuthenticatorFunc(func(context.Context, string) (*ssotoken.Principal, error) { return p, nil })
	h := httpadapter.RequireBearer(auth, httpadapter.BearerOptions{})(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/services/v2/user.json", nil)
	r.Header.Set("Authorization", "Bearer abc.def.ghi")
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
		if w.code != http.StatusNoContent {
			b.Fatalf("status %d", w.code)
		}
	}
}
