package redistest

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// EnvAddr holds the address of the shared single Redis server.
const EnvAddr = "SSOKIT_REDIS_ADDR"

// WarnSkipped says, in one line, which Redis tests of pkg this run skips
// because their variable (of vars) is unset; call it from TestMain after
// flag.Parse. The go command shows nothing of what a passing package
// prints unless -v is set, so a line on the test binary's standard error
// would be lost in a plain `go test ./...`: without -v the line goes to
// the standard error of the go command itself (the test binary's parent,
// through /proc on Linux), when that is a terminal or a pipe (a regular
// file is left alone: a second writer would write over the go command's
// own output). Otherwise, and with -v, it goes to the binary's standard
// error, where -v and -json show it.
func WarnSkipped(pkg string, vars ...string) {
	var unset []string
	for _, v := range vars {
		if os.Getenv(v) == "" {
			unset = append(unset, v)
		}
	}
	if len(unset) == 0 {
		return
	}
	var w io.Writer = os.Stderr
	if !testing.Verbose() {
		name := "/proc/" + strconv.Itoa(os.Getppid()) + "/fd/2"
		if fi, err := os.Stat(name); err == nil && fi.Mode()&(os.ModeCharDevice|os.ModeNamedPipe) != 0 {
			if f, err := os.OpenFile(name, os.O_WRONLY, 0); err == nil {
				defer f.Close()
				w = f
			}
		}
	}
	fmt.Fprintf(w, "%s: SKIPPING the Redis tests of %s, unset (.ci/run starts a Redis and a cluster)\n", pkg, strings.Join(unset, " and "))
}
