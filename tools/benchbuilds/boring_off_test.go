//go:build !(boringcrypto && cgo && linux && (amd64 || arm64) && !android && !msan)

package main

// thisBinaryBoring: see boring_on_test.go.
const thisBinaryBoring = false
