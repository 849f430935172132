package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The targets, in the order they are driven.
const (
	targetCacheOff = "cache-off" // examples/ssoserver -cognito-cache=false
	targetCacheOn  = "cache-on"  // examples/ssoserver, verified-token cache on (its default)
	targetBaseline = "baseline"  // examples/loadtest/baseline: golang-jwt + keyfunc
)

var allTargets = []string{targetCacheOff, targetCacheOn, targetBaseline}

// targetTitle is a target's name in the report.
var targetTitle = map[string]string{
	targetCacheOff: "ssoserver, cache off",
	targetCacheOn:  "ssoserver, cache on",
	targetBaseline: "baseline golang-jwt+keyfunc",
}

// config is one run of the load tool.
type config struct {
	Requests    int           // measured requests per target
	Concurrency int           // concurrent clients
	Warmup      int           // requests per target before the first measurement
	Targets     []string      // a subset of allTargets
	SSOServer   string        // path of the ssoserver binary
	Baseline    string        // path of the baseline binary
	ReqTimeout  time.Duration // bound of one request
	Progress    io.Writer     // progress lines; nil discards them
}

// result is what one target did.
type result struct {
	Target      string
	Requests    int           // measured requests sent
	Errors      int           // transport errors, non-200 answers and answers without TokenRefNo, warm-up included
	ErrSamples  []string      // a few distinct error texts
	Elapsed     time.Duration // wall time of the measured requests
	P50, P99    time.Duration
	RSSWarm     int64         // bytes after warm-up, 0 when unknown
	RSSAfter    int64         // bytes once the measured clients stopped
	GorStart    int           // goroutines of the fresh server
	GorWarm     int           // after warm-up, clients stopped and their connections closed
	GorAfter    int           // the same after the measured requests
	ServerCPU   time.Duration // CPU time of the server during the measured requests, 0 when unknown
	ClientCPU   time.Duration // CPU time of this tool (the clients) during them
	CheckRefNos bool          // whether TokenRefNo uniqueness is checked (ssoserver)
	Duplicates  int           // TokenRefNo seen more than once, warm-up included
}

// RPS is the measured requests per second.
func (r result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// The request of the GenerateSSOToken document.
const (
	lobClientID = "1RrLMyLrZGA="
	requestBody = `{"CIINo":"10001004","LOBId":"01","Functionality":"D"}`
)

// run starts the servers cfg.Targets need, drives each in turn and stops
// them. Every server is stopped before run returns, on error too.
func run(ctx context.Context, cfg config) ([]result, error) {
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	want := func(t string) bool { return slices.Contains(cfg.Targets, t) }
	servers := map[string]*server{}
	defer func() {
		var wg sync.WaitGroup
		for _, s := range servers {
			wg.Go(s.stop)
		}
		wg.Wait()
	}()
	// No per-call audit record: the baseline logs nothing either.
	ssoArgs := []string{"-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0", "-log-format", "json", "-audit=false"}
	// The cache-off server also stands in for Cognito for the baseline:
	// its dev JWKS, issuer and access token.
	if want(targetCacheOff) || want(targetBaseline) {
		fmt.Fprintln(progress, "starting ssoserver -cognito-cache=false")
		s, err := startServer(ctx, targetTitle[targetCacheOff], cfg.SSOServer, true, append(ssoArgs, "-cognito-cache=false")...)
		if err != nil {
			return nil, err
		}
		servers[targetCacheOff] = s
	}
	if want(targetCacheOn) {
		fmt.Fprintln(progress, "starting ssoserver")
		s, err := startServer(ctx, targetTitle[targetCacheOn], cfg.SSOServer, true, ssoArgs...)
		if err != nil {
			return nil, err
		}
		servers[targetCacheOn] = s
	}
	if want(targetBaseline) {
		fmt.Fprintln(progress, "starting baseline")
		cognito := servers[targetCacheOff]
		s, err := startServer(ctx, targetTitle[targetBaseline], cfg.Baseline, false,
			"-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0",
			"-issuer", cognito.base+"/dev/cognito", "-jwks-url", cognito.base+"/dev/cognito/.well-known/jwks.json")
		if err != nil {
			return nil, err
		}
		s.token = cognito.token
		servers[targetBaseline] = s
	}

	var results []result
	for _, t := range allTargets {
		if !want(t) {
			continue
		}
		fmt.Fprintf(progress, "driving %s: %d warm-up + %d requests, concurrency %d\n", targetTitle[t], cfg.Warmup, cfg.Requests, cfg.Concurrency)
		r, err := measure(ctx, cfg, t, servers[t])
		if err != nil {
			return results, fmt.Errorf("%s: %w", targetTitle[t], err)
		}
		results = append(results, r)
	}
	return results, nil
}

// measure drives one server: warm-up, a reading, the measured requests,
// another reading once the clients have stopped.
func measure(ctx context.Context, cfg config, target string, s *server) (result, error) {
	r := result{Target: target, Requests: cfg.Requests, CheckRefNos: target != targetBaseline}
	var err error
	if r.GorStart, err = s.goroutines(ctx); err != nil {
		return r, err
	}
	tr := newTransport(cfg.Concurrency)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: cfg.ReqTimeout}
	endpoint := s.base + "/v2/get_sso_token"

	var warmRefs []string
	if cfg.Warmup > 0 {
		w := drive(ctx, client, endpoint, s.token, cfg.Warmup, cfg.Concurrency)
		r.addErrors(w)
		warmRefs = w.refs
	}
	if ctx.Err() != nil {
		return r, context.Cause(ctx)
	}
	tr.CloseIdleConnections()
	if r.GorWarm, err = s.settle(ctx, r.GorStart); err != nil {
		return r, err
	}
	r.RSSWarm, _ = s.rss()

	s0, _ := cpuTime(s.cmd.Process.Pid)
	c0, _ := cpuTime(os.Getpid())
	p := drive(ctx, client, endpoint, s.token, cfg.Requests, cfg.Concurrency)
	if s1, err := cpuTime(s.cmd.Process.Pid); err == nil {
		r.ServerCPU = s1 - s0
	}
	if c1, err := cpuTime(os.Getpid()); err == nil {
		r.ClientCPU = c1 - c0
	}
	r.addErrors(p)
	r.Elapsed = p.elapsed
	if ctx.Err() != nil {
		return r, context.Cause(ctx)
	}
	tr.CloseIdleConnections()
	if r.GorAfter, err = s.settle(ctx, r.GorWarm); err != nil {
		return r, err
	}
	r.RSSAfter, _ = s.rss()
	if s.exited() {
		return r, fmt.Errorf("exited under load: %s", s.lastLines())
	}

	slices.Sort(p.latency)
	r.P50, r.P99 = percentile(p.latency, 50), percentile(p.latency, 99)
	if r.CheckRefNos {
		seen := make(map[string]struct{}, len(warmRefs)+len(p.refs))
		for _, ref := range slices.Concat(warmRefs, p.refs) {
			if ref == "" {
				continue // an error, counted already
			}
			if _, dup := seen[ref]; dup {
				r.Duplicates++
			}
			seen[ref] = struct{}{}
		}
	}
	return r, ctx.Err()
}

func (r *result) addErrors(p phase) {
	r.Errors += p.errors
	for _, e := range p.samples {
		if len(r.ErrSamples) < maxSamples && !slices.Contains(r.ErrSamples, e) {
			r.ErrSamples = append(r.ErrSamples, e)
		}
	}
}

const maxSamples = 5

// percentile is the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)]
}

// newTransport is a keep-alive transport for c clients on loopback.
func newTransport(c int) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          c,
		MaxIdleConnsPerHost:   c,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		DisableCompression:    true,
	}
}

// phase is what n requests did.
type phase struct {
	elapsed time.Duration
	latency []time.Duration // per request, in the order they were taken
	refs    []string        // TokenRefNo per request, "" on error
	errors  int
	samples []string
}

var refKey = []byte(`"TokenRefNo":"`)

// drive sends n requests from c goroutines, each a GenerateSSOToken call
// as the document shows it, and waits for all of them.
func drive(ctx context.Context, client *http.Client, target, token string, n, c int) phase {
	p := phase{latency: make([]time.Duration, n), refs: make([]string, n)}
	header := http.Header{
		"X-Api-Version":   {"1.0.0"},
		"X-Lob-Client-Id": {lobClientID},
		"Content-Type":    {"application/json"},
		"Authorization":   {"Bearer " + token},
	}
	body := []byte(requestBody)
	var (
		next   atomic.Int64
		errs   atomic.Int64
		mu     sync.Mutex
		wg     sync.WaitGroup
		failed = func(msg string) {
			errs.Add(1)
			mu.Lock()
			if len(p.samples) < maxSamples && !slices.Contains(p.samples, msg) {
				p.samples = append(p.samples, msg)
			}
			mu.Unlock()
		}
	)
	start := time.Now()
	for range min(c, n) {
		wg.Go(func() {
			var buf bytes.Buffer
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
				if err != nil {
					failed(err.Error())
					continue
				}
				req.Header = header.Clone()
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					p.latency[i] = time.Since(t0)
					failed(errorText(err))
					continue
				}
				buf.Reset()
				_, err = buf.ReadFrom(io.LimitReader(res.Body, 64<<10))
				res.Body.Close()
				p.latency[i] = time.Since(t0)
				switch b := buf.Bytes(); {
				case err != nil:
					failed("reading the answer: " + errorText(err))
				case res.StatusCode != http.StatusOK:
					failed(fmt.Sprintf("status %d: %.200s", res.StatusCode, b))
				default:
					ref, ok := tokenRefNo(b)
					if !ok {
						failed(fmt.Sprintf("no TokenRefNo in %.200s", b))
						continue
					}
					p.refs[i] = ref
				}
			}
		})
	}
	wg.Wait()
	p.elapsed = time.Since(start)
	p.errors = int(errs.Load())
	return p
}

// tokenRefNo finds "TokenRefNo":"..." in an answer without decoding it all:
// the client shares the CPU with the server, so it does little work.
func tokenRefNo(b []byte) (string, bool) {
	_, rest, ok := bytes.Cut(b, refKey)
	if !ok {
		return "", false
	}
	ref, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok || len(ref) == 0 {
		return "", false
	}
	return string(ref), true
}

// errorText is err without the URL, which is the same for every request.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
