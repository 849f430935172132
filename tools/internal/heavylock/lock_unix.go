//go:build unix

package heavylock

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Lock takes the lock, waiting for another heavy run to finish; it says so
// on stderr, naming the tool that waits. The lock goes with the process
// however it ends; unlock releases it sooner.
func Lock(tool string, stderr io.Writer) (unlock func(), err error) {
	name := Path()
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(stderr, "%s: another heavy run (mutation or benchbuilds) holds %s; waiting for it\n", tool, name)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
	}
	return func() { f.Close() }, nil
}

// Path is the lock file: in the temporary directory, so one per machine
// (or per TMPDIR).
func Path() string { return filepath.Join(os.TempDir(), "ssokit-heavy-run.lock") }
