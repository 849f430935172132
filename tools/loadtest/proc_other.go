//go:build !linux

package main

import "os/exec"

// setPdeathsig does nothing outside Linux: the servers are stopped by the
// tool's own cleanup.
func setPdeathsig(*exec.Cmd) {}
