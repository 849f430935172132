package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchOutput is a test binary's output, as -test.bench prints it.
const benchOutput = `goos: linux
goarch: amd64
pkg: github.com/ssokit/ssokit/cognito
cpu: AMD EPYC
BenchmarkRawRSAVerify-2          	   40105	     29832 ns/op	    1072 B/op	       9 allocs/op
BenchmarkAuthenticateCold
    bench_test.go:99: a benchmark's log line
BenchmarkAuthenticateCold-2      	   22900	     52084.5 ns/op	   12345 B/op	     255 allocs/op
BenchmarkGuardCheck/10000-2      	 1000000	        63.0 ns/op
BenchmarkSHA256/1KiB-2           	  351504	       665.0 ns/op	1539.80 MB/s	       0 B/op	       0 allocs/op
BenchmarkNoProcs/x-16            	     100	       1.5 ns/op
PASS
ok  	github.com/ssokit/ssokit/cognito	12.345s
`

func TestParseBench(t *testing.T) {
	var cpu string
	rs, err := parseBench([]byte(benchOutput), &cpu)
	require.NoError(t, err)
	assert.Equal(t, "AMD EPYC", cpu)
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
		assert.Equal(t, "github.com/ssokit/ssokit/cognito", r.Pkg)
	}
	assert.Equal(t, []string{"BenchmarkRawRSAVerify", "BenchmarkAuthenticateCold", "BenchmarkGuardCheck/10000", "BenchmarkSHA256/1KiB", "BenchmarkNoProcs/x"}, names)
	assert.Equal(t, map[string]float64{"ns/op": 29832, "B/op": 1072, "allocs/op": 9}, rs[0].Values)
	assert.Equal(t, 52084.5, rs[1].Values["ns/op"])
	assert.Equal(t, map[string]float64{"ns/op": 63}, rs[2].Values)
	assert.Equal(t, 1539.80, rs[3].Values["MB/s"])
	assert.Equal(t, "github.com/ssokit/ssokit/cognito BenchmarkRawRSAVerify", rs[0].key())

	// The package changes with each "pkg:" line.
	rs, err = parseBench([]byte("pkg: a\nBenchmarkX-2 10 1 ns/op\npkg: b\nBenchmarkX-2 10 2 ns/op\n"), nil)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.NotEqual(t, rs[0].key(), rs[1].key())

	for _, bad := range []string{
		"BenchmarkX-2 10 1\n",              // a value without its unit
		"BenchmarkX-2 10 ns/op\n",          // a unit without its value
		"BenchmarkX-2 10 fast ns/op\n",     // not a number
		"BenchmarkX-2 10 1 ns/op 2 B/op 3", // a pair cut short
	} {
		_, err := parseBench([]byte(bad), nil)
		assert.Error(t, err, "%q", bad)
	}
}

// loadReport is the load test's report of a short run (its table's
// columns are aligned with spaces, right-aligned).
const loadReport = `loadtest: 2000 requests per target after 200 warm-up, 8 concurrent raw clients over 127.0.0.1; go1.26.8 linux/amd64, clients on CPU 0, servers on CPU 1

                       target  requests  errors  req/s     p50     p99  server CPU/req  client CPU/req  RSS warm  RSS after  ratio  goroutines start/warm/after  dup TokenRefNo
         ssoserver, cache off      2000       0   6010  0.85ms  9.22ms         100.0µs          45.0µs   18.8MiB    20.1MiB   1.07                     11/11/11               0
          ssoserver, cache on      2000       3  13626  0.26ms  8.43ms             n/a          25.0µs   16.8MiB    20.2MiB   1.20                     10/10/10               0
  baseline golang-jwt+keyfunc      2000       0   9790  0.68ms  3.33ms          85.0µs          50.0µs   12.5MiB    13.8MiB   1.10                        9/9/9             n/a
(TokenRefNo is checked for ssoserver; the baseline signs a constant one, as in its benchmark)

PASS  ssoserver, cache off: zero errors (0)
FAIL  ssoserver, cache off: requests/s >= 1.0x the baseline's (0.61x)
WARN  baseline golang-jwt+keyfunc: the clients used 95% of their CPUs; its requests/s may be theirs, not the server's
INFO  ssoserver, cache off: server CPU 60% busy, client CPU 27%
`

func TestParseLoad(t *testing.T) {
	rows, err := parseLoad([]byte(loadReport))
	require.NoError(t, err)
	assert.Equal(t, []loadRow{
		{Target: "ssoserver, cache off", Requests: 2000, RPS: 6010, P50: 850 * time.Microsecond, P99: 9220 * time.Microsecond, ServerCPU: 100 * time.Microsecond},
		{Target: "ssoserver, cache on", Requests: 2000, Errors: 3, RPS: 13626, P50: 260 * time.Microsecond, P99: 8430 * time.Microsecond},
		{Target: "baseline golang-jwt+keyfunc", Requests: 2000, RPS: 9790, P50: 680 * time.Microsecond, P99: 3330 * time.Microsecond, ServerCPU: 85 * time.Microsecond},
	}, rows)

	assert.Equal(t, []string{
		"FAIL  ssoserver, cache off: requests/s >= 1.0x the baseline's (0.61x)",
		"WARN  baseline golang-jwt+keyfunc: the clients used 95% of their CPUs; its requests/s may be theirs, not the server's",
	}, failLines([]byte(loadReport)))

	// A report of fewer columns is read by the header's names.
	rows, err = parseLoad([]byte("  target  req/s  requests  errors  p50  p99  server CPU/req\n  a b  12.5  10  0  1ms  2ms  3µs\n\n"))
	require.NoError(t, err)
	assert.Equal(t, []loadRow{{Target: "a b", RPS: 12.5, Requests: 10, P50: time.Millisecond, P99: 2 * time.Millisecond, ServerCPU: 3 * time.Microsecond}}, rows)

	for name, bad := range map[string]string{
		"no table":       "loadtest: the run failed\n",
		"header only":    "  target  req/s\n\n",
		"a column short": "  target  requests  errors  req/s  p50  p99  server CPU/req\n  a  10  0  12  1ms  2ms\n",
		"not a number":   "  target  requests  errors  req/s  p50  p99  server CPU/req\n  a  10  0  fast  1ms  2ms  3µs\n",
		"not a duration": "  target  requests  errors  req/s  p50  p99  server CPU/req\n  a  10  0  12  1  2ms  3µs\n",
		"p50 n/a":        "  target  requests  errors  req/s  p50  p99  server CPU/req\n  a  10  0  12  n/a  2ms  3µs\n",
	} {
		_, err := parseLoad([]byte(bad))
		assert.Error(t, err, name)
	}
}

func TestCriteriaOnly(t *testing.T) {
	assert.True(t, criteriaOnly([]byte("starting ssoserver\ndriving baseline: 5000 warm-up\n")))
	assert.False(t, criteriaOnly([]byte("starting ssoserver\nloadtest: ssoserver exited: exit status 2\n")))
}

func TestSummarize(t *testing.T) {
	assert.Equal(t, []string{"a (2 rounds)", "b"}, summarize([]string{"a", "b", "a"}))
	assert.Empty(t, summarize(nil))
}

func TestMedianSpread(t *testing.T) {
	assert.Equal(t, 0.0, median(nil))
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
	xs := []float64{3, 1, 2}
	median(xs)
	assert.Equal(t, []float64{3, 1, 2}, xs, "median sorts a copy")
	assert.InDelta(t, 0.5, spread([]float64{100, 150, 90}), 1e-9) // (150-100)/100
	assert.Equal(t, 0.0, spread([]float64{0, 0}))
}

func TestFiguresRows(t *testing.T) {
	f := newFigures()
	for round, v := range [][2]float64{{100, 50}, {110, 60}, {90, 54}} {
		_ = round
		f.addBench(buildDefault, []benchResult{{Pkg: modulePrefix + "cognito", Name: "BenchmarkX", Values: map[string]float64{"ns/op": v[0], "allocs/op": 10}}})
		f.addBench(buildBoring, []benchResult{{Pkg: modulePrefix + "cognito", Name: "BenchmarkX", Values: map[string]float64{"ns/op": v[1], "allocs/op": 12}}})
	}
	f.addLoad(buildDefault, []loadRow{{Target: "t", RPS: 1000, P50: time.Millisecond, P99: 2 * time.Millisecond}})
	f.addLoad(buildBoring, []loadRow{{Target: "t", RPS: 1500, P50: time.Millisecond, P99: 2 * time.Millisecond, ServerCPU: time.Microsecond}})
	f.add(buildDefault, "only default", "x", "ns/op", true, 1) // no pair: no row

	rows := f.rows(buildDefault, buildBoring)
	require.Len(t, rows, 6) // ns/op, allocs/op; req/s, p50, p99, errors (server CPU in one build only)
	r := rows[0]
	assert.Equal(t, "cognito BenchmarkX", r.title)
	assert.Equal(t, "ns/op", r.unit)
	assert.Equal(t, 100.0, r.def)
	assert.Equal(t, 54.0, r.boring)
	assert.InDelta(t, 0.54, r.ratio, 1e-9)
	assert.InDelta(t, 0.5, r.lo, 1e-9) // round 1: 50/100
	assert.InDelta(t, 0.6, r.hi, 1e-9) // round 3: 54/90
	assert.InDelta(t, 0.1, r.defSpread, 1e-9)
	assert.Equal(t, 3, r.rounds)
	assert.Equal(t, "0.54x (0.50-0.60)", r.ratioText())
	assert.InDelta(t, 1.2, rows[1].ratio, 1e-9)
	assert.Equal(t, "loadtest t", rows[2].title)
	assert.Equal(t, "req/s", rows[2].unit)
	assert.InDelta(t, 1.5, rows[2].ratio, 1e-9)
	assert.Equal(t, "1.50x", rows[2].ratioText(), "one round: no range")
	assert.Equal(t, "=", rows[5].ratioText(), "zero errors in both")

	var text, md bytes.Buffer
	writeTable(&text, rows[:1], false)
	assert.Regexp(t, `cognito BenchmarkX\s+ns/op\s+100 ±10%\s+54 ±11%\s+0\.54x \(0\.50-0\.60\)`, text.String())
	text.Reset()
	writeTable(&text, rows[1:2], false)
	assert.Regexp(t, `cognito BenchmarkX\s+allocs/op\s+10\s+12\s+1\.20x`, text.String(), "counts print without their spread")
	writeTable(&md, rows[:1], true)
	assert.Contains(t, md.String(), "| `cognito BenchmarkX` | ns/op | 100 ±10% | 54 ±11% | 0.54x (0.50-0.60) |")
}

func TestPlural(t *testing.T) {
	assert.Equal(t, "1 round", plural(1, "round"))
	assert.Equal(t, "3 rounds", plural(3, "round"))
}

func TestValue(t *testing.T) {
	assert.Equal(t, "52084", value(52084.4))
	assert.Equal(t, "255", value(255))
	assert.Equal(t, "63.4", value(63.44))
	assert.Equal(t, "0", value(0))
}

func TestBuilds(t *testing.T) {
	env := func(bs []build, name, key string) (string, bool) {
		for _, b := range bs {
			if b.name != name {
				continue
			}
			var v string
			var n int
			for _, e := range b.env {
				if val, ok := strings.CutPrefix(e, key+"="); ok {
					v, n = val, n+1
				}
			}
			require.LessOrEqual(t, n, 1, "%s set twice in %s", key, name)
			return v, n == 1
		}
		t.Fatalf("no build %s", name)
		return "", false
	}
	bs := builds([]string{"PATH=/bin", "GOEXPERIMENT=boringcrypto", "CGO_ENABLED=0"})
	require.Len(t, bs, 2)
	assert.False(t, bs[0].boring)
	assert.True(t, bs[1].boring)
	_, ok := env(bs, buildDefault, "GOEXPERIMENT")
	assert.False(t, ok, "the default build drops boringcrypto")
	v, _ := env(bs, buildDefault, "CGO_ENABLED")
	assert.Equal(t, "0", v, "the default build keeps the caller's cgo setting")
	v, _ = env(bs, buildBoring, "GOEXPERIMENT")
	assert.Equal(t, "boringcrypto", v)
	v, _ = env(bs, buildBoring, "CGO_ENABLED")
	assert.Equal(t, "1", v)
	v, _ = env(bs, buildBoring, "PATH")
	assert.Equal(t, "/bin", v)

	bs = builds([]string{"GOEXPERIMENT=noboringcrypto, jsonv2 ,aliastypeparams"})
	v, _ = env(bs, buildDefault, "GOEXPERIMENT")
	assert.Equal(t, "jsonv2,aliastypeparams", v, "other experiments are kept")
	v, _ = env(bs, buildBoring, "GOEXPERIMENT")
	assert.Equal(t, "jsonv2,aliastypeparams,boringcrypto", v)
	v, _ = env(bs, buildDefault, "GOEXPERIMENT")
	assert.Equal(t, "jsonv2,aliastypeparams", v, "the boring build's list does not leak into the default's")
}

// TestCheck reads this test binary's symbols: it links BoringSSL exactly
// when it was built with GOEXPERIMENT=boringcrypto where the mode works,
// so check passes for one build and fails for the other.
func TestCheck(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ELF binaries only")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	linked, err := linksBoringSSL(exe)
	require.NoError(t, err)
	assert.Equal(t, thisBinaryBoring, linked)
	bs := builds(nil)
	this, other := bs[0], bs[1]
	if thisBinaryBoring {
		this, other = other, this
	}
	assert.NoError(t, this.check(exe))
	assert.Error(t, other.check(exe))

	notELF := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755))
	_, err = linksBoringSSL(notELF)
	assert.Error(t, err)
}

func TestPkgDir(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"cognito", "internal/jose", "tools/benchbuilds/cryptobench"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module m\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "tools", "go.mod"), []byte("module m/tools\n"), 0o644))
	for pkg, want := range map[string][2]string{
		"cognito":                       {root, "./cognito"},
		"internal/jose":                 {root, "./internal/jose"},
		"tools/benchbuilds/cryptobench": {filepath.Join(root, "tools"), "./benchbuilds/cryptobench"},
	} {
		mod, rel, err := pkgDir(root, pkg)
		require.NoError(t, err, pkg)
		assert.Equal(t, want, [2]string{mod, rel}, pkg)
	}
	_, _, err := pkgDir(root, "missing")
	assert.Error(t, err)
	assert.Equal(t, "tools_benchbuilds_cryptobench.test", binName("tools/benchbuilds/cryptobench"))
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 5, o.rounds)
	assert.Equal(t, 3, o.loadRounds)
	assert.Equal(t, defaultPkgs, o.pkgs)
	assert.Equal(t, []string{"-n", "100000", "-c", "64"}, o.loadArgs)

	o, err = parseFlags([]string{"-pkgs", " ./cognito/ ,internal/jose,cognito,", "-load-rounds", "0", "-load-args", "-n 10"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"cognito", "internal/jose"}, o.pkgs)
	assert.Equal(t, 0, o.loadRounds)

	for _, bad := range [][]string{
		{"extra"},
		{"-rounds", "-1"},
		{"-rounds", "0", "-load-rounds", "0"},
		{"-pkgs", ","},
		{"-load-args", "-n 10 -ssoserver /bin/x"},
		{"-load-args", "--baseline=/bin/x"},
	} {
		_, err := parseFlags(bad, io.Discard)
		assert.Error(t, err, "%q", bad)
	}
	assert.True(t, slices.Contains(defaultPkgs, "tools/benchbuilds/cryptobench"))
}
