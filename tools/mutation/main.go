// Command mutation runs gremlins (mutation testing) over the
// security-relevant files of each library package of ssokit and prints,
// per package, how many mutants the tests killed and the efficacy,
// killed / (killed + lived + timed out), after the mutants listed in
// equivalent.txt are set aside. A timeout is not a kill: a mutant that
// only a hang detects needs a test that fails fast.
//
// It needs gremlins v0.6.0 on PATH or in $(go env GOPATH)/bin:
//
//	go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
//
// and a Redis for the tests of ssotoken/redisreplay (without it those
// tests skip and their code counts as not covered). From the repository's
// root:
//
//	SSOKIT_REDIS_ADDR=127.0.0.1:6379 go -C tools run ./mutation
//	SSOKIT_REDIS_ADDR=127.0.0.1:6379 go -C tools run ./mutation ssotoken httpadapter
//
// With no arguments it runs every package of defaultPackages; arguments
// name packages by directory relative to the module root. Flags:
//
//	-min 95         exit 1 if a package's efficacy is below this percent
//	-coefficient N  gremlins' --timeout-coefficient for every package
//	                (default: the package's own, see below)
//	-json DIR       keep gremlins' JSON report of each package in DIR
//	-reuse          read the reports in -json DIR instead of running
//	                gremlins: to check an edit of equivalent.txt in seconds
//	-v              also list the mutants no test covers
//	-cases=false    leave the mutants of switch case expressions NOT
//	                COVERED, as gremlins alone does (see below)
//	-q              do not stream gremlins' output (one line a mutant,
//	                the progress) to stderr
//
// It exits 1 if a package is below -min or an entry of equivalent.txt is
// stale (it names a mutant that no longer exists or that a test now
// kills: the list cannot rot), 2 if gremlins or the tests fail to run.
//
// Each package is one "gremlins unleash ./<pkg> --workers 1" in the module
// root, with the files of filesExcluded left out. Gremlins first runs the
// package's tests with coverage and then, for each covered mutant, applies
// it and runs that package's tests ("go test -failfast ./<pkg>") with a
// timeout of the coverage run's time times the coefficient. The runs are
// serialised by a lock file in the temporary directory (package
// heavylock, shared with tools/benchbuilds), so two heavy
// runs on one machine never overlap; the
// tests are not cached (GOFLAGS=-count=1), so the coverage run's time is
// a real one.
//
// Gremlins runs only the mutants that lie in a block of the coverage
// profile that ran, and the go command's profile has no block for the
// expressions of a switch's case clauses, so gremlins alone never runs a
// mutant of "case c.LOBId != v.lob:". With -cases (the default on Unix)
// gremlins gets this executable as its "go" command, which adds those
// blocks to the profile of gremlins' coverage run and passes every other
// command to the real go unchanged (see cases.go).
//
// How long it takes, on a 2-core machine shared with other work: a mutant
// costs one build and run of its package's tests, about 4 s for
// httpadapter and 3 s for ssotoken and ssotoken/redisreplay; measured
// (2026-11): httpadapter 30 min (about 420 mutants run), ssotoken 23 min
// (about 415), ssotoken/redisreplay 3 min (about 25); every package in
// turn well over an hour. A mutant that hangs costs the coverage run's
// time times the package's coefficient (see coefficients below): 6 where
// the coverage run is about one package's tests (twice gremlins' default:
// a mutant's run also rebuilds the package, on two cores that other work
// shares, and a false timeout would count against the package), 3 for
// ssotoken, whose coverage run also runs ssotoken/redisreplay's Redis
// tests and takes about four times a mutant's run.
package main

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ssokit/ssokit/tools/internal/heavylock"
)

// modulePath is the module whose packages this tool tests.
const modulePath = "github.com/ssokit/ssokit"

// defaultPackages are the library packages measured with no arguments,
// as directories relative to the module root.
// internal/jose is the JSON policy and the golang-jwt plumbing that every
// token class of the others goes through.
var defaultPackages = []string{"httpadapter", "ssotoken", "ssotoken/redisreplay", "cookiesso", "cognito", "internal/jose"}

// filesExcluded lists, per package, the files that are not security code,
// as regular expressions over the path relative to the package directory
// (gremlins' -E). Every package also leaves out its sub-packages: gremlins
// walks ./<pkg>/... and a sub-package is measured on its own, or, when it
// is a test helper, not at all.
//
// With coefficients, below, it is the one place that says how each
// package is measured.
var filesExcluded = map[string][]exclusion{
	"httpadapter": {
		{`^doc\.go$`, "documentation only"},
		{`^redislimit/`, "a sub-package: the optional Redis rate-limit adapter, not in the measured set"},
	},
	"ssotoken": {
		{`^doc\.go$`, "documentation only"},
		{`^stats\.go$`, "metrics snapshots for a host's exporter: counters, no decision"},
		{`^redisreplay/`, "a sub-package, measured on its own"},
		{`^ssotokentest/`, "a sub-package: test helpers (a fake issuer and clock), never in a host"},
	},
	"ssotoken/redisreplay": {
		{`^doc\.go$`, "documentation only"},
	},
	"cookiesso": {
		{`^doc\.go$`, "documentation only"},
		{`^cookiessotest/`, "a sub-package: test helpers, never in a host"},
	},
	"internal/jose": {},
	"cognito": {
		{`^doc\.go$`, "documentation only"},
		{`^stats\.go$`, "metrics snapshots for a host's exporter: counters, no decision"},
		{`^cognitotest/`, "a sub-package: a fake Cognito pool for tests, never in a host"},
	},
}

// coefficients are gremlins' --timeout-coefficient per package: a
// mutant's test run times out after the coverage run's time times this.
// The coverage run tests ./<pkg>/..., a mutant's run ./<pkg> alone.
var coefficients = map[string]int{
	"httpadapter":          6,
	"ssotoken":             3, // its coverage run includes ssotoken/redisreplay's Redis tests: ~4x a mutant's run
	"ssotoken/redisreplay": 6,
	"cookiesso":            6,
	"cognito":              6,
	// Its coverage run takes well under a second, so 6 would time a
	// looping mutant out before TestNoEndlessLoops' watchdog (5 s) fails
	// the test: the loop must be reported by the test, as a kill.
	"internal/jose": 20,
}

// exclusion is one file pattern of filesExcluded, with why it is left out.
type exclusion struct {
	pattern string
	reason  string
}

func main() {
	if filepath.Base(os.Args[0]) == "go" {
		os.Exit(goWrapper(os.Args[1:])) // gremlins runs this executable as go: see cases.go
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	min         float64
	coefficient int
	jsonDir     string
	reuse       bool
	verbose     bool
	quiet       bool
	cases       bool
	root        string
	equivFile   string
	gremlins    string
	pkgs        []string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("mutation", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Float64Var(&o.min, "min", 95, "exit 1 if a package's efficacy, in percent, is below this")
	fs.IntVar(&o.coefficient, "coefficient", 0, "gremlins --timeout-coefficient for every package: a mutant's test run times out after the coverage run's time times this (0: each package's own)")
	fs.StringVar(&o.jsonDir, "json", "", "keep gremlins' JSON report of each package in this directory")
	fs.BoolVar(&o.reuse, "reuse", false, "read the reports in -json instead of running gremlins")
	fs.BoolVar(&o.verbose, "v", false, "list the mutants no test covers too")
	fs.BoolVar(&o.quiet, "q", false, "do not stream gremlins' output (the progress) to stderr")
	fs.BoolVar(&o.cases, "cases", caseCoverageSupported, "run the mutants of switch case expressions, which gremlins alone calls NOT COVERED (see cases.go)")
	fs.StringVar(&o.root, "root", "", "the module root (default: found from the working directory)")
	fs.StringVar(&o.equivFile, "equivalent", "", "the list of equivalent mutants (default: <root>/tools/mutation/equivalent.txt)")
	fs.StringVar(&o.gremlins, "gremlins", "", "the gremlins binary (default: gremlins on PATH, else $(go env GOPATH)/bin/gremlins)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go -C tools run ./mutation [flags] [pkg ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.reuse && o.jsonDir == "" {
		return o, errors.New("-reuse needs -json DIR")
	}
	if o.cases && !caseCoverageSupported {
		return o, errors.New("-cases needs a Unix system: use -cases=false")
	}
	if o.coefficient < 0 {
		return o, errors.New("-coefficient must not be negative")
	}
	o.pkgs = fs.Args()
	if len(o.pkgs) == 0 {
		o.pkgs = append([]string(nil), defaultPackages...)
	}
	for i, p := range o.pkgs {
		p = path.Clean(strings.TrimPrefix(filepath.ToSlash(p), "./"))
		if _, ok := filesExcluded[p]; !ok {
			return o, fmt.Errorf("unknown package %q: want one of %s", p, strings.Join(defaultPackages, ", "))
		}
		o.pkgs[i] = p
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "mutation:", err)
		return 2
	}
	if o.root == "" {
		if o.root, err = findRoot(); err != nil {
			fmt.Fprintln(stderr, "mutation:", err)
			return 2
		}
	}
	if o.equivFile == "" {
		o.equivFile = filepath.Join(o.root, "tools", "mutation", "equivalent.txt")
	}
	equivs, err := loadEquivalents(o.equivFile)
	if err != nil {
		fmt.Fprintln(stderr, "mutation:", err)
		return 2
	}
	if !o.reuse {
		if o.gremlins == "" {
			if o.gremlins, err = findGremlins(); err != nil {
				fmt.Fprintln(stderr, "mutation:", err)
				return 2
			}
		}
		if os.Getenv("SSOKIT_REDIS_ADDR") == "" {
			fmt.Fprintln(stderr, "mutation: WARNING: SSOKIT_REDIS_ADDR is unset: the Redis tests skip and ssotoken/redisreplay's code counts as not covered")
		}
		unlock, err := heavylock.Lock("mutation", stderr)
		if err != nil {
			fmt.Fprintln(stderr, "mutation:", err)
			return 2
		}
		defer unlock()
	}

	var sums []Summary
	walls := make(map[string]time.Duration)
	code := 0
	for _, pkg := range o.pkgs {
		start := time.Now()
		mutants, err := mutantsOf(o, pkg, stderr)
		walls[pkg] = time.Since(start).Round(time.Second)
		if err != nil {
			fmt.Fprintf(stderr, "mutation: %s: %v\n", pkg, err)
			return 2
		}
		s := summarize(pkg, mutants, equivs)
		sums = append(sums, s)
		printPackage(stdout, o, s, walls[pkg])
		if s.Efficacy() < o.min || len(s.Stale) > 0 {
			code = 1
		}
	}

	fmt.Fprintln(stdout, "\nsummary:")
	for _, s := range sums {
		verdict := "ok"
		switch {
		case s.Efficacy() < o.min:
			verdict = fmt.Sprintf("BELOW %g %%", o.min)
		case len(s.Stale) > 0:
			verdict = "STALE equivalent.txt entries"
		}
		wall := ""
		if !o.reuse {
			wall = "  wall " + walls[s.Pkg].String()
		}
		fmt.Fprintf(stdout, "  %-22s %s%s  %s\n", s.Pkg, formatSummary(s), wall, verdict)
	}
	return code
}

// printPackage writes the figures of one package and the mutants a
// reviewer must look at: the survivors, the stale entries and, with -v,
// the mutants no test covers.
func printPackage(w io.Writer, o options, s Summary, wall time.Duration) {
	fmt.Fprintf(w, "\n%s: %s", s.Pkg, formatSummary(s))
	if !o.reuse {
		fmt.Fprintf(w, "  (wall %s)", wall)
	}
	fmt.Fprintln(w)
	src := newSourceCache(o.root)
	for _, m := range s.Survivors {
		fmt.Fprintf(w, "  %-9s %s\t%s\n", m.Status, m.Key(), src.line(m.File, m.Line))
	}
	if o.verbose {
		for _, m := range s.Uncovered {
			fmt.Fprintf(w, "  %-9s %s\t%s\n", "UNCOVERED", m.Key(), src.line(m.File, m.Line))
		}
	}
	for _, st := range s.Stale {
		fmt.Fprintf(w, "  STALE     equivalent.txt:%d %s: %s\n", st.Entry.Line, st.Entry.Key, st.Why)
	}
}

// mutantsOf runs gremlins on pkg, or with -reuse reads its kept report.
func mutantsOf(o options, pkg string, stderr io.Writer) ([]Mutant, error) {
	report := filepath.Join(os.TempDir(), fmt.Sprintf("ssokit-mutation-%d-%s.json", os.Getpid(), strings.ReplaceAll(pkg, "/", "_")))
	if o.jsonDir != "" {
		report = filepath.Join(o.jsonDir, strings.ReplaceAll(pkg, "/", "_")+".json")
	}
	if !o.reuse {
		if o.jsonDir != "" {
			if err := os.MkdirAll(o.jsonDir, 0o755); err != nil {
				return nil, err
			}
		} else {
			defer os.Remove(report)
		}
		_ = os.Remove(report)
		if err := unleash(o, pkg, report, stderr); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(report)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseReport(f, pkg)
}

// gremlinsArgs are the arguments of gremlins for pkg, writing its JSON
// report to report; coefficient 0 is the package's own.
func gremlinsArgs(pkg string, coefficient int, report string) []string {
	if coefficient == 0 {
		coefficient = cmp.Or(coefficients[pkg], 6)
	}
	args := []string{"unleash", "./" + pkg, "--workers", "1", "--timeout-coefficient", fmt.Sprint(coefficient), "-o", report}
	for _, e := range filesExcluded[pkg] {
		args = append(args, "-E", e.pattern)
	}
	return args
}

// unleash runs gremlins on pkg in the module root.
func unleash(o options, pkg, report string, stderr io.Writer) error {
	args := gremlinsArgs(pkg, o.coefficient, report)
	fmt.Fprintf(stderr, "mutation: %s: gremlins %s\n", pkg, strings.Join(args, " "))
	cmd := exec.Command(o.gremlins, args...)
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -count=1"))
	if o.cases {
		dir, env, err := installGoWrapper(o.root)
		if err != nil {
			return fmt.Errorf("case coverage: %w", err)
		}
		defer os.RemoveAll(dir)
		cmd.Env = append(cmd.Env, env...)
	}
	var out strings.Builder
	if o.quiet {
		cmd.Stdout, cmd.Stderr = &out, &out
	} else {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(stderr, &out), io.MultiWriter(stderr, &out)
	}
	if err := cmd.Run(); err != nil {
		if o.quiet {
			fmt.Fprintln(stderr, lastLines(out.String(), 40))
		}
		return fmt.Errorf("gremlins: %w", err)
	}
	if _, err := os.Stat(report); err != nil {
		// gremlins writes no report when it found no mutant, or when the
		// coverage run failed without a failing exit status.
		fmt.Fprintln(stderr, lastLines(out.String(), 40))
		return fmt.Errorf("gremlins wrote no report: %w", err)
	}
	return nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// loadEquivalents reads the list of equivalent mutants and checks that
// every entry names a file of a known package.
func loadEquivalents(name string) ([]Equivalent, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	equivs, err := parseEquivalents(f)
	if err != nil {
		return nil, err
	}
	for _, e := range equivs {
		if _, ok := filesExcluded[path.Dir(e.File)]; !ok {
			return nil, fmt.Errorf("equivalent.txt:%d: %s is not in a measured package", e.Line, e.File)
		}
	}
	return equivs, nil
}

// findRoot returns the directory of the go.mod of modulePath, from the
// working directory up.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	moduleLine := regexp.MustCompile(`(?m)^module\s+` + regexp.QuoteMeta(modulePath) + `\s*$`)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && moduleLine.Match(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory: use -root", modulePath)
		}
		dir = parent
	}
}

// findGremlins returns gremlins on PATH, else in $(go env GOPATH)/bin.
func findGremlins() (string, error) {
	if p, err := exec.LookPath("gremlins"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "gremlins")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	return "", errors.New("gremlins not found: go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0")
}

// sourceCache reads the lines of the module's files, to show a mutant's.
type sourceCache struct {
	root  string
	files map[string][]string
}

func newSourceCache(root string) *sourceCache {
	return &sourceCache{root: root, files: make(map[string][]string)}
}

// line returns line n of file (relative to the root), trimmed, or "".
func (c *sourceCache) line(file string, n int) string {
	lines, ok := c.files[file]
	if !ok {
		if f, err := os.Open(filepath.Join(c.root, filepath.FromSlash(file))); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			f.Close()
		}
		c.files[file] = lines
	}
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[n-1])
}
