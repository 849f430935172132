package redisreplay_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssokit/ssokit/ssotoken"
	"github.com/ssokit/ssokit/ssotoken/redisreplay"
)

// Every instance of a linked LOB builds the same verifier: the issuer's
// keys, its own LOB, and a Store in the Redis they all share. A TokenNo is
// then accepted by one instance, once.
func ExampleNew() {
	ctx := context.Background()
	secret := []byte("the secret shared with the issuer, 32 bytes or more")

	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // required: the request's deadline bounds each redemption
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
	})
	defer client.Close()

	replay, err := redisreplay.New(redisreplay.Config{Client: client, Prefix: "ssokit:redeemed:lob01:"})
	if err != nil {
		log.Fatal(err)
	}
	key, err := ssotoken.NewHMACKey("", secret)
	if err != nil {
		log.Fatal(err)
	}
	ring, err := ssotoken.NewKeyring(key)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := ssotoken.NewVerifier(ssotoken.VerifierConfig{Keys: ring, LOBId: "01", Leeway: 30 * time.Second, Replay: replay})
	if err != nil {
		log.Fatal(err)
	}

	var tokenNo string // from the request
	claims, err := verifier.Verify(ctx, tokenNo)
	switch {
	case errors.Is(err, ssotoken.ErrUnauthorized):
		log.Print("refused: ", ssotoken.CodeOf(err)) // token_replayed on the second redemption
	case err != nil:
		log.Print("Redis could not be reached; the token is refused: ", err) // 502 or 504 through httpadapter
	default:
		log.Print("welcome, ", claims.CIINo)
	}
}
