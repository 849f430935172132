package proc

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// RootModule is the module path of the repository's root module, whose
// directory holds examples/ and the tools module.
const RootModule = "github.com/ssokit/ssokit"

// RepoRoot finds the directory of a checkout of the repository: the one
// the go command resolves RootModule to from the working directory (the
// root module itself, or the tools module's replace of it), else the first
// checkout above the working directory, else the first above this
// source file (a binary built here and run from elsewhere). A checkout is
// a directory whose go.mod is RootModule's and that has tools/go.mod (a
// module cache's copy of RootModule has no tools).
func RepoRoot(ctx context.Context) (string, error) {
	try := func(dir string) bool { return filepath.IsAbs(dir) && IsCheckout(dir) }
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", RootModule)
	cmd.Stderr = io.Discard // outside any module, or one without RootModule
	if out, err := cmd.Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); try(dir) {
			return dir, nil
		}
	}
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) { // not with -trimpath
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		for dir := start; ; {
			if try(dir) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("no checkout of %s (a go.mod of that module beside tools/go.mod) found from %s", RootModule, strings.Join(starts, " or "))
}

// IsCheckout reports whether dir is the root of a checkout of the
// repository: its go.mod declares RootModule, and it has the tools module.
func IsCheckout(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && ModulePath(b) == RootModule
}

// ModulePath is the module path that go.mod content b declares, or "".
func ModulePath(b []byte) string {
	for line := range strings.Lines(string(b)) {
		line, _, _ = strings.Cut(line, "//")
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			if p, err := strconv.Unquote(f[1]); err == nil {
				return p
			}
			return f[1]
		}
	}
	return ""
}

// Build builds the package pkg ("./examples/ssoserver") of the module in
// moduleDir with the go command, into out. Its error holds the go
// command's output.
func Build(ctx context.Context, moduleDir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = moduleDir
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return fmt.Errorf("go build %s in %s: %w", pkg, moduleDir, context.Cause(ctx))
	}
	if err != nil {
		return fmt.Errorf("go build %s in %s: %v\n%s", pkg, moduleDir, err, b)
	}
	return nil
}
