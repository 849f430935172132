package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
)

// place decides where the clients and the servers run, records it in
// cfg.Placement for the report and returns a func that undoes it.
//
// With cfg.Pin, on Linux with at least two CPUs, this process (the
// clients) moves to the first half of the CPUs it may use and the servers
// will be started on the other half (cfg.ServerCPUs). A server then has
// its CPUs to itself, as it would behind a load balancer, and its
// requests/s measure its own cost per request rather than its share of a
// CPU it splits with the clients: the same for every target, since all of
// them are placed alike. Otherwise clients and servers share every CPU.
func place(cfg *config) (undo func(), err error) {
	undo = func() {}
	shared := sharedPlacement()
	cfg.Placement, cfg.ServerCPUs, cfg.ClientCPUs = shared, nil, runtime.NumCPU()
	if !cfg.Pin {
		return undo, nil
	}
	clients, servers, ok := splitCPUs()
	if !ok {
		why := "fewer than 2 CPUs"
		if !pinningSupported {
			why = "CPU affinity is set on Linux only"
		}
		cfg.Placement = shared + " (-pin: " + why + ")"
		return undo, nil
	}
	old, err := getAffinity(0)
	if err != nil {
		return undo, err
	}
	procs := runtime.GOMAXPROCS(0)
	if err := pinSelf(clients); err != nil {
		_ = pinSelf(old)
		runtime.GOMAXPROCS(procs)
		return undo, fmt.Errorf("-pin: %w", err)
	}
	cfg.ServerCPUs, cfg.ClientCPUs = &servers, len(clients.cpus())
	cfg.Placement = "clients on CPU " + cpuList(clients.cpus()) + ", servers on CPU " + cpuList(servers.cpus())
	return func() {
		_ = pinSelf(old)
		runtime.GOMAXPROCS(procs)
	}, nil
}

// sharedPlacement says that clients and servers share every CPU.
func sharedPlacement() string {
	if n := runtime.NumCPU(); n != 1 {
		return fmt.Sprintf("%d CPUs shared by clients and servers", n)
	}
	return "1 CPU shared by clients and servers"
}

// cpuList is cpus as "0,1,2".
func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}
