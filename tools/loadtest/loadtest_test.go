package main

import (
	"bufio"
	"context"
	"flag"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockEnv makes the test binary a child that blocks until its stdin
// closes.
const blockEnv = "SSOKIT_LOADTEST_BLOCK"

var (
	buildOnce       sync.Once
	buildDir        string
	ssoBin, baseBin string
	buildErr        error
)

func TestMain(m *testing.M) {
	if os.Getenv(blockEnv) == "1" { // a child of TestStartOn: wait for stdin to close
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binaries builds ssoserver and the baseline once per test binary, without
// -race: they run as separate processes.
func binaries(t *testing.T) (ssoserver, baseline string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts ssoserver and the baseline (run without -short)")
	}
	buildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if buildDir, buildErr = os.MkdirTemp("", "ssokit-loadtest"); buildErr == nil {
			ssoBin, baseBin, buildErr = buildServers(ctx, buildDir)
		}
	})
	require.NoError(t, buildErr)
	return ssoBin, baseBin
}

// TestLoad drives every target with small numbers: no error, no duplicate
// TokenRefNo, goroutines back to their count once the clients stop. It
// asserts no throughput: that is the tool's report, not a timed test.
func TestLoad(t *testing.T) {
	sso, base := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := config{Requests: 2000, Concurrency: 16, Warmup: 200, Targets: allTargets, SSOServer: sso, Baseline: base, ReqTimeout: 10 * time.Second}
	results, err := run(ctx, cfg)
	require.NoError(t, err)
	require.Len(t, results, len(allTargets))
	for i, r := range results {
		t.Run(r.Target, func(t *testing.T) {
			assert.Equal(t, allTargets[i], r.Target)
			assert.Zero(t, r.Errors, "%q", r.ErrSamples)
			assert.Equal(t, r.Target != targetBaseline, r.CheckRefNos)
			assert.Zero(t, r.Duplicates)
			assert.Positive(t, r.GorStart)
			assert.LessOrEqual(t, r.GorAfter, r.GorWarm, "goroutines back to their post-warm-up count")
			assert.Positive(t, r.P50)
			assert.LessOrEqual(t, r.P50, r.P99)
			assert.Positive(t, r.RPS())
			// The servers log, and never a credential: no JWT (every
			// one starts eyJ, '{"' in base64url), neither the access
			// token the clients sent nor a TokenNo.
			assert.Contains(t, r.Log, `"msg":"listening"`)
			assert.NotContains(t, r.Log, "eyJ")
		})
	}

	// The same through net/http's client, on one target.
	httpCfg := cfg
	httpCfg.Client, httpCfg.Targets, httpCfg.Requests, httpCfg.Warmup = clientNetHTTP, []string{targetCacheOn}, 300, 0
	httpResults, err := run(ctx, httpCfg)
	require.NoError(t, err)
	require.Len(t, httpResults, 1)
	assert.Zero(t, httpResults[0].Errors, "%q", httpResults[0].ErrSamples)
	assert.Zero(t, httpResults[0].Duplicates)

	var out strings.Builder
	report(&out, cfg, results)
	for _, want := range []string{"ssoserver, cache off", "ssoserver, cache on", "baseline", "p99", "goroutines start/warm/after",
		"zero duplicate TokenRefNo", "requests/s >= 1.0x the baseline's", "requests/s >= 2.5x the baseline's"} {
		assert.Contains(t, out.String(), want)
	}
}

// ssoserver's debug endpoint is off unless asked for, and only on
// loopback.
func TestDebugEndpointOptIn(t *testing.T) {
	sso, _ := binaries(t)

	out, err := exec.Command(sso, "-addr", "127.0.0.1:0", "-debug-addr", "0.0.0.0:0").CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, exit.ExitCode())
	assert.Contains(t, string(out), "-debug-addr")

	// Without -debug-addr: no debug line before the banner, which is
	// printed after the debug endpoint would have been logged. One pipe
	// for stdout and stderr keeps their order.
	cmd := exec.Command(sso, "-addr", "127.0.0.1:0", "-log-format", "json")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(t, cmd.Start())
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		go func() {
			for range lines { // drain, so that Wait's copy to pw ends
			}
		}()
		_ = cmd.Wait()
		pw.Close()
	})
	timeout := time.After(time.Minute)
	for {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "ssoserver exited before its banner")
			assert.NotContains(t, l, "debug endpoint")
			if strings.HasPrefix(l, devTokenPfx) {
				return
			}
		case <-timeout:
			t.Fatal("no dev banner within a minute")
		}
	}
}

func TestCriteria(t *testing.T) {
	ok := func(target string, rps float64) result {
		return result{Target: target, Requests: 1000, Elapsed: time.Duration(1000 / rps * float64(time.Second)),
			RSSWarm: 100, RSSAfter: 110, GorStart: 5, GorWarm: 5, GorAfter: 5, CheckRefNos: target != targetBaseline}
	}
	tests := []struct {
		name  string
		mod   func(off, on, base *result)
		fails []string
	}{
		{name: "all pass", mod: func(off, on, base *result) {}},
		{name: "an error", mod: func(off, on, base *result) { on.Errors = 1 }, fails: []string{"cache on: zero errors"}},
		{name: "a duplicate", mod: func(off, on, base *result) { off.Duplicates = 2 }, fails: []string{"cache off: zero duplicate"}},
		{name: "RSS grew", mod: func(off, on, base *result) { off.RSSAfter = 121 }, fails: []string{"cache off: RSS"}},
		{name: "a goroutine left", mod: func(off, on, base *result) { on.GorAfter = 6 }, fails: []string{"cache on: goroutines"}},
		{name: "baseline errors", mod: func(off, on, base *result) { base.Errors = 3 }, fails: []string{"baseline golang-jwt+keyfunc: zero errors"}},
		{name: "slow cache off", mod: func(off, on, base *result) { *off = ok(targetCacheOff, 900) }, fails: []string{"cache off: requests/s"}},
		{name: "slow cache on", mod: func(off, on, base *result) { *on = ok(targetCacheOn, 2499) }, fails: []string{"cache on: requests/s"}},
		{name: "baseline memory is not judged", mod: func(off, on, base *result) { base.RSSAfter, base.GorAfter = 1000, 50 }},
		{name: "baseline paced by its clients", mod: func(off, on, base *result) {
			base.ClientCPUs, base.ServerCPUs, base.ClientCPU = 1, 1, base.Elapsed*95/100
		}, fails: []string{"cache off: requests/s >= 1.0x the baseline's (1.00x, inconclusive: the baseline's clients used 95%", "cache on: requests/s >= 2.5x the baseline's (3.00x, inconclusive"}},
		{name: "busy clients of a shared machine are not judged", mod: func(off, on, base *result) { base.ClientCPUs, base.ClientCPU = 1, base.Elapsed }},
		{name: "a target paced by its clients fails on its own", mod: func(off, on, base *result) {
			*on = ok(targetCacheOn, 2000)
			on.ClientCPUs, on.ServerCPUs, on.ClientCPU = 1, 1, on.Elapsed
		}, fails: []string{"cache on: requests/s >= 2.5x the baseline's (2.00x)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, on, base := ok(targetCacheOff, 1000), ok(targetCacheOn, 3000), ok(targetBaseline, 1000)
			tt.mod(&off, &on, &base)
			var fails []string
			for _, v := range criteria([]result{off, on, base}) {
				if v.status != "PASS" {
					fails = append(fails, v.text)
				}
			}
			require.Len(t, fails, len(tt.fails), "%q", fails)
			for i, f := range tt.fails {
				assert.Contains(t, fails[i], f)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	for _, tt := range []struct {
		name   string
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{ms(7)}, 99, ms(7)},
		{"p50 of 100", hundred, 50, ms(50)},
		{"p99 of 100", hundred, 99, ms(99)},
		{"p99 of 3", []time.Duration{ms(1), ms(2), ms(3)}, 99, ms(3)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, percentile(tt.sorted, tt.p))
		})
	}
}

func TestTokenRefNo(t *testing.T) {
	for _, tt := range []struct {
		body string
		want string
		ok   bool
	}{
		{`{"ReturnCode":1,"ReturnMessage":"Token Generated successfully","TokenRefNo":"17954165980280173354","TokenNo":"x.y.z"}`, "17954165980280173354", true},
		{`{"ReturnCode":0,"ErrorCode":"token_expired"}`, "", false},
		{`{"TokenRefNo":""}`, "", false},
		{`{"TokenRefNo":"123`, "", false},
	} {
		ref, ok := tokenRefNo([]byte(tt.body))
		assert.Equal(t, tt.ok, ok, tt.body)
		assert.Equal(t, tt.want, ref, tt.body)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, timeout, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 200000, cfg.Requests)
	assert.Equal(t, 64, cfg.Concurrency)
	assert.Equal(t, allTargets, cfg.Targets)
	assert.Equal(t, 15*time.Minute, timeout)
	assert.Equal(t, clientRaw, cfg.Client)
	assert.True(t, cfg.Pin)

	cfg, _, err = parseFlags([]string{"-n", "10", "-c", "2", "-warmup", "0", "-targets", "baseline, cache-on,baseline"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{targetBaseline, targetCacheOn}, cfg.Targets)

	cfg, _, err = parseFlags([]string{"-client", "net/http", "-pin=false"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, clientNetHTTP, cfg.Client)
	assert.False(t, cfg.Pin)

	for _, args := range [][]string{
		{"-n", "0"}, {"-n", "5000001"}, {"-c", "0"}, {"-warmup", "-1"}, {"-targets", "cache-off,nginx"},
		{"-timeout", "0s"}, {"extra"}, {"-nope"}, {"-client", "curl"},
	} {
		_, _, err := parseFlags(args, io.Discard)
		assert.Error(t, err, "%v", args)
	}
	_, _, err = parseFlags([]string{"-h"}, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
}
