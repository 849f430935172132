//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// lock takes the machine-wide lock of benchbuilds runs (a flock on a file
// in the temporary directory), waiting for another run to finish: two
// runs at once would share the cores and measure each other. The lock
// goes with the process, however it ends.
func lock(stderr io.Writer) (unlock func(), err error) {
	name := filepath.Join(os.TempDir(), "ssokit-benchbuilds.lock")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(stderr, "benchbuilds: another run holds %s; waiting for it\n", name)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
	}
	return func() { f.Close() }, nil
}
