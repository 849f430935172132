package main_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/cognito/cognitotest"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

func TestGenerateSSOToken(t *testing.T) {
	pool := cognitotest.NewPool(t, cognitotest.Defaults(cognitotest.With("custom:ciino", "10001004")))
	auth, err1 := cognito.New(pool.Config())
	key, err2 := ssotoken.NewHMACKey("", []byte("the host's TokenNo secret, 32+ bytes"))
	ring, err3 := ssotoken.NewKeyring(key)
	signer, err4 := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
	h, err5 := httpadapter.NewHandler(httpadapter.Config{Authenticator: auth, Issuer: signer, CIINoClaim: "custom:ciino",
		Clients: httpadapter.StaticRegistry{"cid": {LOBs: []string{"01"}, AppClients: []string{pool.ClientID()}}}})
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	mux := http.NewServeMux()
	mux.Handle("POST /v2/get_sso_token", h)
	for tok, want := range map[string]int{pool.AccessToken(t): 200, pool.AccessToken(t, cognitotest.Without("exp")): 401} {
		r := httptest.NewRequest("POST", "/v2/get_sso_token", strings.NewReader(`{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`))
		r.Header = http.Header{"X-Api-Version": {"1.0.0"}, "X-Lob-Client-Id": {"cid"}, "Content-Type": {"application/json"}, "Authorization": {"Bearer " + tok}}
		w := httptest.NewRecorder()
		if mux.ServeHTTP(w, r); w.Code != want {
			t.Errorf("status %d, want %d: %s", w.Code, want, w.Body)
		}
	}
}
