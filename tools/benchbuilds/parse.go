package main

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A benchResult is one line of `go test -bench` output.
type benchResult struct {
	Pkg    string             // the import path of its package, from the "pkg:" line before it
	Name   string             // BenchmarkX/sub, without the -GOMAXPROCS suffix
	Values map[string]float64 // by unit: ns/op, B/op, allocs/op, MB/s, custom metrics
}

// key names the benchmark across runs and builds.
func (r benchResult) key() string { return r.Pkg + " " + r.Name }

// procsSuffix is the -GOMAXPROCS suffix the testing package puts after a
// benchmark's name (when GOMAXPROCS is not 1).
var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads the benchmark lines of a test binary's output in the
// format of golang.org/x/perf/benchfmt ("BenchmarkName-2  N  v unit  v
// unit ..."), each attributed to the package of the last "pkg:" line; it
// keeps cpu, the "cpu:" line's value, when it sees one. Other lines are
// skipped. A line that starts like a result but does not parse as one is
// an error: a silent skip would drop a figure from the report.
func parseBench(out []byte, cpu *string) ([]benchResult, error) {
	var (
		pkg string
		rs  []benchResult
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(v)
			continue
		}
		if v, ok := strings.CutPrefix(line, "cpu: "); ok && cpu != nil {
			*cpu = strings.TrimSpace(v)
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "Benchmark") || len(f) == 1 {
			continue // not a result: a name alone is a benchmark's log or a failure's start
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // "BenchmarkX  some log text"
		}
		if len(f) < 4 || len(f)%2 != 0 {
			return nil, fmt.Errorf("line %d: want a name, an iteration count and value-unit pairs: %q", n, line)
		}
		r := benchResult{Pkg: pkg, Name: procsSuffix.ReplaceAllString(f[0], ""), Values: map[string]float64{}}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q: %v", n, f[i], err)
			}
			r.Values[f[i+1]] = v
		}
		rs = append(rs, r)
	}
	return rs, sc.Err()
}

// A loadRow is one target's line of the load test's report.
type loadRow struct {
	Target    string
	Requests  int
	Errors    int
	RPS       float64
	P50, P99  time.Duration
	ServerCPU time.Duration // per request; 0 when the report says n/a
}

// parseLoad reads the table of tools/loadtest's report: the line that
// holds "target" and "req/s" is its header, and each line after it, up
// to the first empty one or one that starts with "(", is a target. The
// columns are right-aligned and at least two spaces apart (a target's
// name has single spaces); they are found by the header's names, so that
// a column added to the report does not shift the others.
func parseLoad(out []byte) ([]loadRow, error) {
	split := regexp.MustCompile(`\s{2,}`)
	cols := func(line string) []string { return split.Split(strings.TrimSpace(line), -1) }
	var (
		header []string
		rows   []loadRow
	)
	for line := range strings.SplitSeq(string(out), "\n") {
		if header == nil {
			if c := cols(line); slices.Contains(c, "target") && slices.Contains(c, "req/s") {
				header = c
			}
			continue
		}
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "(") {
			break
		}
		c := cols(line)
		if len(c) != len(header) {
			return nil, fmt.Errorf("load test report: %d columns under a header of %d: %q", len(c), len(header), line)
		}
		get := func(name string) string {
			if i := slices.Index(header, name); i >= 0 {
				return c[i]
			}
			return ""
		}
		r := loadRow{Target: get("target")}
		var err error
		if r.Requests, err = strconv.Atoi(get("requests")); err != nil {
			return nil, fmt.Errorf("load test report, %s: requests: %v", r.Target, err)
		}
		if r.Errors, err = strconv.Atoi(get("errors")); err != nil {
			return nil, fmt.Errorf("load test report, %s: errors: %v", r.Target, err)
		}
		if r.RPS, err = strconv.ParseFloat(get("req/s"), 64); err != nil {
			return nil, fmt.Errorf("load test report, %s: req/s: %v", r.Target, err)
		}
		for _, d := range []struct {
			col   string
			to    *time.Duration
			maybe bool // "n/a" allowed
		}{{"p50", &r.P50, false}, {"p99", &r.P99, false}, {"server CPU/req", &r.ServerCPU, true}} {
			v := get(d.col)
			if d.maybe && v == "n/a" {
				continue
			}
			if *d.to, err = time.ParseDuration(v); err != nil {
				return nil, fmt.Errorf("load test report, %s: %s: %v", r.Target, d.col, err)
			}
		}
		rows = append(rows, r)
	}
	if header == nil {
		return nil, fmt.Errorf("load test report: no table (no line with \"target\" and \"req/s\")")
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("load test report: a header and no target")
	}
	return rows, nil
}

// median is the median of xs (the mean of the middle two for an even
// count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is the largest distance of a sample from the median, as a
// fraction of the median: how far apart the rounds were.
func spread(xs []float64) float64 {
	m := median(xs)
	if m == 0 {
		return 0
	}
	var d float64
	for _, x := range xs {
		d = max(d, abs(x-m)/m)
	}
	return d
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
