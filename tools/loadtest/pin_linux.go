package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cpuSet is a CPU affinity mask as sched_setaffinity(2) takes it: up to
// 1024 CPUs, like glibc's cpu_set_t (unix.CPUSet).
type cpuSet unix.CPUSet

func (s *cpuSet) set(cpu int)      { (*unix.CPUSet)(s).Set(cpu) }
func (s *cpuSet) has(cpu int) bool { return (*unix.CPUSet)(s).IsSet(cpu) }

// cpus lists the CPUs in s, in increasing order.
func (s *cpuSet) cpus() []int {
	var out []int
	for cpu, n := 0, (*unix.CPUSet)(s).Count(); len(out) < n; cpu++ {
		if s.has(cpu) {
			out = append(out, cpu)
		}
	}
	return out
}

// getAffinity is the CPU mask of thread tid, 0 for the calling thread.
func getAffinity(tid int) (cpuSet, error) {
	var s unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &s); err != nil {
		return cpuSet(s), fmt.Errorf("sched_getaffinity: %w", err)
	}
	return cpuSet(s), nil
}

// setAffinity moves thread tid, 0 for the calling thread, onto s.
func setAffinity(tid int, s cpuSet) error {
	if err := unix.SchedSetaffinity(tid, (*unix.CPUSet)(&s)); err != nil {
		return fmt.Errorf("sched_setaffinity: %w", err)
	}
	return nil
}

// splitCPUs divides the CPUs this process may run on into two halves, the
// clients' and the servers', or reports false when there are fewer than
// two. The CPUs of one core (hyperthreads) go to the same half where the
// kernel's topology says which they are, so that clients and servers
// share no core.
func splitCPUs() (clients, servers cpuSet, ok bool) {
	all, err := getAffinity(0)
	if err != nil {
		return clients, servers, false
	}
	cpus := all.cpus()
	if len(cpus) < 2 {
		return clients, servers, false
	}
	clients, servers = halves(cpus, coreOf)
	return clients, servers, true
}

// halves puts the cores of cpus, in the order of their first CPU, half in
// clients and half in servers, each with all its CPUs; with one core, its
// CPUs are split instead.
func halves(cpus []int, coreOf func(cpu int) string) (clients, servers cpuSet) {
	var cores [][]int
	index := map[string]int{}
	for _, cpu := range cpus {
		id := coreOf(cpu)
		i, seen := index[id]
		if !seen {
			i = len(cores)
			index[id] = i
			cores = append(cores, nil)
		}
		cores[i] = append(cores[i], cpu)
	}
	if len(cores) < 2 {
		cores = cores[:0]
		for _, cpu := range cpus {
			cores = append(cores, []int{cpu})
		}
	}
	for i, core := range cores {
		for _, cpu := range core {
			if i < len(cores)/2 {
				clients.set(cpu)
			} else {
				servers.set(cpu)
			}
		}
	}
	return clients, servers
}

// coreOf names the core of cpu from sysfs ("package/core"), or the CPU
// itself when the topology is not readable.
func coreOf(cpu int) string {
	dir := fmt.Sprintf("/sys/devices/system/cpu/cpu%d/topology/", cpu)
	pkg, err1 := os.ReadFile(dir + "physical_package_id")
	core, err2 := os.ReadFile(dir + "core_id")
	if err1 != nil || err2 != nil {
		return "cpu" + strconv.Itoa(cpu)
	}
	return strings.TrimSpace(string(pkg)) + "/" + strings.TrimSpace(string(core))
}

// pinningSupported is whether this platform can place the clients and
// the servers on separate CPUs.
const pinningSupported = true

// pinSelf moves every thread of this process onto s, so that the threads
// the runtime starts later, which inherit their creator's mask, are on s
// too, and sets GOMAXPROCS to the size of s. A thread may be started by
// one not yet moved while it runs, so it goes over the threads again
// until a pass finds them all on s.
func pinSelf(s cpuSet) error {
	for range maxPinPasses {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		moved := 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if mask, err := getAffinity(tid); err == nil && mask == s {
				continue
			}
			if err := setAffinity(tid, s); err != nil && !errors.Is(err, unix.ESRCH) { // ESRCH: the thread has exited
				return fmt.Errorf("thread %d: %w", tid, err)
			}
			moved++
		}
		if moved == 0 {
			runtime.GOMAXPROCS(len(s.cpus()))
			return nil
		}
	}
	return fmt.Errorf("threads still starting off the chosen CPUs after %d passes", maxPinPasses)
}

const maxPinPasses = 10

// startOn starts cmd on the CPUs of s: the forking thread takes s for the
// time of the fork, and the child inherits it (a Go server then also
// sizes GOMAXPROCS to s, unless the GOMAXPROCS variable says otherwise).
// Threads the runtime starts meanwhile do not inherit s: a locked thread
// has the runtime's template thread start them.
//
// The forking thread must outlive the server: a server started with
// Pdeathsig is killed when the thread that forked it exits, and a
// goroutine that ends while locked to its thread takes the thread with
// it. So the lock is released, never left to the goroutine's end, and the
// thread goes back to the runtime with its mask restored.
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
