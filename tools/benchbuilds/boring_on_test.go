//go:build boringcrypto && cgo && linux && (amd64 || arm64) && !android && !msan

package main

// thisBinaryBoring is whether this test binary links BoringSSL: it does
// under GOEXPERIMENT=boringcrypto where the mode works (the build
// constraints of the toolchain's crypto/internal/boring).
const thisBinaryBoring = true
