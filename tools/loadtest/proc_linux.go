package main

import (
	"os/exec"
	"syscall"
)

// setPdeathsig has the kernel kill the server when the tool dies, even by
// SIGKILL, so that no server outlives a run.
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
