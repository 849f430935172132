// Command embed is the smallest complete host service that mounts the
// GenerateSSOToken endpoint, every error checked. README quotes it.
//
//	COGNITO_USER_POOL_ID=eu-west-1_AbCdEf123 COGNITO_CLIENT_ID=3n4b5urk1ft4fl3mg5e62d9ado \
//	SSO_SECRET=<32 bytes or more> go run ./examples/embed
//
// It needs a real Cognito user pool; examples/ssoserver runs without one.
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

func main() {
	auth, err := cognito.New(cognito.Config{
		UserPoolID: os.Getenv("COGNITO_USER_POOL_ID"),
		ClientIDs:  []string{os.Getenv("COGNITO_CLIENT_ID")},
		TokenUse:   cognito.TokenUseAccess,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	key, err := ssotoken.NewHMACKey("", []byte(os.Getenv("SSO_SECRET")))
	if err != nil {
		log.Fatal(err) // a secret under 32 bytes
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := ssotoken.NewSigner(ssotoken.SignerConfig{Keys: ring})
	if err != nil {
		log.Fatal(err)
	}
	h, err := httpadapter.NewHandler(httpadapter.Config{
		Authenticator: auth,
		Issuer:        signer,
		Clients: httpadapter.StaticRegistry{
			"1RrLMyLrZGA=": {LOBs: []string{"01"}, AppClients: []string{os.Getenv("COGNITO_CLIENT_ID")}},
		},
		CIINoClaim: "custom:ciino", // the caller's CIINo (access tokens carry it through a pre-token-generation trigger)
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/v2/get_sso_token", h)
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
