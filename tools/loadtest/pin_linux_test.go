package main

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func twoCPUs(t *testing.T) (clients, servers cpuSet) {
	t.Helper()
	clients, servers, ok := splitCPUs()
	if !ok {
		t.Skip("this process may run on one CPU only")
	}
	return clients, servers
}

// splitCPUs halves the allowed CPUs, and the halves neither overlap nor
// leave one out.
func TestSplitCPUs(t *testing.T) {
	clients, servers := twoCPUs(t)
	all, err := getAffinity(0)
	require.NoError(t, err)
	c, s := clients.cpus(), servers.cpus()
	assert.NotEmpty(t, c)
	assert.GreaterOrEqual(t, len(s), len(c))
	assert.Equal(t, all.cpus(), append(c, s...))
}

// Hyperthreads of one core stay together; a single core's threads are
// split.
func TestHalves(t *testing.T) {
	set := func(cpus ...int) (s cpuSet) {
		for _, c := range cpus {
			s.set(c)
		}
		return s
	}
	for _, tc := range []struct {
		name             string
		cpus             []int
		core             func(int) string
		clients, servers cpuSet
	}{
		{"one thread per core", []int{0, 1}, func(c int) string { return strconv.Itoa(c) }, set(0), set(1)},
		{"siblings i and i+n/2", []int{0, 1, 2, 3}, func(c int) string { return strconv.Itoa(c % 2) }, set(0, 2), set(1, 3)},
		{"siblings side by side", []int{0, 1, 2, 3}, func(c int) string { return strconv.Itoa(c / 2) }, set(0, 1), set(2, 3)},
		{"odd count of cores", []int{0, 1, 2}, func(c int) string { return strconv.Itoa(c) }, set(0), set(1, 2)},
		{"one core, two threads", []int{4, 5}, func(int) string { return "0/0" }, set(4), set(5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients, servers := halves(tc.cpus, tc.core)
			assert.Equal(t, tc.clients.cpus(), clients.cpus())
			assert.Equal(t, tc.servers.cpus(), servers.cpus())
		})
	}
}

// A child started with startOn runs on the given CPUs, and the thread
// that started it gets its own mask back.
func TestStartOn(t *testing.T) {
	_, servers := twoCPUs(t)
	runtime.LockOSThread() // startOn's lock nests: it forks from this thread
	defer runtime.UnlockOSThread()
	before, err := getAffinity(0)
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), blockEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, startOn(cmd, servers))
	defer func() {
		stdin.Close()
		assert.NoError(t, cmd.Wait())
	}()
	child, err := getAffinity(cmd.Process.Pid)
	require.NoError(t, err)
	assert.Equal(t, servers, child)

	after, err := getAffinity(0)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

// place pins this process to the clients' half and undo puts it back,
// GOMAXPROCS included; without -pin nothing moves.
func TestPlace(t *testing.T) {
	clients, servers := twoCPUs(t)
	before, err := getAffinity(0)
	require.NoError(t, err)
	procs := runtime.GOMAXPROCS(0)

	cfg := config{Pin: false}
	undo, err := place(&cfg)
	require.NoError(t, err)
	undo()
	assert.Nil(t, cfg.ServerCPUs)
	assert.Contains(t, cfg.Placement, "shared by clients and servers")

	cfg = config{Pin: true}
	undo, err = place(&cfg)
	require.NoError(t, err)
	require.NotNil(t, cfg.ServerCPUs)
	assert.Equal(t, servers, *cfg.ServerCPUs)
	assert.Equal(t, "clients on CPU "+cpuList(clients.cpus())+", servers on CPU "+cpuList(servers.cpus()), cfg.Placement)
	assert.Equal(t, len(clients.cpus()), runtime.GOMAXPROCS(0))
	for _, tid := range threads(t) {
		mask, err := getAffinity(tid)
		if err == nil { // the thread may have exited
			assert.Equal(t, clients, mask, "thread %d", tid)
		}
	}
	undo()
	assert.Equal(t, procs, runtime.GOMAXPROCS(0))
	for _, tid := range threads(t) {
		mask, err := getAffinity(tid)
		if err == nil {
			assert.Equal(t, before, mask, "thread %d", tid)
		}
	}
}

func threads(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	var tids []int
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		require.NoError(t, err)
		tids = append(tids, tid)
	}
	return tids
}
