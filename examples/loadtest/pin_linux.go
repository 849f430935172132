package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// cpuSet is a CPU affinity mask as sched_setaffinity(2) takes it: up to
// 1024 CPUs, like glibc's cpu_set_t.
type cpuSet [16]uint64

func (s *cpuSet) set(cpu int)      { s[cpu/64] |= 1 << (cpu % 64) }
func (s *cpuSet) has(cpu int) bool { return s[cpu/64]&(1<<(cpu%64)) != 0 }

// cpus lists the CPUs in s.
func (s *cpuSet) cpus() []int {
	var out []int
	for cpu := range len(s) * 64 {
		if s.has(cpu) {
			out = append(out, cpu)
		}
	}
	return out
}

func getAffinity(tid int) (cpuSet, error) {
	var s cpuSet
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(s), uintptr(unsafe.Pointer(&s)))
	if errno != 0 {
		return s, fmt.Errorf("sched_getaffinity: %w", errno)
	}
	return s, nil
}

func setAffinity(tid int, s cpuSet) error {
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(s), uintptr(unsafe.Pointer(&s)))
	if errno != 0 {
		return fmt.Errorf("sched_setaffinity: %w", errno)
	}
	return nil
}

// splitCPUs divides the CPUs this process may run on into two halves, the
// clients' and the servers', or reports false when there are fewer than
// two.
func splitCPUs() (clients, servers cpuSet, ok bool) {
	all, err := getAffinity(0)
	if err != nil {
		return clients, servers, false
	}
	cpus := all.cpus()
	if len(cpus) < 2 {
		return clients, servers, false
	}
	half := len(cpus) / 2
	for i, cpu := range cpus {
		if i < half {
			clients.set(cpu)
		} else {
			servers.set(cpu)
		}
	}
	return clients, servers, true
}

// pinningSupported is whether this platform can place the clients and
// the servers on separate CPUs.
const pinningSupported = true

// pinSelf moves every thread of this process onto s, so that the threads
// the runtime starts later, which inherit their creator's mask, are on s
// too, and sets GOMAXPROCS to the size of s.
func pinSelf(s cpuSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := setAffinity(tid, s); err != nil && !errors.Is(err, syscall.ESRCH) { // ESRCH: the thread has exited
			return fmt.Errorf("thread %d: %w", tid, err)
		}
	}
	runtime.GOMAXPROCS(len(s.cpus()))
	return nil
}

// startOn starts cmd on the CPUs of s: the forking thread takes s for the
// time of the fork, and the child inherits it (a Go server then also
// sizes GOMAXPROCS to s). The thread keeps running afterwards, with its
// mask restored: a server started with Pdeathsig dies with the thread that
// forked it.
func startOn(cmd *exec.Cmd, s cpuSet) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, err := getAffinity(0)
	if err != nil {
		return err
	}
	if err := setAffinity(0, s); err != nil {
		return err
	}
	startErr := cmd.Start()
	if err := setAffinity(0, old); err != nil {
		if startErr == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		return fmt.Errorf("restoring the tool's CPUs: %w", err)
	}
	return startErr
}
