//go:build !linux

package proc

import "os/exec"

// setPdeathsig does nothing outside Linux: the children are stopped by
// the tool's own cleanup (and a terminal's Ctrl-C reaches them too).
func setPdeathsig(*exec.Cmd) {}
