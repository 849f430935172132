package redistest

import "syscall"

// sysProcAttr makes the kernel kill a redis-server when the test binary
// that started it dies (a test timeout, a panic), so that no server
// outlives its test. Go exits no thread that started a child unless a
// goroutine locked to it ends, which the tests never do.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
