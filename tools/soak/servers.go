package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/tools/internal/proc"
)

// goServer is a started ssoserver or lobapp.
type goServer struct {
	*proc.Process
	base       string // http://127.0.0.1:PORT
	metricsURL string // its GET /metrics
	debugURL   string // ssoserver's GET /debug/runtime
}

// panicCounter counts, per process, the lines of its output that say it
// crashed or raced: a Go panic or fatal error, a data race report, a Redis
// crash report.
type panicCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// panicPrefixes start a Go crash's first line; panicMarks are found
// anywhere in a line.
var (
	panicPrefixes = [][]byte{[]byte("panic: "), []byte("fatal error: ")}
	panicMarks    = [][]byte{[]byte("WARNING: DATA RACE"), []byte("REDIS BUG REPORT")}
)

func (p *panicCounter) check(name string, line []byte) {
	hit := false
	for _, m := range panicPrefixes {
		hit = hit || bytes.HasPrefix(line, m)
	}
	for _, m := range panicMarks {
		hit = hit || bytes.Contains(line, m)
	}
	if !hit {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = map[string]int{}
	}
	p.n[name]++
}

func (p *panicCounter) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.n {
		out[k] = v
	}
	return out
}

// serverStartTimeout bounds a server's start, until /readyz answers 200.
const serverStartTimeout = 60 * time.Second

// startServer starts bin as name with args and env, its output in log,
// and waits until parse has found, in its output lines, what ready asks
// for, then until its GET /readyz answers 200 (ssoserver: the JWKS
// fetched; lobapp: Redis answering).
func startServer(ctx context.Context, name, bin string, args, env []string, log io.Writer, panics *panicCounter,
	parse func(s *goServer, line []byte), ready func(s *goServer) bool) (*goServer, error) {
	s := &goServer{}
	readyc := make(chan struct{})
	var once sync.Once
	p, err := proc.Start(proc.Config{
		Name: name, Path: bin, Args: args, Env: env, Log: log,
		OnLine: func(_ proc.Stream, line []byte) {
			panics.check(name, line)
			if !ready(s) {
				parse(s, line)
				if ready(s) {
					once.Do(func() { close(readyc) })
				}
			}
		},
	})
	if err != nil {
		return nil, err
	}
	s.Process = p
	if err := p.Await(ctx, readyc, serverStartTimeout); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	if err := s.awaitReadyz(ctx); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return s, nil
}

// awaitReadyz polls GET /readyz until it answers 200.
func (s *goServer) awaitReadyz(ctx context.Context) error {
	deadline := time.Now().Add(serverStartTimeout)
	var last string
	for {
		status, body, err := get(ctx, s.base+"/readyz")
		if err == nil && status == http.StatusOK {
			return nil
		}
		last = fmt.Sprintf("status %d %q", status, strings.TrimSpace(string(body)))
		if err != nil {
			last = err.Error()
		}
		if time.Now().After(deadline) || s.Exited() {
			return fmt.Errorf("%s: /readyz not 200 within %s (last: %s): %s", s.Name(), serverStartTimeout, last, s.LastLines())
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(50 * time.Millisecond): // polling another process
		}
	}
}

// startSSOServer starts ssoserver; its JSON log names its listeners.
func startSSOServer(ctx context.Context, bin string, args, env []string, log io.Writer, panics *panicCounter) (*goServer, error) {
	parse := func(s *goServer, line []byte) {
		if !bytes.HasPrefix(line, []byte("{")) {
			return
		}
		var rec struct{ Msg, Addr, URL string }
		if json.Unmarshal(line, &rec) != nil {
			return
		}
		switch rec.Msg {
		case "listening":
			s.base = "http://" + rec.Addr
		case "debug endpoint":
			s.debugURL = rec.URL
		case "metrics endpoint":
			s.metricsURL = rec.URL
		}
	}
	ready := func(s *goServer) bool { return s.base != "" && s.debugURL != "" && s.metricsURL != "" }
	return startServer(ctx, targetSSO, bin, args, env, log, panics, parse, ready)
}

var (
	lobListeningRE = regexp.MustCompile(`lobapp listening url=(http://\S+)`)
	lobMetricsRE   = regexp.MustCompile(`lobapp metrics endpoint addr=\S+ url=(http://\S+)`)
)

// startLOBApp starts lobapp as name; its text log names its listeners.
func startLOBApp(ctx context.Context, name, bin string, args, env []string, log io.Writer, panics *panicCounter) (*goServer, error) {
	parse := func(s *goServer, line []byte) {
		if m := lobListeningRE.FindSubmatch(line); m != nil {
			s.base = string(m[1])
		} else if m := lobMetricsRE.FindSubmatch(line); m != nil {
			s.metricsURL = string(m[1])
		}
	}
	ready := func(s *goServer) bool { return s.base != "" && s.metricsURL != "" }
	return startServer(ctx, name, bin, args, env, log, panics, parse, ready)
}

// probeClient reads probes, debug endpoints and metrics. Without
// keep-alive, every reading of the goroutines counts the same ones: the
// server's idle ones plus the one serving it.
var probeClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// get fetches url with probeClient: its status and (at most 4 MiB of) body.
func get(ctx context.Context, url string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	res, err := probeClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return res.StatusCode, b, err
}

// goroutines reads the server's goroutine count: ssoserver's debug
// endpoint, lobapp's go_goroutines.
func (s *goServer) goroutines(ctx context.Context) (int, error) {
	if s.debugURL != "" {
		status, b, err := get(ctx, s.debugURL)
		if err != nil {
			return 0, err
		}
		var v struct {
			Goroutines *int `json:"goroutines"`
		}
		if err := json.Unmarshal(b, &v); err != nil || status != http.StatusOK || v.Goroutines == nil {
			return 0, fmt.Errorf("%s: debug endpoint answered %d, %v", s.Name(), status, err)
		}
		return *v.Goroutines, nil
	}
	m, err := s.metrics(ctx)
	if err != nil {
		return 0, err
	}
	n, ok := m.sum("go_goroutines", nil)
	if !ok {
		return 0, fmt.Errorf("%s: no go_goroutines in its metrics", s.Name())
	}
	return int(n), nil
}

// settle reads the goroutine count every 50 ms until it is at most want
// (want < 0: until two readings agree), for at most settleTimeout, and
// returns the last reading.
func (s *goServer) settle(ctx context.Context, want int) (int, error) {
	deadline := time.Now().Add(settleTimeout)
	prev := -1
	for {
		n, err := s.goroutines(ctx)
		if err != nil || (want >= 0 && n <= want) || (want < 0 && n == prev) || time.Now().After(deadline) {
			return n, err
		}
		prev = n
		select {
		case <-ctx.Done():
			return n, context.Cause(ctx)
		case <-time.After(50 * time.Millisecond): // polling another process
		}
	}
}

const settleTimeout = 5 * time.Second

// metrics reads the server's Prometheus metrics.
func (s *goServer) metrics(ctx context.Context) (promText, error) {
	status, b, err := get(ctx, s.metricsURL)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s: metrics answered %d", s.Name(), status)
	}
	return parseProm(b), nil
}

// promText is a Prometheus text exposition: its samples.
type promText []promSample

type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseProm reads the samples of a Prometheus text exposition, skipping
// comments and anything it cannot read.
func parseProm(b []byte) promText {
	var out promText
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s := promSample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
			s.name = line[:i]
			j := strings.LastIndex(line, "}")
			if j < i {
				continue
			}
			for pair := range strings.SplitSeq(line[i+1:j], ",") {
				k, v, ok := strings.Cut(pair, "=")
				if ok {
					if u, err := strconv.Unquote(strings.TrimSpace(v)); err == nil {
						s.labels[strings.TrimSpace(k)] = u
					}
				}
			}
			rest = line[j+1:]
		} else if i >= 0 {
			s.name, rest = line[:i], line[i:]
		} else {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// sum adds the values of the samples named name whose labels include
// labels, and reports whether there was one.
func (p promText) sum(name string, labels map[string]string) (float64, bool) {
	var total float64
	found := false
	for _, s := range p {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range labels {
			if s.labels[k] != v {
				match = false
				break
			}
		}
		if match {
			total += s.value
			found = true
		}
	}
	return total, found
}
