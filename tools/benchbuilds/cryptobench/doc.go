// Package cryptobench holds benchmarks, and nothing else, of the crypto
// that the library's own benchmark table does not isolate: issuing and
// verifying a TokenNo with each algorithm ssotoken signs with (HS256,
// RS256, ES256, EdDSA), and SHA-256 of a token as the Cognito cache and
// the replay store take it. They use ssotoken's public API only, and live
// in the tools module so that the library's packages stay as they are.
// tools/benchbuilds runs them in both builds (Go's crypto and
// GOEXPERIMENT=boringcrypto); by hand:
//
//	go -C tools test -run '^$' -bench . -benchmem ./benchbuilds/cryptobench/
package cryptobench
