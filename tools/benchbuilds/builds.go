package main

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// A build is one way of compiling ssokit: Go's own crypto, or the
// toolchain's BoringCrypto mode.
type build struct {
	name string   // "default" or "boringcrypto", as the report and the files name it
	env  []string // the go command's environment for its builds
	// boring is whether its binaries must link BoringSSL, checked on
	// every binary built, since the mode falls back to Go's crypto
	// without a word where it cannot work (no cgo, another platform).
	boring bool
}

const (
	buildDefault = "default"
	buildBoring  = "boringcrypto"
	experiment   = "boringcrypto" // GOEXPERIMENT's name of the mode
)

// builds returns the two builds for the environment env (os.Environ()):
// the default one, with boringcrypto taken out of GOEXPERIMENT if it is
// there, and the BoringCrypto one, with it added and CGO_ENABLED=1
// (BoringSSL is called through cgo). Other experiments in GOEXPERIMENT
// are kept in both.
func builds(env []string) []build {
	var others []string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "GOEXPERIMENT="); ok {
			for x := range strings.SplitSeq(v, ",") {
				if x = strings.TrimSpace(x); x != "" && x != experiment && x != "no"+experiment {
					others = append(others, x)
				}
			}
		}
	}
	with := func(exps []string, extra ...string) []string {
		out := make([]string, 0, len(env)+2)
		for _, e := range env {
			if !strings.HasPrefix(e, "GOEXPERIMENT=") && !(len(extra) > 0 && strings.HasPrefix(e, "CGO_ENABLED=")) {
				out = append(out, e)
			}
		}
		if len(exps) > 0 {
			out = append(out, "GOEXPERIMENT="+strings.Join(exps, ","))
		}
		return append(out, extra...)
	}
	return []build{
		{name: buildDefault, env: with(others)},
		{name: buildBoring, env: with(append(others[:len(others):len(others)], experiment), "CGO_ENABLED=1"), boring: true},
	}
}

// goCmd runs the go command with args in dir, in build b's environment.
func (b build) goCmd(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = b.env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if err != nil {
		return fmt.Errorf("%s build: go %s in %s: %v\n%s", b.name, strings.Join(args, " "), dir, err, out)
	}
	return nil
}

// check makes sure that the binary at path is of build b: that it links
// BoringSSL if and only if b is the BoringCrypto build.
func (b build) check(path string) error {
	linked, err := linksBoringSSL(path)
	if err != nil {
		return err
	}
	switch {
	case b.boring && !linked:
		return fmt.Errorf("%s: built with GOEXPERIMENT=%s but BoringSSL is not linked (no cgo? BoringCrypto works on linux/amd64 and linux/arm64 only)", path, experiment)
	case !b.boring && linked:
		return fmt.Errorf("%s: the default build links BoringSSL (is GOEXPERIMENT=%s set with go env -w?)", path, experiment)
	}
	return nil
}

// boringSymbol is in the name of every Go function that calls the
// BoringSSL the toolchain links in BoringCrypto mode
// (crypto/internal/boring._Cfunc__goboringcrypto_SHA256, ...), and in no
// function of another build.
const boringSymbol = "_goboringcrypto_"

// linksBoringSSL reports whether the Go ELF executable at path calls the
// toolchain's BoringSSL: whether a function of its function table
// (.gopclntab) has boringSymbol in its name. The table is there even in a
// binary without a symbol table (go build -ldflags=-s, and the test
// binaries that go test runs).
func linksBoringSSL(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sec := f.Section(".gopclntab")
	if sec == nil {
		return false, fmt.Errorf("%s: no .gopclntab section: not a Go executable?", path)
	}
	data, err := sec.Data()
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return bytes.Contains(data, []byte(boringSymbol)), nil
}

// pkgDir splits pkg, a package directory relative to the repository's
// root ("cognito", "tools/benchbuilds/cryptobench"), into the directory
// of its module (the nearest go.mod above it) and the package's path
// relative to that, as the go command takes it ("./cryptobench").
func pkgDir(root, pkg string) (moduleDir, rel string, err error) {
	dir := filepath.Join(root, filepath.FromSlash(pkg))
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", "", fmt.Errorf("package %s: no directory %s", pkg, dir)
	}
	for m := dir; ; m = filepath.Dir(m) {
		if _, err := os.Stat(filepath.Join(m, "go.mod")); err == nil {
			r, err := filepath.Rel(m, dir)
			if err != nil {
				return "", "", err
			}
			return m, "./" + filepath.ToSlash(r), nil
		}
		if m == root || filepath.Dir(m) == m {
			return "", "", fmt.Errorf("package %s: no go.mod above it in %s", pkg, root)
		}
	}
}

// binName is the name of pkg's test binary: its path with "_" for "/".
func binName(pkg string) string {
	return strings.ReplaceAll(strings.Trim(pkg, "/"), "/", "_") + ".test"
}

// runOut runs the executable path with args in dir and returns its
// standard output; on failure the error holds both outputs' tails.
func runOut(ctx context.Context, dir, path string, args ...string) ([]byte, error) {
	stdout, _, err := runCmd(ctx, dir, path, args...)
	return stdout, err
}

// runCmd runs the executable path with args in dir and returns both its
// outputs; on failure the error holds their tails.
func runCmd(ctx context.Context, dir, path string, args ...string) (stdout, stderr []byte, err error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		return o.Bytes(), e.Bytes(), context.Cause(ctx)
	}
	if err != nil {
		err = fmt.Errorf("%s %s: %v\n%s%s", filepath.Base(path), strings.Join(args, " "), err, tail(o.Bytes()), tail(e.Bytes()))
	}
	return o.Bytes(), e.Bytes(), err
}

// tail is the last 4 KiB of b.
func tail(b []byte) []byte {
	const n = 4 << 10
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
