package cognito_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/ssokit/ssokit/cognito"
	"github.com/ssokit/ssokit/ssotoken"
)

// A real user pool: the issuer and the JWKS URL are derived from the pool
// id, the region read from it. Access tokens of one app client are
// accepted, and they must carry a scope.
func Example() {
	auth, err := cognito.New(cognito.Config{
		UserPoolID:     "eu-west-1_AbCdEf123",
		ClientIDs:      []string{"3n4b5urk1ft4fl3mg5e62d9ado"},
		TokenUse:       cognito.TokenUseAccess,
		RequiredScopes: []string{"sso/generate"},
		Leeway:         5 * time.Second,
	})
	if err != nil {
		log.Fatal(err) // only a configuration error: the JWKS is fetched in the background
	}
	defer auth.Close()

	mux := http.NewServeMux()
	mux.Handle("/v2/whoami", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
		switch {
		case errors.Is(err, ssotoken.ErrForbidden):
			http.Error(w, ssotoken.MessageOf(err), http.StatusForbidden)
		case err != nil:
			http.Error(w, ssotoken.MessageOf(err), http.StatusUnauthorized) // or 502/504: see package httpadapter
		default:
			fmt.Fprintln(w, p.Username)
		}
	}))
	_ = http.ListenAndServe("127.0.0.1:8080", mux)
}

// ID tokens of two pools (say, staff and customers), and a rule of one's
// own through Check.
func Example_idTokensOfTwoPools() {
	auth, err := cognito.New(cognito.Config{
		UserPoolID: "eu-west-1_Staff0001",
		Pools:      []cognito.Pool{{UserPoolID: "us-east-1_Custom002"}},
		ClientIDs:  []string{"staffwebclient", "customerwebclient"},
		TokenUse:   cognito.TokenUseID,
		Check: func(ctx context.Context, p *ssotoken.Principal) error {
			if p.Attributes["custom:ciino"] == "" {
				return ssotoken.NewError(ssotoken.ErrForbidden, "ciino_missing", "the user has no CIINo", nil)
			}
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
}

// A local stand-in for Cognito (cognito-local, moto, a test server): an
// explicit issuer and an http JWKS URL.
func Example_localStandIn() {
	auth, err := cognito.New(cognito.Config{
		Issuer:    "http://127.0.0.1:9229/local_5a3b1c",
		JWKSURL:   "http://127.0.0.1:9229/local_5a3b1c/.well-known/jwks.json",
		ClientIDs: []string{"local-client"},
		TokenUse:  cognito.TokenUseAccess,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()
}

// A static key set, for tests and hosts without network access. The key
// and the token are made here; in a test they stand for the pool's.
func ExampleNewStatic() {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwk, _ := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
		KID: "test-key", ALG: jwkset.AlgRS256, USE: jwkset.UseSig,
	}})
	jwks, _ := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})

	now := time.Date(2025, 1, 20, 8, 49, 46, 0, time.UTC)
	auth, err := cognito.NewStatic(cognito.Config{
		UserPoolID:     "eu-west-1_AbCdEf123",
		ClientIDs:      []string{"client-1"},
		TokenUse:       cognito.TokenUseAccess,
		RequiredGroups: []string{"sso-users"},
		Now:            func() time.Time { return now },
	}, jwks)
	if err != nil {
		log.Fatal(err)
	}

	token := signExample(key, map[string]any{
		"sub":            "7c9d1e2f-0000-4000-8000-000000000001",
		"iss":            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
		"client_id":      "client-1",
		"token_use":      "access",
		"scope":          "openid sso/generate",
		"cognito:groups": []string{"sso-users"},
		"username":       "jdoe",
		"iat":            now.Add(-time.Minute).Unix(),
		"exp":            now.Add(time.Hour).Unix(),
	})
	p, err := auth.Authenticate(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Username, p.ClientID, p.Scopes, p.Groups, p.ExpiresAt.UTC().Format(time.RFC3339))

	_, err = auth.Authenticate(context.Background(), token[:len(token)-4]+"AAAA")
	fmt.Println(errors.Is(err, ssotoken.ErrUnauthorized), ssotoken.CodeOf(err))

	later := signExample(key, map[string]any{
		"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", "client_id": "client-1",
		"token_use": "access", "exp": now.Add(time.Hour).Unix(), "cognito:groups": []string{"other"},
	})
	_, err = auth.Authenticate(context.Background(), later)
	fmt.Println(errors.Is(err, ssotoken.ErrForbidden), ssotoken.CodeOf(err))
	// Output:
	// jdoe client-1 [openid sso/generate] [sso-users] 2025-01-20T09:49:46Z
	// true bad_signature
	// true insufficient_scope
}

// signExample signs claims with RS256 under kid "test-key", as Cognito
// would, through golang-jwt.
func signExample(key *rsa.PrivateKey, claims map[string]any) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	t.Header["kid"] = "test-key"
	token, err := t.SignedString(key)
	if err != nil {
		log.Fatal(err)
	}
	return token
}
