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

	"github.com/ssokit/ssokit/tools/internal/proc"
)

// The targets, in the order they are driven.
const (
	targetCacheOff = "cache-off" // examples/ssoserver -cognito-cache=false
	targetCacheOn  = "cache-on"  // examples/ssoserver, verified-token cache on (its default)
	targetBaseline = "baseline"  // tools/loadtest/baseline: golang-jwt + keyfunc
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
	Client      string        // clientRaw (the default when empty) or clientNetHTTP
	Pin         bool          // put clients and servers on separate CPUs, where possible (see place)
	ServerCPUs  *cpuSet       // the servers' CPUs, set by place; nil: the tool's own
	Placement   string        // how clients and servers share the CPUs, set by place
	ClientCPUs  int           // CPUs the clients run on, set by place (with ServerCPUs, their own)
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
	Log         string        // the server's log (stderr) once the run is over, the first 1 MiB
	ClientCPUs  int           // CPUs the clients had, 0 when unknown
	ServerCPUs  int           // CPUs the server had to itself, 0 when it shared the clients'
}

// clientUse is the share of their CPUs the clients used during the
// measured requests, 0 when unknown.
func (r result) clientUse() float64 {
	if r.ClientCPUs <= 0 || r.Elapsed <= 0 {
		return 0
	}
	return float64(r.ClientCPU) / (float64(r.Elapsed) * float64(r.ClientCPUs))
}

// serverUse is the same for the server, when it had CPUs of its own.
func (r result) serverUse() float64 {
	if r.ServerCPUs <= 0 || r.Elapsed <= 0 {
		return 0
	}
	return float64(r.ServerCPU) / (float64(r.Elapsed) * float64(r.ServerCPUs))
}

// RPS is the measured requests per second.
func (r result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// The request of the GenerateSSOToken document, with the CIINo of dev
// mode's token (the body's CIINo must be the caller's).
const (
	lobClientID = "1RrLMyLrZGA="
	requestBody = `{"CIINo":"10001XXX","LOBId":"01","Functionality":"D"}`
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
	// No per-call audit record: the baseline logs nothing either. No
	// per-caller issuing limit: every request is one user's.
	ssoArgs := []string{"-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0", "-log-format", "json", "-audit=false", "-insecure-no-issue-limit"}
	// The cache-off server also stands in for Cognito for the baseline:
	// its dev JWKS, issuer and access token.
	if want(targetCacheOff) || want(targetBaseline) {
		fmt.Fprintln(progress, "starting ssoserver -cognito-cache=false")
		s, err := startServer(ctx, targetTitle[targetCacheOff], cfg.SSOServer, true, cfg.ServerCPUs, append(ssoArgs, "-cognito-cache=false")...)
		if err != nil {
			return nil, err
		}
		servers[targetCacheOff] = s
	}
	if want(targetCacheOn) {
		fmt.Fprintln(progress, "starting ssoserver")
		s, err := startServer(ctx, targetTitle[targetCacheOn], cfg.SSOServer, true, cfg.ServerCPUs, ssoArgs...)
		if err != nil {
			return nil, err
		}
		servers[targetCacheOn] = s
	}
	if want(targetBaseline) {
		fmt.Fprintln(progress, "starting baseline")
		cognito := servers[targetCacheOff]
		s, err := startServer(ctx, targetTitle[targetBaseline], cfg.Baseline, false, cfg.ServerCPUs,
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
	r := result{Target: target, Requests: cfg.Requests, CheckRefNos: target != targetBaseline, ClientCPUs: cfg.ClientCPUs}
	if cfg.ServerCPUs != nil {
		r.ServerCPUs = len(cfg.ServerCPUs.cpus())
	}
	var err error
	if r.GorStart, err = s.goroutines(ctx); err != nil {
		return r, err
	}
	clients, err := newClients(cfg, s)
	if err != nil {
		return r, err
	}
	defer clients.closeIdle()

	var warmRefs []string
	if cfg.Warmup > 0 {
		w := drive(ctx, clients, cfg.Warmup, cfg.Concurrency)
		r.addErrors(w)
		warmRefs = w.refs
	}
	if ctx.Err() != nil {
		return r, context.Cause(ctx)
	}
	clients.closeIdle()
	if r.GorWarm, err = s.settle(ctx, r.GorStart); err != nil {
		return r, err
	}
	r.RSSWarm, _ = s.rss()

	s0, _ := s.CPUTime()
	c0, _ := proc.CPUTime(os.Getpid())
	p := drive(ctx, clients, cfg.Requests, cfg.Concurrency)
	if s1, err := s.CPUTime(); err == nil {
		r.ServerCPU = s1 - s0
	}
	if c1, err := proc.CPUTime(os.Getpid()); err == nil {
		r.ClientCPU = c1 - c0
	}
	r.addErrors(p)
	r.Elapsed = p.elapsed
	if ctx.Err() != nil {
		return r, context.Cause(ctx)
	}
	clients.closeIdle()
	if r.GorAfter, err = s.settle(ctx, r.GorWarm); err != nil {
		return r, err
	}
	r.RSSAfter, _ = s.rss()
	r.Log = s.logText()
	if s.Exited() {
		return r, fmt.Errorf("exited under load: %s", s.LastLines())
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

// The clients' HTTP implementations (-client).
const (
	clientRaw     = "raw"      // rawConn: one connection per client, fixed request bytes
	clientNetHTTP = "net/http" // one http.Client with a keep-alive Transport
)

var allClients = []string{clientRaw, clientNetHTTP}

// doer is one client: it sends the document's call and returns the
// answer's status and body, valid until its next call.
type doer interface {
	do(ctx context.Context) (status int, body []byte, err error)
	close()
}

// clients makes the doers of one target.
type clients struct {
	new       func() doer
	closeIdle func() // closes the connections of finished doers
}

// newClients returns the clients cfg.Client names for server s.
func newClients(cfg config, s *server) (clients, error) {
	u, err := url.Parse(s.base)
	if err != nil {
		return clients{}, err
	}
	header := http.Header{
		"X-Api-Version":   {"1.0.0"},
		"X-Lob-Client-Id": {lobClientID},
		"Content-Type":    {"application/json"},
		"Authorization":   {"Bearer " + s.token},
	}
	body := []byte(requestBody)
	switch cfg.Client {
	case clientNetHTTP:
		tr := newTransport(cfg.Concurrency)
		hc := &http.Client{Transport: tr, Timeout: cfg.ReqTimeout}
		endpoint := s.base + endpointPath
		return clients{
			new: func() doer {
				return &netHTTPClient{client: hc, endpoint: endpoint, header: header, body: body}
			},
			closeIdle: tr.CloseIdleConnections,
		}, nil
	case clientRaw, "":
		request := rawRequest(u.Host, endpointPath, header, body)
		return clients{
			new:       func() doer { return newRawConn(u.Host, request, cfg.ReqTimeout) },
			closeIdle: func() {}, // each rawConn closes its own when its client stops
		}, nil
	}
	return clients{}, fmt.Errorf("unknown client %q", cfg.Client)
}

const endpointPath = "/v2/get_sso_token"

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

// netHTTPClient sends the call with net/http's client.
type netHTTPClient struct {
	client   *http.Client
	endpoint string
	header   http.Header
	body     []byte
	buf      bytes.Buffer
}

func (c *netHTTPClient) do(ctx context.Context) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(c.body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = c.header.Clone()
	res, err := c.client.Do(req)
	if err != nil {
		return 0, nil, errors.New(errorText(err))
	}
	defer res.Body.Close()
	c.buf.Reset()
	if _, err := c.buf.ReadFrom(io.LimitReader(res.Body, maxAnswerBody)); err != nil {
		return 0, nil, fmt.Errorf("reading the answer: %s", errorText(err))
	}
	return res.StatusCode, c.buf.Bytes(), nil
}

func (c *netHTTPClient) close() {} // the Transport keeps the connections

// phase is what n requests did.
type phase struct {
	elapsed time.Duration
	latency []time.Duration // per request, in the order they were taken
	refs    []string        // TokenRefNo per request, "" on error
	errors  int
	samples []string
}

var refKey = []byte(`"TokenRefNo":"`)

// drive sends n requests from c clients, each a GenerateSSOToken call as
// the document shows it, and waits for all of them; the clients' own
// connections are closed when it returns.
func drive(ctx context.Context, cl clients, n, c int) phase {
	p := phase{latency: make([]time.Duration, n), refs: make([]string, n)}
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
			d := cl.new()
			defer d.close()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				status, b, err := d.do(ctx)
				p.latency[i] = time.Since(t0)
				switch {
				case err != nil:
					failed(err.Error())
				case status != http.StatusOK:
					failed(fmt.Sprintf("status %d: %.200s", status, b))
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
