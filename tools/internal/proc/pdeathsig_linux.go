package proc

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel kill the child when the tool dies, even by
// SIGKILL, so that no child outlives a run. The child gets a process
// group of its own, so that a terminal's Ctrl-C reaches the tool alone,
// which then stops its children in the order it chooses.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
