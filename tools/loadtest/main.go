// Command loadtest drives examples/ssoserver over 127.0.0.1 with
// concurrent clients, and in the same run drives a baseline server (the
// hand-written golang-jwt + keyfunc handler of
// httpadapter.BenchmarkBaselineHandwritten, in ./baseline) the same way.
// It lives in the tools module (its own go.mod, so that golang.org/x/sys
// and this harness never reach a host's module graph); from the
// repository's root:
//
//	go -C tools run ./loadtest -n 200000 -c 64
//
// or from tools, go run ./loadtest. It builds both servers with the go
// command, examples/ssoserver in the root module and ./baseline in the
// tools module of the checkout it finds (see proc.RepoRoot), or takes
// -ssoserver and -baseline binaries. It starts them as child processes on
// free loopback ports, so that the memory and goroutines it reports are
// the servers' own, and drives three targets in turn: ssoserver with
// -cognito-cache=false, ssoserver with its verified-token cache on, and the
// baseline, which accepts the same dev access token (it fetches the dev
// Cognito JWKS of the first ssoserver once at start).
//
// Each target gets -warmup requests, then a reading of its RSS
// (/proc/PID/status, Linux) and goroutines (ssoserver's opt-in
// -debug-addr endpoint) once the clients have stopped and their
// connections are closed, then -n measured requests from -c clients, each
// with its own keep-alive connection, then the same reading again (the
// goroutine count is polled for up to 5 s). Every request is the
// document's GenerateSSOToken call. The report gives requests/s, p50 and
// p99 latency, errors, server and client CPU time per request, RSS and
// goroutines, duplicate TokenRefNo, the throughput ratios against the
// baseline, and PASS or FAIL for each load criterion:
//
//   - every request answered 200 with a TokenRefNo, none twice;
//   - RSS after the run at most 1.2x RSS after warm-up;
//   - goroutines back to their post-warm-up count once the clients stop;
//   - requests/s at least 1.0x the baseline's with the cache off, at least
//     2.5x with it on.
//
// Two things keep the clients from weighing on what is measured. They
// speak HTTP/1.1 themselves (-client raw: the same request bytes every
// time, the answer read with little work), at about a third of the CPU
// time per request of net/http's client (-client net/http). And on Linux
// with two or more CPUs (-pin, the default) the tool runs on the first
// half of the CPUs and starts the servers on the other half, so that a
// server has its CPUs to itself, as behind a load balancer, and its
// requests/s measure its own cost per request rather than the share of a
// CPU it wins from the clients. Every target is placed and driven alike;
// -pin=false shares all CPUs between clients and servers. The report says
// how busy each side's CPUs were; where the clients used 90% or more of
// theirs, they, not the server, set the pace: the tool warns, and does
// not count a ratio as passed when that happened to the baseline.
//
// The exit status is 1 when a criterion fails or the run fails, 2 for bad
// flags. Everything is bounded: the request counts, each request
// (-req-timeout) and the whole run (-timeout); the servers are stopped on
// every exit, Ctrl-C included, and on Linux they die with the tool. The
// figures are for comparing targets within one run, not capacity
// planning.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(mainStatus(os.Args[1:], os.Stdout, os.Stderr))
}

// mainStatus is main without os.Exit, so that deferred cleanups run.
func mainStatus(args []string, stdout, stderr io.Writer) int {
	cfg, timeout, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if cfg.SSOServer == "" || cfg.Baseline == "" {
		dir, err := os.MkdirTemp("", "ssokit-loadtest")
		if err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(stderr, "building examples/ssoserver and tools/loadtest/baseline")
		sso, base, err := buildServers(ctx, dir)
		if err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 1
		}
		if cfg.SSOServer == "" {
			cfg.SSOServer = sso
		}
		if cfg.Baseline == "" {
			cfg.Baseline = base
		}
	}
	undo, err := place(&cfg)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	defer undo()
	results, err := run(ctx, cfg)
	if err != nil {
		if len(results) > 0 {
			report(stdout, cfg, results)
		}
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	if !report(stdout, cfg, results) {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, time.Duration, error) {
	cfg := config{Progress: stderr}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Requests, "n", 200000, "measured `requests` per target")
	fs.IntVar(&cfg.Concurrency, "c", 64, "concurrent `clients`")
	fs.IntVar(&cfg.Warmup, "warmup", 5000, "warm-up `requests` per target, before the first reading")
	targets := fs.String("targets", strings.Join(allTargets, ","), "comma-separated `list` of targets: "+strings.Join(allTargets, ", "))
	fs.StringVar(&cfg.SSOServer, "ssoserver", "", "ssoserver `binary`; empty builds examples/ssoserver of this repository")
	fs.StringVar(&cfg.Baseline, "baseline", "", "baseline `binary`; empty builds tools/loadtest/baseline")
	fs.BoolVar(&cfg.Pin, "pin", true, "run the clients and the servers on separate halves of the CPUs (Linux, 2 or more CPUs); false shares them")
	fs.StringVar(&cfg.Client, "client", clientRaw, "the clients' HTTP `implementation`: "+strings.Join(allClients, " or "))
	fs.DurationVar(&cfg.ReqTimeout, "req-timeout", 10*time.Second, "bound of one request")
	timeout := fs.Duration("timeout", 15*time.Minute, "bound of the whole run, builds included")
	if err := fs.Parse(args); err != nil {
		return cfg, 0, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, 0, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.Requests < 1 || cfg.Requests > maxRequests:
		return cfg, 0, fmt.Errorf("-n %d: want 1 to %d", cfg.Requests, maxRequests)
	case cfg.Warmup < 0 || cfg.Warmup > maxRequests:
		return cfg, 0, fmt.Errorf("-warmup %d: want 0 to %d", cfg.Warmup, maxRequests)
	case cfg.Concurrency < 1 || cfg.Concurrency > maxConcurrency:
		return cfg, 0, fmt.Errorf("-c %d: want 1 to %d", cfg.Concurrency, maxConcurrency)
	case !slices.Contains(allClients, cfg.Client):
		return cfg, 0, fmt.Errorf("-client %q: want %s", cfg.Client, strings.Join(allClients, " or "))
	case cfg.ReqTimeout <= 0 || *timeout <= 0:
		return cfg, 0, errors.New("-req-timeout and -timeout must be positive")
	}
	for t := range strings.SplitSeq(*targets, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(allTargets, t) {
			return cfg, 0, fmt.Errorf("-targets: unknown target %q, want some of %s", t, strings.Join(allTargets, ","))
		}
		if !slices.Contains(cfg.Targets, t) {
			cfg.Targets = append(cfg.Targets, t)
		}
	}
	return cfg, *timeout, nil
}

// Bounds of the flags: a target's per-request records stay under ~200 MB,
// and the clients under the loopback's ephemeral ports.
const (
	maxRequests    = 5_000_000
	maxConcurrency = 4096
)
