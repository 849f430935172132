//go:build !linux

package redistest

import "syscall"

// sysProcAttr is nil where there is no parent-death signal: a server
// outlives a test binary that dies without running its cleanups.
func sysProcAttr() *syscall.SysProcAttr { return nil }
