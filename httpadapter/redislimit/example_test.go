package redislimit_test

import (
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/httpadapter/redislimit"
)

// Every instance of a GenerateSSOToken service counts a caller's tokens
// against one limit in the Redis they share: a single server here, or a
// cluster's nodes (redis.NewUniversalClient with several addresses).
func Example() {
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{"127.0.0.1:6379"},
		ContextTimeoutEnabled: true, // the call's deadline bounds each decision; New requires it
		DialTimeout:           time.Second,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
	})
	defer rdb.Close()

	limiter, err := redislimit.New(redislimit.Config{Client: rdb, Limit: httpadapter.DefaultIssueLimit})
	if err != nil {
		log.Fatal(err)
	}
	// Then: httpadapter.NewHandler(httpadapter.Config{..., Limiter: limiter})
	fmt.Println(limiter.Key("issuer\x00app-client\x00subject")[:len("rate:"+redislimit.DefaultPrefix)])
	// Output: rate:ssokit:issue:
}
