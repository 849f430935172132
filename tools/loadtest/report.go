package main

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/ssokit/ssokit/tools/internal/proc"
)

// The criteria the load test is judged by.
const (
	maxRSSGrowth      = 1.2 // RSS after the run over RSS after warm-up
	minRatioCacheOff  = 1.0 // requests/s over the baseline's, cache off
	minRatioCacheOn   = 2.5 // the same, cache on (3.0 before every claim set passed the JSON policy)
	checkedTargetNote = "TokenRefNo is checked for ssoserver; the baseline signs a constant one, as in its benchmark"
)

// verdict is one criterion's outcome.
type verdict struct {
	status string // PASS, FAIL or SKIP
	text   string
}

// criteria judges the results against the load criteria.
func criteria(rs []result) []verdict {
	var out []verdict
	add := func(ok bool, format string, args ...any) {
		status := "PASS"
		if !ok {
			status = "FAIL"
		}
		out = append(out, verdict{status, fmt.Sprintf(format, args...)})
	}
	byTarget := map[string]result{}
	for _, r := range rs {
		byTarget[r.Target] = r
		name := targetTitle[r.Target]
		add(r.Errors == 0, "%s: zero errors (%d)", name, r.Errors)
		if r.Target == targetBaseline {
			continue // its memory and goroutines are for reference only
		}
		add(r.Duplicates == 0, "%s: zero duplicate TokenRefNo (%d)", name, r.Duplicates)
		if r.RSSWarm > 0 && r.RSSAfter > 0 {
			g := float64(r.RSSAfter) / float64(r.RSSWarm)
			add(g <= maxRSSGrowth, "%s: RSS after <= %.1fx RSS after warm-up (%.2fx)", name, maxRSSGrowth, g)
		} else {
			out = append(out, verdict{"SKIP", name + ": RSS growth (" + proc.ErrNoProcfs.Error() + ")"})
		}
		add(r.GorAfter <= r.GorWarm, "%s: goroutines back to their post-warm-up count once the clients stop (%d -> %d)", name, r.GorWarm, r.GorAfter)
	}
	base, ok := byTarget[targetBaseline]
	if !ok || base.RPS() == 0 {
		return out
	}
	for _, c := range []struct {
		target string
		min    float64
	}{{targetCacheOff, minRatioCacheOff}, {targetCacheOn, minRatioCacheOn}} {
		r, ok := byTarget[c.target]
		if !ok {
			continue
		}
		ratio := r.RPS() / base.RPS()
		// With CPUs of their own, clients near the limit of theirs set
		// the pace, not the server. For the baseline that would flatter
		// the ratio: such a pass is not counted.
		if base.ServerCPUs > 0 && base.clientUse() >= clientLimit && ratio >= c.min {
			add(false, "%s: requests/s >= %.1fx the baseline's (%.2fx, inconclusive: the baseline's clients used %.0f%% of their CPUs)",
				targetTitle[c.target], c.min, ratio, 100*base.clientUse())
			continue
		}
		add(ratio >= c.min, "%s: requests/s >= %.1fx the baseline's (%.2fx)", targetTitle[c.target], c.min, ratio)
	}
	return out
}

// clientLimit is the share of their own CPUs above which the clients, not
// the server, are taken to set a target's pace.
const clientLimit = 0.9

// report writes the results and the criteria to w and reports whether
// every criterion passed.
func report(w io.Writer, cfg config, rs []result) bool {
	placement := cfg.Placement
	if placement == "" {
		placement = sharedPlacement()
	}
	client := cfg.Client
	if client == "" {
		client = clientRaw
	}
	fmt.Fprintf(w, "loadtest: %d requests per target after %d warm-up, %d concurrent %s clients over 127.0.0.1; %s %s/%s, %s\n\n",
		cfg.Requests, cfg.Warmup, cfg.Concurrency, client, runtime.Version(), runtime.GOOS, runtime.GOARCH, placement)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\trequests\terrors\treq/s\tp50\tp99\tserver CPU/req\tclient CPU/req\tRSS warm\tRSS after\tratio\tgoroutines start/warm/after\tdup TokenRefNo\t")
	for _, r := range rs {
		dup := "n/a"
		if r.CheckRefNos {
			dup = fmt.Sprint(r.Duplicates)
		}
		ratio := "n/a"
		if r.RSSWarm > 0 && r.RSSAfter > 0 {
			ratio = fmt.Sprintf("%.2f", float64(r.RSSAfter)/float64(r.RSSWarm))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d/%d\t%s\t\n",
			targetTitle[r.Target], r.Requests, r.Errors, r.RPS(), ms(r.P50), ms(r.P99), perReq(r.ServerCPU, r.Requests), perReq(r.ClientCPU, r.Requests),
			mib(r.RSSWarm), mib(r.RSSAfter), ratio, r.GorStart, r.GorWarm, r.GorAfter, dup)
	}
	tw.Flush()
	for _, r := range rs {
		for _, e := range r.ErrSamples {
			fmt.Fprintf(w, "  %s error: %s\n", targetTitle[r.Target], e)
		}
	}
	fmt.Fprintf(w, "(%s)\n\n", checkedTargetNote)

	pass := true
	for _, v := range criteria(rs) {
		fmt.Fprintf(w, "%s  %s\n", v.status, v.text)
		pass = pass && v.status != "FAIL"
	}
	cpuRatios(w, rs)
	cpuUse(w, rs)
	return pass
}

// cpuUse writes, for information, how busy the clients' and the
// servers' CPUs were for each target, and warns where the clients were
// near the limit of theirs: that target's requests/s are then the
// clients' pace, a floor of the server's.
func cpuUse(w io.Writer, rs []result) {
	for _, r := range rs {
		name := targetTitle[r.Target]
		switch {
		case r.ServerCPUs > 0:
			fmt.Fprintf(w, "INFO  %s: server CPU %.0f%% busy, client CPU %.0f%%\n", name, 100*r.serverUse(), 100*r.clientUse())
			if r.clientUse() >= clientLimit {
				fmt.Fprintf(w, "WARN  %s: the clients used %.0f%% of their CPUs; its requests/s may be theirs, not the server's\n", name, 100*r.clientUse())
			}
		case r.ClientCPUs > 0:
			fmt.Fprintf(w, "INFO  %s: clients and server together used %.0f%% of the CPUs\n", name,
				100*float64(r.ClientCPU+r.ServerCPU)/(float64(r.Elapsed)*float64(r.ClientCPUs)))
		}
	}
}

// cpuRatios writes, for information, the baseline's server CPU time per
// request over each ssoserver target's: the server's own efficiency, which
// the clients' share of the CPU does not blur.
func cpuRatios(w io.Writer, rs []result) {
	var base result
	for _, r := range rs {
		if r.Target == targetBaseline {
			base = r
		}
	}
	if base.ServerCPU <= 0 {
		return
	}
	for _, r := range rs {
		if r.Target != targetBaseline && r.ServerCPU > 0 {
			fmt.Fprintf(w, "INFO  %s: server CPU per request %.2fx less than the baseline's\n", targetTitle[r.Target],
				(float64(base.ServerCPU)/float64(base.Requests))/(float64(r.ServerCPU)/float64(r.Requests)))
		}
	}
}

// perReq is d per request in microseconds.
func perReq(d time.Duration, n int) string {
	if d <= 0 || n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fµs", float64(d)/float64(n)/float64(time.Microsecond))
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

func mib(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
}
