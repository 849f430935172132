package heavylock_test

import (
	"fmt"
	"os"

	"github.com/ssokit/ssokit/tools/internal/heavylock"
)

// A heavy run takes the lock first, waiting (and saying so on stderr)
// while another run holds it, and keeps it until it ends.
func ExampleLock() {
	unlock, err := heavylock.Lock("mytool", os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mytool:", err)
		os.Exit(2)
	}
	defer unlock()
	// ... the run ...
}
