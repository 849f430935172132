// Package leaktest checks that a package's tests leave no goroutine
// behind: closing what was opened (servers, authenticators, clients) must
// stop everything it started.
package leaktest

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests of m, then waits (up to five seconds) for every
// goroutine they started to end, and fails the run with the stacks of
// those that did not. Use it as a package's TestMain:
//
//	func TestMain(m *testing.M) { leaktest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := wait(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaktest: goroutines still running after the tests:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// wait polls until only the test framework's own goroutines are left, and
// returns the stacks of the others if they are still there at the end.
func wait(limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		// Keep-alive connections of the default client are the tests' too.
		http.DefaultClient.CloseIdleConnections()
		leaked := interesting()
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond) // polling for goroutines to finish, not waiting out a timer
	}
}

// interesting returns the stacks of goroutines other than this one and
// the runtime's and testing package's own.
func interesting() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if g == "" || ignored(g) {
			continue
		}
		out = append(out, g)
	}
	return out
}

func ignored(stack string) bool {
	for _, s := range []string{
		"internal/leaktest.interesting", // this goroutine
		"testing.(*M).", "testing.tRunner", "testing.runFuzzing", "testing.(*F).",
		"runtime.goexit0", "runtime.gopark\nruntime.goparkunlock\nruntime.forcegchelper",
		"os/signal.signal_recv", "os/signal.loop",
		"runtime.ensureSigM", "created by runtime.gc", "runtime.bgsweep", "runtime.bgscavenge",
		"runtime.runfinq", "runtime.unique_runtime_registerUniqueMapCleanup",
		"runtime.runCleanups",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}
