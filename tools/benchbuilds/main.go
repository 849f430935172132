// Command benchbuilds measures ssokit in its two builds, Go's own crypto
// (the default) and the toolchain's BoringCrypto mode
// (GOEXPERIMENT=boringcrypto: RSA, ECDSA, HMAC and SHA-256 through
// BoringSSL, called with cgo), and prints each figure in both builds with
// the ratio boringcrypto / default. From the repository's root:
//
//	go -C tools run ./benchbuilds
//	go -C tools run ./benchbuilds -rounds 3 -bench 'Cold|Raw' -load-rounds 0
//
// The figures are BENCHMARKS.md's table (go test -bench over ssotoken,
// cognito, cookiesso, httpadapter and internal/jose), the benchmarks of
// ./benchbuilds/cryptobench (a TokenNo issued and verified with HS256,
// RS256, ES256 and EdDSA; SHA-256 alone), and the loopback load test of
// ./loadtest (requests/s, p50, p99 and server CPU per request of each of
// its targets).
//
// Each build compiles its test binaries once (go test -c) and, for the
// load test, its own examples/ssoserver and baseline server (the load
// tool itself, which only drives them, is built once, in the default
// build). Every binary is checked: the BoringCrypto build's must link
// BoringSSL and the default build's must not, since without cgo, or off
// linux/amd64 and linux/arm64, the experiment quietly leaves Go's crypto
// in place. Then the binaries run in rounds, each benchmark once per
// round (-test.count 1): package by package, the two builds one after
// the other, the one that goes first changing every round, and the load
// test likewise in the first -load-rounds rounds. A machine that drifts
// (another job starts, the CPU warms) then weighs on both builds alike.
// The report gives each figure's median over the rounds and the largest
// distance of a round from it (±), the ratio of the medians and, in
// brackets, the range of the rounds' own ratios (round i of one build
// over round i of the other): where that range straddles 1.00, the
// builds did not differ measurably.
//
// Flags:
//
//	-rounds 5            rounds of the benchmarks
//	-bench .             the benchmarks' regular expression (-test.bench)
//	-benchtime 1s        -test.benchtime
//	-pkgs LIST           comma-separated package directories from the root
//	-load-rounds 3       rounds with the load test; 0 leaves it out
//	-load-args '-n 100000 -c 64'  the load test's flags
//	-out DIR             keep the raw outputs in DIR: default.txt and
//	                     boringcrypto.txt (benchstat's input:
//	                     benchstat default.txt boringcrypto.txt) and each
//	                     load test's report
//	-md                  print the table in Markdown
//
// The load test exits 1 when one of its own criteria fails (ssoserver's
// requests/s against its baseline's, say); its figures are reported all
// the same, with the criteria that failed listed after the table. A run
// that fails otherwise, a benchmark that fails, or a binary of the wrong
// build stops benchbuilds with exit status 1; bad flags exit 2. Runs on
// one machine are serialised by a lock file in the temporary directory,
// shared with tools/mutation (package heavylock).
// The defaults take about 20 minutes on 2 cores. The figures compare the
// builds within one run; the load average at the start and at the end is
// printed with them, since other work on the machine blurs them.
//
// It is Go rather than a shell script so that the parsing of go test's
// and the load test's output, and the statistics, are unit-tested, and
// run by CI with the rest of the tools module.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/ssokit/ssokit/tools/internal/heavylock"
	"github.com/ssokit/ssokit/tools/internal/proc"
)

func main() {
	os.Exit(mainStatus(os.Args[1:], os.Stdout, os.Stderr))
}

// defaultPkgs are BENCHMARKS.md's packages and this tool's own crypto
// benchmarks, as directories relative to the repository's root.
var defaultPkgs = []string{"ssotoken", "cognito", "cookiesso", "httpadapter", "internal/jose", "tools/benchbuilds/cryptobench"}

type options struct {
	rounds, loadRounds int
	bench, benchtime   string
	pkgs               []string
	loadArgs           []string
	out                string
	md                 bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("benchbuilds", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.rounds, "rounds", 5, "rounds of the benchmarks, each benchmark once per round and build")
	fs.StringVar(&o.bench, "bench", ".", "the benchmarks to run, a `regexp` (-test.bench)")
	fs.StringVar(&o.benchtime, "benchtime", "1s", "-test.benchtime")
	pkgs := fs.String("pkgs", strings.Join(defaultPkgs, ","), "comma-separated `list` of package directories, from the repository's root")
	fs.IntVar(&o.loadRounds, "load-rounds", 3, "rounds with the load test (tools/loadtest); 0 leaves it out")
	loadArgs := fs.String("load-args", "-n 100000 -c 64", "the load test's `flags`")
	fs.StringVar(&o.out, "out", "", "keep the raw outputs in `dir`")
	fs.BoolVar(&o.md, "md", false, "print the table in Markdown")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.loadArgs = strings.Fields(*loadArgs)
	for p := range strings.SplitSeq(*pkgs, ",") {
		if p = strings.Trim(strings.TrimSpace(p), "/"); p != "" && !slices.Contains(o.pkgs, p) {
			o.pkgs = append(o.pkgs, strings.TrimPrefix(p, "./"))
		}
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.rounds < 0 || o.rounds > 100 || o.loadRounds < 0 || o.loadRounds > 100:
		return o, errors.New("-rounds and -load-rounds: want 0 to 100")
	case o.rounds == 0 && o.loadRounds == 0:
		return o, errors.New("-rounds 0 and -load-rounds 0: nothing to run")
	case o.rounds > 0 && len(o.pkgs) == 0:
		return o, errors.New("-pkgs: no package")
	}
	for _, a := range o.loadArgs {
		name := strings.SplitN(strings.TrimLeft(a, "-"), "=", 2)[0]
		if strings.HasPrefix(a, "-") && (name == "ssoserver" || name == "baseline") {
			return o, fmt.Errorf("-load-args: %s is benchbuilds' to set, one binary per build", a)
		}
	}
	return o, nil
}

// mainStatus is main without os.Exit, so that deferred cleanups run.
func mainStatus(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "benchbuilds:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "benchbuilds:", err)
		return 1
	}
	return 0
}

// binaries are one build's executables.
type binaries struct {
	tests     map[string]string // package directory -> its test binary
	ssoserver string
	baseline  string
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	unlock, err := heavylock.Lock("benchbuilds", stderr)
	if err != nil {
		return err
	}
	defer unlock()
	root, err := proc.RepoRoot(ctx)
	if err != nil {
		return fmt.Errorf("%w: run inside the repository", err)
	}
	work, err := os.MkdirTemp("", "ssokit-benchbuilds")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
	}
	bs := builds(os.Environ())

	// Build everything first, so that the rounds measure nothing else.
	bins := map[string]*binaries{}
	for _, b := range bs {
		dir := filepath.Join(work, b.name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		bin := &binaries{tests: map[string]string{}}
		bins[b.name] = bin
		if o.rounds > 0 {
			for _, pkg := range o.pkgs {
				fmt.Fprintf(stderr, "benchbuilds: %s build: go test -c ./%s\n", b.name, pkg)
				mod, rel, err := pkgDir(root, pkg)
				if err != nil {
					return err
				}
				out := filepath.Join(dir, binName(pkg))
				if err := b.goCmd(ctx, mod, "test", "-c", "-o", out, rel); err != nil {
					return err
				}
				if err := b.check(out); err != nil {
					return err
				}
				bin.tests[pkg] = out
			}
		}
		if o.loadRounds > 0 {
			fmt.Fprintf(stderr, "benchbuilds: %s build: examples/ssoserver and tools/loadtest/baseline\n", b.name)
			bin.ssoserver, bin.baseline = filepath.Join(dir, "ssoserver"), filepath.Join(dir, "baseline")
			if err := b.goCmd(ctx, root, "build", "-o", bin.ssoserver, "./examples/ssoserver"); err != nil {
				return err
			}
			if err := b.goCmd(ctx, filepath.Join(root, "tools"), "build", "-o", bin.baseline, "./loadtest/baseline"); err != nil {
				return err
			}
			for _, p := range []string{bin.ssoserver, bin.baseline} {
				if err := b.check(p); err != nil {
					return err
				}
			}
		}
	}
	loadtest := filepath.Join(work, "loadtest")
	if o.loadRounds > 0 {
		fmt.Fprintln(stderr, "benchbuilds: the load tool (default build)")
		if err := bs[0].goCmd(ctx, filepath.Join(root, "tools"), "build", "-o", loadtest, "./loadtest"); err != nil {
			return err
		}
	}

	figs := newFigures()
	raw := map[string][]byte{}
	var cpu string
	failed := map[string][]string{} // build -> the load test's FAIL lines, a round each
	load0 := loadAverage()
	for round := range max(o.rounds, o.loadRounds) {
		order := slices.Clone(bs)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		if round < o.rounds {
			for _, pkg := range o.pkgs {
				for _, b := range order {
					fmt.Fprintf(stderr, "benchbuilds: round %d/%d, %s build: %s\n", round+1, o.rounds, b.name, pkg)
					out, err := runOut(ctx, filepath.Join(root, filepath.FromSlash(pkg)), bins[b.name].tests[pkg],
						"-test.run", "^$", "-test.bench", o.bench, "-test.benchmem", "-test.count", "1",
						"-test.benchtime", o.benchtime, "-test.timeout", "30m")
					if err != nil {
						return fmt.Errorf("%s build, %s: %w", b.name, pkg, err)
					}
					rs, err := parseBench(out, &cpu)
					if err != nil {
						return fmt.Errorf("%s build, %s: %w", b.name, pkg, err)
					}
					figs.addBench(b.name, rs)
					raw[b.name] = append(raw[b.name], out...)
				}
			}
		}
		if round < o.loadRounds {
			for _, b := range order {
				fmt.Fprintf(stderr, "benchbuilds: round %d/%d, %s build: the load test\n", round+1, o.loadRounds, b.name)
				args := append([]string{"-ssoserver", bins[b.name].ssoserver, "-baseline", bins[b.name].baseline}, o.loadArgs...)
				out, errOut, runErr := runCmd(ctx, root, loadtest, args...)
				if o.out != "" {
					if err := os.WriteFile(filepath.Join(o.out, fmt.Sprintf("loadtest-%s-%d.txt", b.name, round+1)), out, 0o644); err != nil {
						return err
					}
				}
				rows, err := parseLoad(out)
				if err != nil {
					if runErr != nil {
						return fmt.Errorf("%s build, the load test: %w", b.name, runErr)
					}
					return fmt.Errorf("%s build: %w", b.name, err)
				}
				if runErr != nil && (ctx.Err() != nil || !criteriaOnly(errOut)) {
					return fmt.Errorf("%s build, the load test: %w", b.name, runErr)
				}
				figs.addLoad(b.name, rows)
				failed[b.name] = append(failed[b.name], failLines(out)...)
			}
		}
	}
	load1 := loadAverage()

	if o.out != "" {
		for _, b := range bs {
			if err := os.WriteFile(filepath.Join(o.out, b.name+".txt"), raw[b.name], 0o644); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "benchbuilds: %s %s/%s, %d CPUs", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if cpu != "" {
		fmt.Fprintf(stdout, " (%s)", cpu)
	}
	fmt.Fprintln(stdout)
	if o.rounds > 0 {
		fmt.Fprintf(stdout, "%s of -bench %s -benchtime %s over %s\n", plural(o.rounds, "round"), o.bench, o.benchtime, strings.Join(o.pkgs, " "))
	}
	if o.loadRounds > 0 {
		fmt.Fprintf(stdout, "%s of the load test %s\n", plural(o.loadRounds, "round"), strings.Join(o.loadArgs, " "))
	}
	if load0 != "" {
		fmt.Fprintf(stdout, "load average (1, 5, 15 min): %s at the start, %s at the end\n", load0, load1)
	}
	fmt.Fprintln(stdout)
	writeTable(stdout, figs.rows(buildDefault, buildBoring), o.md)
	for _, b := range bs {
		for _, l := range summarize(failed[b.name]) {
			fmt.Fprintf(stdout, "load test, %s build: %s\n", b.name, l)
		}
	}
	if o.out != "" {
		fmt.Fprintf(stdout, "\nraw outputs in %s (benchstat %s %s)\n", o.out,
			filepath.Join(o.out, buildDefault+".txt"), filepath.Join(o.out, buildBoring+".txt"))
	}
	return nil
}

// criteriaOnly reports whether the load test, which exited non-zero,
// failed only its criteria: it says why it failed in a line of its
// standard error that starts with "loadtest:", and prints none when a
// criterion fails (the report says which).
func criteriaOnly(stderr []byte) bool {
	for l := range strings.SplitSeq(string(stderr), "\n") {
		if strings.HasPrefix(l, "loadtest:") {
			return false
		}
	}
	return true
}

// failLines are the load test report's lines of criteria that failed.
func failLines(report []byte) []string {
	var out []string
	for l := range strings.SplitSeq(string(report), "\n") {
		if strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "WARN") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// summarize counts repeated lines, first seen first: "line (2 rounds)".
// A criterion's line holds the measured ratio, so rounds seldom repeat
// one exactly; each is kept.
func summarize(lines []string) []string {
	var (
		order []string
		n     = map[string]int{}
	)
	for _, l := range lines {
		if n[l] == 0 {
			order = append(order, l)
		}
		n[l]++
	}
	for i, l := range order {
		if n[l] > 1 {
			order[i] = fmt.Sprintf("%s (%d rounds)", l, n[l])
		}
	}
	return order
}

// plural is "1 round", "2 rounds".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// loadAverage is /proc/loadavg's first three fields, or "" without it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
