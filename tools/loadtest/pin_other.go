//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

// cpuSet stands for a CPU affinity mask, which this platform does not let
// the tool set: clients and servers share the CPUs.
type cpuSet struct{}

func (*cpuSet) cpus() []int { return nil }

const pinningSupported = false

func splitCPUs() (clients, servers cpuSet, ok bool) { return clients, servers, false }

func getAffinity(int) (cpuSet, error) {
	return cpuSet{}, errors.New("CPU affinity is set on Linux only")
}

func pinSelf(cpuSet) error { return errors.New("CPU affinity is set on Linux only") }

func startOn(cmd *exec.Cmd, _ cpuSet) error { return cmd.Start() }
