//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// Environment of the go wrapper (see goWrapper).
const (
	envRealGo = "SSOKIT_MUTATION_REAL_GO" // the go command the wrapper runs
	envRoot   = "SSOKIT_MUTATION_ROOT"    // the module root, to find the profile's files
)

// caseCoverageSupported: the go wrapper needs exec(2) and symbolic links.
const caseCoverageSupported = true

// installGoWrapper makes a directory holding "go", a link to this
// executable, to put first on gremlins' PATH, and returns it and the
// environment gremlins needs. The caller removes the directory.
func installGoWrapper(root string) (dir string, env []string, err error) {
	realGo, err := exec.LookPath("go")
	if err != nil {
		return "", nil, err
	}
	if realGo, err = filepath.Abs(realGo); err != nil {
		return "", nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	dir, err = os.MkdirTemp("", "ssokit-mutation-go-")
	if err != nil {
		return "", nil, err
	}
	if err := os.Symlink(self, filepath.Join(dir, "go")); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	env = []string{
		"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"),
		envRealGo + "=" + realGo,
		envRoot + "=" + root,
	}
	return dir, env, nil
}

// goWrapper is the go command gremlins runs with case coverage on: this
// executable, linked as "go" first on gremlins' PATH. It replaces itself
// with the real go (so that gremlins' timeout kills the test run itself),
// except for gremlins' coverage run ("go test -cover -coverprofile F"),
// which it runs as a child and after which it adds the case blocks to F
// (see extendCaseCoverage).
func goWrapper(args []string) int {
	realGo := os.Getenv(envRealGo)
	if realGo == "" {
		fmt.Fprintln(os.Stderr, "mutation: go wrapper: "+envRealGo+" is unset")
		return 2
	}
	profile := coverProfileArg(args)
	if profile == "" {
		err := syscall.Exec(realGo, append([]string{realGo}, args...), os.Environ())
		fmt.Fprintln(os.Stderr, "mutation: go wrapper:", err)
		return 2
	}
	cmd := exec.Command(realGo, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "mutation: go wrapper:", err)
		return 2
	}
	if err := extendCaseCoverage(profile, os.Getenv(envRoot), modulePath); err != nil {
		fmt.Fprintln(os.Stderr, "mutation: go wrapper: case coverage:", err)
		return 2
	}
	return 0
}
