// Command client calls a GenerateSSOToken endpoint with httpadapter.Client
// and prints the response.
//
//	go run ./examples/client -token "$ACCESS_TOKEN"
//
// Against examples/ssoserver in dev mode, pass the dev access token it
// printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ssokit/ssokit/httpadapter"
	"github.com/ssokit/ssokit/ssotoken"
)

func main() {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	base := fs.String("url", "http://127.0.0.1:8080", "base `URL` of the GenerateSSOToken endpoint")
	clientID := fs.String("client-id", "1RrLMyLrZGA=", "x-lob-client-id `value`")
	version := fs.String("api-version", "1.0.0", "x-api-version `value`")
	token := fs.String("token", "", "the caller's Cognito access `token` (env SSO_BEARER)")
	ciino := fs.String("ciino", "10001XXX", "the user's `CIINo` (the dev token's, the document's request sample)")
	lob := fs.String("lob", "XX", "the `LOBId` to enter (the request sample's)")
	fn := fs.String("functionality", "D", "the `Functionality`")
	timeout := fs.Duration("timeout", 10*time.Second, "time allowed for the call")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("Usage: client -token TOKEN [flags]\n\nCalls a GenerateSSOToken endpoint and prints the response.\n\nFlags:")
			fs.PrintDefaults()
			return
		}
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(2)
	}
	if *token == "" {
		*token = os.Getenv("SSO_BEARER") // read after parsing, so that -h never shows it
	}
	if *token == "" {
		fmt.Fprintln(os.Stderr, "client: -token (or SSO_BEARER) is required: the caller's access token")
		os.Exit(2)
	}
	c, err := httpadapter.NewClient(httpadapter.ClientConfig{
		BaseURL: *base, ClientID: *clientID, APIVersion: *version,
		Token: func(context.Context) (string, error) { return *token, nil },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	resp, err := c.Issue(ctx, ssotoken.Request{CIINo: *ciino, LOBId: *lob, Functionality: *fn})
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %s (%s, %s)\n", ssotoken.MessageOf(err), ssotoken.KindOf(err).String(), ssotoken.CodeOf(err))
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(resp)
}
