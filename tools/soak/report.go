package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The thresholds of the memory checks: from the end of the warm-up to the
// end, both read with the clients idle, a Go process's RSS may grow by at
// most maxRSSGrowth times, and its goroutines by at most
// maxGoroutineGrowth.
const (
	maxRSSGrowth       = 1.5
	maxGoroutineGrowth = 5
)

// seconds is a duration that JSON writes as seconds.
type seconds time.Duration

func (s seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', 3, 64), nil
}

// report is what a run did and how it is judged.
type report struct {
	Pass      bool         `json:"pass"`
	Config    reportConfig `json:"config"`
	Platform  string       `json:"platform"`
	Schedule  reportTimes  `json:"schedule"`
	Elapsed   seconds      `json:"elapsedSeconds"`
	Requests  int          `json:"requests"`
	Malformed int          `json:"malformedRequests"`
	RPS       float64      `json:"requestsPerSecond"`

	Classes      []classReport      `json:"classes"`
	Windows      []windowReport     `json:"windows"`
	Processes    []processReport    `json:"processes"`
	Ledger       ledgerSummary      `json:"ledger"`
	Credentials  credReport         `json:"credentials"`
	Panics       map[string]int     `json:"panics"`
	ServerCounts map[string]float64 `json:"serverCounts"`
	RedisKeys    int                `json:"redisKeys"`
	JWKSFetches  []fetchReport      `json:"jwksFetches"`
	FiveXX       int                `json:"fiveXXOutsideWindows"`
	Unexpected   int                `json:"unexpected"`
	Samples      []sample           `json:"unexpectedSamples,omitempty"`
	Checks       []checkResult      `json:"checks"`
	LogDir       string             `json:"logDir,omitempty"`

	ev       *events
	outcomes []outcome
	verdicts []verdict
	windows  []window
	errors   int // requests without an answer
}

type reportConfig struct {
	Duration seconds `json:"durationSeconds"`
	Workers  int     `json:"workers"`
	Rate     float64 `json:"rate"`
	Users    int     `json:"users"`
	LOBApps  int     `json:"lobapps"`
	Seed     int64   `json:"seed"`
	PerUser  float64 `json:"issuesPerUserPerMinute"`
}

// reportTimes are the fault events as they happened.
type reportTimes struct {
	WarmUp       seconds `json:"warmUp"`
	Publish      seconds `json:"publish"`
	Sign         seconds `json:"sign"`
	Drop         seconds `json:"drop"`
	RedisStop    seconds `json:"redisStop"`
	RedisExited  seconds `json:"redisExited"`
	RedisStarted seconds `json:"redisStarted"`
	RedisReady   seconds `json:"redisReady"`
	End          seconds `json:"end"`
}

// fetchReport is one JWKS fetch ssoserver made of the Cognito stand-in.
type fetchReport struct {
	At   seconds `json:"at"`
	Keys int     `json:"keys"`
}

type classReport struct {
	Name      string        `json:"name"`
	Target    string        `json:"target"`
	Malformed bool          `json:"malformed"`
	Total     int           `json:"total"`
	Answers   []answerCount `json:"answers"`
	P50       seconds       `json:"p50"`
	P99       seconds       `json:"p99"`
}

// answerCount counts one answer of a class.
type answerCount struct {
	Status   int    `json:"status"` // 0: no answer
	Code     string `json:"code,omitempty"`
	Count    int    `json:"count"`
	Expected int    `json:"expected"` // of Count, those expected
	InWindow int    `json:"inWindow"` // of Expected, those expected only in a fault's window
}

type windowReport struct {
	Name          string             `json:"name"`
	Start         seconds            `json:"start"`
	End           seconds            `json:"end"`
	Detail        string             `json:"detail"`
	Requests      int                `json:"requests"`
	FiveXX        int                `json:"fiveXX"`
	FiveXXByClass map[string]int     `json:"fiveXXByClass,omitempty"`
	FiveXXShared  int                `json:"fiveXXAlsoInAnotherFault"` // of FiveXX, those that also meet a window of another fault
	Allowed       map[string]int     `json:"allowedByClass,omitempty"` // answers expected only thanks to it, by "class status code"
	Recovery      map[string]seconds `json:"recovery,omitempty"`
}

type processReport struct {
	Name     string `json:"name"`
	PID      int    `json:"pid"`
	RSSStart int64  `json:"rssStart"`
	RSSEnd   int64  `json:"rssEnd"`
	GorStart int    `json:"goroutinesStart"`
	GorEnd   int    `json:"goroutinesEnd"`
	Go       bool   `json:"go"`
	Alive    bool   `json:"aliveAtEnd"`
	Exit     string `json:"exit"`
	Err      string `json:"readingError,omitempty"`
}

type credReport struct {
	Count  int            `json:"count"`
	ByKind map[string]int `json:"byKind"`
	Lines  int            `json:"linesScanned"`
	Leaked int            `json:"linesLeaking"`
	Leaks  []leak         `json:"leaks,omitempty"`
}

// sample is an unexpected outcome, for the report.
type sample struct {
	Class   string  `json:"class"`
	Target  string  `json:"target"`
	At      seconds `json:"at"`
	Status  int     `json:"status"`
	Code    string  `json:"code,omitempty"`
	Problem string  `json:"problem,omitempty"`
}

func (s sample) String() string {
	return fmt.Sprintf("%s at %s %s: %s", s.Class, s.Target, secs(time.Duration(s.At)), answerText(s.Status, s.Code, s.Problem))
}

type checkResult struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// maxSamples bounds the unexpected outcomes a report lists.
const maxSamples = 20

// newReport judges the outcomes of a run against its fault windows.
func newReport(cfg config, seed int64, sched schedule, ev *events, outcomes []outcome, led ledgerSummary, creds *credentials) *report {
	r := &report{
		Config: reportConfig{Duration: seconds(cfg.Duration), Workers: cfg.Workers, Rate: cfg.Rate, Users: cfg.Users, LOBApps: cfg.LOBApps,
			Seed: seed, PerUser: userIssueRate(cfg)},
		Platform: fmt.Sprintf("%s %s/%s, %d CPUs", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU()),
		Schedule: reportTimes{WarmUp: seconds(sched.WarmUp), Publish: seconds(ev.Publish), Sign: seconds(ev.Sign), Drop: seconds(ev.Drop),
			RedisStop: seconds(ev.RedisStop), RedisExited: seconds(ev.RedisExited), RedisStarted: seconds(ev.RedisStarted),
			RedisReady: seconds(ev.RedisReady), End: seconds(ev.End)},
		Elapsed:  seconds(ev.End),
		Requests: len(outcomes),
		Ledger:   led,
		Credentials: credReport{
			Count: creds.total(), ByKind: creds.byKind(),
		},
		ev: ev, outcomes: outcomes, windows: windows(ev),
	}
	for _, f := range ev.Fetches {
		r.JWKSFetches = append(r.JWKSFetches, fetchReport{At: seconds(f.At), Keys: len(f.KIDs)})
	}
	if ev.End > 0 {
		r.RPS = float64(len(outcomes)) / ev.End.Seconds()
	}
	r.tally()
	return r
}

// tally judges every outcome and counts them by class, answer and window.
func (r *report) tally() {
	byClass := make([]map[answerCount]*answerCount, numClasses)
	totals := make([]int, numClasses)
	latency := make([][]time.Duration, numClasses)
	r.Windows = make([]windowReport, len(r.windows))
	for i, w := range r.windows {
		r.Windows[i] = windowReport{Name: w.Name, Start: seconds(w.Start), End: seconds(w.End), Detail: w.Detail,
			FiveXXByClass: map[string]int{}, Allowed: map[string]int{}}
	}
	r.verdicts = make([]verdict, len(r.outcomes))
	for i := range r.outcomes {
		o := &r.outcomes[i]
		c := &classes[o.Class]
		v := judge(c, o, r.windows)
		r.verdicts[i] = v
		if c.Malformed {
			r.Malformed++
		}
		if o.Status == 0 {
			r.errors++
		}
		key := answerCount{Status: o.Status, Code: o.Code}
		if o.Problem != "" && o.Status != 0 {
			key.Code = cmp.Or(o.Code, "wrong answer")
		}
		if byClass[o.Class] == nil {
			byClass[o.Class] = map[answerCount]*answerCount{}
		}
		a := byClass[o.Class][key]
		if a == nil {
			a = &answerCount{Status: key.Status, Code: key.Code}
			byClass[o.Class][key] = a
		}
		a.Count++
		totals[o.Class]++
		if o.Status != 0 {
			latency[o.Class] = append(latency[o.Class], o.End-o.Start)
		}
		if v.Expected {
			a.Expected++
		}
		if v.InWindow {
			a.InWindow++
			wr := &r.Windows[v.AllowedBy]
			wr.Allowed[fmt.Sprintf("%s %s", c.Name, want{o.Status, o.Code})]++
		}
		for _, wi := range v.Windows {
			r.Windows[wi].Requests++
			if o.Status >= 500 {
				r.Windows[wi].FiveXX++
				r.Windows[wi].FiveXXByClass[c.Name]++
				for _, wj := range v.Windows {
					if r.windows[wj].Fault != r.windows[wi].Fault {
						r.Windows[wi].FiveXXShared++
						break
					}
				}
			}
		}
		if o.Status >= 500 && len(v.Windows) == 0 {
			r.FiveXX++
		}
		if !v.Expected {
			r.Unexpected++
			if len(r.Samples) < maxSamples {
				r.Samples = append(r.Samples, sample{Class: c.Name, Target: o.Target, At: seconds(o.Start), Status: o.Status, Code: o.Code, Problem: o.Problem})
			}
		}
	}
	for id := range numClasses {
		if totals[id] == 0 {
			continue
		}
		c := classes[id]
		slices.Sort(latency[id])
		cr := classReport{Name: c.Name, Target: c.Target, Malformed: c.Malformed, Total: totals[id],
			P50: seconds(percentile(latency[id], 50)), P99: seconds(percentile(latency[id], 99))}
		for _, a := range byClass[id] {
			cr.Answers = append(cr.Answers, *a)
		}
		slices.SortFunc(cr.Answers, func(a, b answerCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Code, b.Code))
		})
		r.Classes = append(r.Classes, cr)
	}
	r.recovery()
}

// percentile is the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[max((len(sorted)*p+99)/100-1, 0)]
}

// recovery fills in the Redis window's recovery times: from Redis's
// first PONG after the restart to the end of the first 200 of each class
// that needs Redis, and the span of the 5xx the clients saw.
func (r *report) recovery() {
	for i, w := range r.windows {
		if w.Fault != faultRedis || !r.ev.RedisRestarted {
			continue
		}
		rec := map[string]seconds{}
		first5xx, last5xx := time.Duration(-1), time.Duration(-1)
		for _, o := range r.outcomes {
			switch {
			case o.Status >= 500 && w.overlaps(o.Start, o.End):
				if first5xx < 0 || o.Start < first5xx {
					first5xx = o.Start
				}
				last5xx = max(last5xx, o.End)
			case o.Status == 200 && o.Start >= r.ev.RedisReady:
				name := classes[o.Class].Name
				if o.Class != clsGenerate && o.Class != clsRedeem {
					continue
				}
				if d, seen := rec["first "+name+" 200"]; !seen || seconds(o.End-r.ev.RedisReady) < d {
					rec["first "+name+" 200"] = seconds(o.End - r.ev.RedisReady)
				}
			}
		}
		if first5xx >= 0 {
			rec["first 5xx after SIGTERM"] = seconds(first5xx - r.ev.RedisStop)
			rec["last 5xx after answering again"] = seconds(last5xx - r.ev.RedisReady)
		}
		r.Windows[i].Recovery = rec
	}
}

// addProcess adds a process's readings.
func (r *report) addProcess(name string, pid int, rd *reading, alive bool, exit string) {
	p := processReport{Name: name, PID: pid, Alive: alive, Exit: exit, Go: name != "redis-server"}
	if rd != nil {
		p.RSSStart, p.RSSEnd, p.GorStart, p.GorEnd, p.Err = rd.RSSStart, rd.RSSEnd, rd.GorStart, rd.GorEnd, rd.Err
	}
	r.Processes = append(r.Processes, p)
}

// scanLog scans the log of process at path for credentials.
func (r *report) scanLog(creds *credentials, process, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	lines, leaks, leaked, err := creds.scan(process, f)
	if err != nil {
		return fmt.Errorf("scanning %s's log: %w", process, err)
	}
	r.Credentials.Lines += lines
	r.Credentials.Leaked += leaked
	for _, l := range leaks {
		if len(r.Credentials.Leaks) < maxLeaks {
			r.Credentials.Leaks = append(r.Credentials.Leaks, l)
		}
	}
	return nil
}

// judge runs the checks; the report passes when every one does.
func (r *report) judge() {
	add := func(pass bool, name, format string, a ...any) {
		r.Checks = append(r.Checks, checkResult{Name: name, Pass: pass, Detail: fmt.Sprintf(format, a...)})
	}
	count := func(ok func(o *outcome) bool) int {
		n := 0
		for i := range r.outcomes {
			if ok(&r.outcomes[i]) {
				n++
			}
		}
		return n
	}
	ev := r.ev

	add(r.Ledger.AcceptedTwice == 0, "single use", "no TokenNo accepted twice: %d acceptances of %d TokenNo issued, %d TokenNo accepted more than once, over %d lobapps and the Redis restart",
		r.Ledger.Accepted, r.Ledger.Issued, r.Ledger.AcceptedTwice, r.Config.LOBApps)
	add(r.Ledger.DupRefNos == 0, "TokenRefNo unique", "no TokenRefNo issued twice (%d repeated)", r.Ledger.DupRefNos)
	add(r.FiveXX == 0, "no 5xx outside the fault windows", "%d 5xx outside the windows (each with its grace: Redis %s after it answers again, rotation %s after the fetch)",
		r.FiveXX, secs(recoveryGrace), secs(rotationGrace))
	add(r.Unexpected == 0, "expected answers", "%d of %d answers not expected for their class (%d without an answer)", r.Unexpected, r.Requests, r.errors)

	// Redis: fails closed while down, recovers after.
	if ev.RedisStop > 0 {
		openWhileDown := count(func(o *outcome) bool {
			return o.Status == 200 && o.Start >= ev.RedisExited && o.End <= ev.RedisStarted &&
				(o.Class == clsGenerate || o.Class == clsGenerateLOB01 || o.Class == clsRedeem || o.Class == clsRetryAfter || o.Class == clsGenDroppedKey)
		})
		closed := count(func(o *outcome) bool {
			return o.Status >= 500 && o.Start >= ev.RedisStop && (!ev.RedisRestarted || o.End <= ev.RedisReady+recoveryGrace)
		})
		add(openWhileDown == 0, "fails closed while Redis is down", "%d issues or redemptions answered 200 while Redis was down (%s to %s); %d answered 502/504",
			openWhileDown, secs(ev.RedisExited), secs(ev.RedisStarted), closed)
		var gen, red bool
		for _, o := range r.outcomes {
			if o.Status == 200 && ev.RedisRestarted && o.Start >= ev.RedisReady {
				gen = gen || o.Class == clsGenerate
				red = red || o.Class == clsRedeem
			}
		}
		add(ev.RedisRestarted && gen && red, "recovers from the Redis restart", "Redis answered again: %t; a 200 since for GenerateSSOToken: %t, for a redemption: %t",
			ev.RedisRestarted, gen, red)
		refused := count(func(o *outcome) bool {
			return o.Class == clsReplayAfter && o.Status == 401 && o.Code == "token_replayed"
		})
		sent := count(func(o *outcome) bool { return o.Class == clsReplayAfter })
		add(refused > 0 && refused == sent, "the restart forgets no redeemed TokenNo", "%d of %d TokenNo accepted before the restart refused token_replayed after it",
			refused, sent)
	}

	// Rotation: the new key in use within a refetch interval, no 5xx.
	if ev.Sign > 0 {
		at, ok := ev.firstFetch(ev.Publish, func(kids []string) bool { return slices.Contains(kids, ev.NewKID) })
		// A 5xx of the rotation: in its windows and not in the outage's,
		// which may overlap the drop's (open until ssoserver's next fetch).
		in := 0
		for i, v := range r.verdicts {
			rotation, outage := false, false
			for _, wi := range v.Windows {
				rotation = rotation || r.windows[wi].Fault == faultRotation || r.windows[wi].Fault == faultDrop
				outage = outage || r.windows[wi].Fault == faultRedis
			}
			if rotation && !outage && r.outcomes[i].Status >= 500 {
				in++
			}
		}
		unknown := count(func(o *outcome) bool {
			return (o.Class == clsGenerate || o.Class == clsGenerateLOB01) && o.Code == "unknown_key"
		})
		detail := fmt.Sprintf("%d 5xx in the rotation's windows outside the outage's; %d valid tokens refused unknown_key; ", in, unknown)
		switch {
		case !ok:
			detail += "ssoserver never fetched the new key"
		case at <= ev.Sign:
			detail += fmt.Sprintf("ssoserver fetched the new key at %s, %s before its first token", secs(at), secs(ev.Sign-at))
		default:
			detail += fmt.Sprintf("ssoserver fetched the new key %s after its first token (at most %s allowed)", secs(at-ev.Sign), secs(refetchInterval+rotationGrace))
		}
		add(in == 0 && ok && at <= ev.Sign+refetchInterval+rotationGrace, "key rotation", "%s", detail)
	}

	// Memory and goroutines.
	for _, p := range r.Processes {
		if !p.Go {
			continue
		}
		switch {
		case p.RSSStart == 0 || p.RSSEnd == 0:
			add(false, p.Name+" memory", "no RSS reading (%s)", cmp.Or(p.Err, "no /proc"))
		default:
			g := float64(p.RSSEnd) / float64(p.RSSStart)
			add(g <= maxRSSGrowth, p.Name+" memory", "RSS %s -> %s (%.2fx, at most %.1fx)", mib(p.RSSStart), mib(p.RSSEnd), g, maxRSSGrowth)
		}
		add(p.Err == "" && p.GorEnd <= p.GorStart+maxGoroutineGrowth, p.Name+" goroutines", "%d -> %d (at most +%d)%s",
			p.GorStart, p.GorEnd, maxGoroutineGrowth, errSuffix(p.Err))
	}

	c := r.Credentials
	add(c.Leaked == 0, "no credential in any output", "%d lines of %d leak one of the %d credentials and secrets of the run", c.Leaked, c.Lines, c.Count)

	var bad []string
	for _, p := range r.Processes {
		if !p.Alive || p.Exit != "ok" || r.Panics[p.Name] > 0 {
			bad = append(bad, fmt.Sprintf("%s (alive at the end: %t, stop: %s, panics: %d)", p.Name, p.Alive, p.Exit, r.Panics[p.Name]))
		}
	}
	add(len(bad) == 0, "processes healthy", "every process up to the end, stopped cleanly, no panic%s", listSuffix(bad))

	issued, okI := r.ServerCounts["ssoserver issued"]
	accepted, okA := r.ServerCounts["lobapps accepted"]
	switch {
	case r.errors > 0:
		add(true, "server counts agree", "not compared: %d requests got no answer, which the servers may have counted", r.errors)
	default:
		add(okI && okA && int(issued) == r.Ledger.Issued && int(accepted) == r.Ledger.Accepted, "server counts agree",
			"ssoserver issued %.0f, the clients received %d; the lobapps accepted %.0f, the clients saw %d", issued, r.Ledger.Issued, accepted, r.Ledger.Accepted)
	}

	r.Pass = true
	for _, ch := range r.Checks {
		r.Pass = r.Pass && ch.Pass
	}
}

func errSuffix(err string) string {
	if err == "" {
		return ""
	}
	return " (" + err + ")"
}

func listSuffix(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return ": " + strings.Join(items, "; ")
}

// writeJSON writes the report as JSON.
func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText writes the report for people.
func (r *report) writeText(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "soak: %s, %d workers, %g requests/s asked, %d users (%.1f TokenNo a minute each; ssoserver's limit is %d, burst %d), %d lobapps, seed %d; %s\n\n",
		secs(time.Duration(c.Duration)), c.Workers, c.Rate, c.Users, c.PerUser, issueRate, issueBurst, c.LOBApps, c.Seed, r.Platform)
	fmt.Fprintf(w, "%d requests in %s: %.1f/s; %d malformed or forged (%.1f%%)\n\n", r.Requests, secs(time.Duration(r.Elapsed)), r.RPS,
		r.Malformed, 100*float64(r.Malformed)/float64(max(r.Requests, 1)))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\ttarget\trequests\tp50\tp99\tanswers (* = expected only in a fault window, ! = unexpected)")
	for _, cr := range r.Classes {
		var parts []string
		for _, a := range cr.Answers {
			s := fmt.Sprintf("%s: %d", answerText(a.Status, a.Code, ""), a.Count)
			if a.InWindow > 0 {
				s += fmt.Sprintf(" (*%d)", a.InWindow)
			}
			if a.Expected < a.Count {
				s += fmt.Sprintf(" (!%d)", a.Count-a.Expected)
			}
			parts = append(parts, s)
		}
		name := cr.Name
		if cr.Malformed {
			name += " (bad input)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", name, cr.Target, cr.Total, ms(cr.P50), ms(cr.P99), strings.Join(parts, ", "))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nfault windows:")
	for _, wr := range r.Windows {
		fmt.Fprintf(w, "  %s [%s, %s]: %s\n", wr.Name, secs(time.Duration(wr.Start)), secs(time.Duration(wr.End)), wr.Detail)
		shared := ""
		if wr.FiveXXShared > 0 {
			shared = fmt.Sprintf(", %d of them also in another fault's window", wr.FiveXXShared)
		}
		fmt.Fprintf(w, "    %d requests met it; 5xx inside: %d%s%s\n", wr.Requests, wr.FiveXX, mapSuffix(wr.FiveXXByClass), shared)
		if len(wr.Allowed) > 0 {
			fmt.Fprintf(w, "    expected only in it:%s\n", mapSuffix(wr.Allowed))
		}
		if len(wr.Recovery) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(wr.Recovery)) {
				parts = append(parts, fmt.Sprintf("%s +%.3fs", k, time.Duration(wr.Recovery[k]).Seconds()))
			}
			fmt.Fprintf(w, "    recovery: %s\n", strings.Join(parts, ", "))
		}
	}

	var fetches []string
	for _, f := range r.JWKSFetches {
		fetches = append(fetches, fmt.Sprintf("%s (%d keys)", secs(time.Duration(f.At)), f.Keys))
	}
	fmt.Fprintf(w, "  ssoserver fetched the JWKS %d times, at %s (negative: before the workload)\n", len(fetches), strings.Join(fetches, ", "))

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "process\tRSS start\tRSS end\tratio\tgoroutines start\tgoroutines end\tstop\t")
	for _, p := range r.Processes {
		ratio, gs, ge := "n/a", "n/a", "n/a"
		if p.RSSStart > 0 && p.RSSEnd > 0 {
			ratio = fmt.Sprintf("%.2f", float64(p.RSSEnd)/float64(p.RSSStart))
		}
		if p.Go {
			gs, ge = strconv.Itoa(p.GorStart), strconv.Itoa(p.GorEnd)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Name, mib(p.RSSStart), mib(p.RSSEnd), ratio, gs, ge, p.Exit)
	}
	tw.Flush()
	fmt.Fprintf(w, "(redis-server: for information, the process restarted in between; %d keys at the end)\n", r.RedisKeys)
	fmt.Fprintf(w, "credentials: %d used or received%s, %d log lines scanned\n", r.Credentials.Count, mapSuffix(r.Credentials.ByKind), r.Credentials.Lines)
	for _, l := range r.Credentials.Leaks {
		fmt.Fprintf(w, "  LEAK %s\n", l)
	}
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  UNEXPECTED %s\n", s)
	}
	for _, a := range r.Ledger.Twice {
		fmt.Fprintf(w, "  ACCEPTED AGAIN by %s at %s\n", a.Target, secs(a.At))
	}
	if r.LogDir != "" {
		fmt.Fprintf(w, "logs kept in %s\n", r.LogDir)
	}

	fmt.Fprintln(w)
	for _, ch := range r.Checks {
		status := "PASS"
		if !ch.Pass {
			status = "FAIL"
		}
		fmt.Fprintf(w, "%s  %s: %s\n", status, ch.Name, ch.Detail)
	}
}

// answerText is an answer for people: "200", "401 token_replayed", "no
// answer: ...".
func answerText(status int, code, problem string) string {
	s := "no answer"
	if status != 0 {
		s = strconv.Itoa(status)
	}
	if code != "" {
		s += " " + code
	}
	if problem != "" {
		s += ": " + problem
	}
	return s
}

// mapSuffix is m as " (k n, k n)", sorted, or "" when empty.
func mapSuffix[V any](m map[string]V) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %v", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func ms(d seconds) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func mib(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
}
