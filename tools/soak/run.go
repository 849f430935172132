package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssokit/ssokit/tools/internal/proc"
)

// clock is the run's time: the time since the workload started (before
// it, since the clock was made).
type clock struct{ t0 atomic.Pointer[time.Time] }

func newClock() *clock {
	c := &clock{}
	c.reset()
	return c
}

func (c *clock) reset() {
	now := time.Now()
	c.t0.Store(&now)
}

func (c *clock) since() time.Duration { return time.Since(*c.t0.Load()) }

// at is t on the run's clock.
func (c *clock) at(t time.Time) time.Duration { return t.Sub(*c.t0.Load()) }

// stack is the run's processes and what stops them, in the order they
// must stop: lobapps first, Redis last.
type stack struct {
	redis  *redisServer
	cog    *cognitoStandIn
	sso    *goServer
	lobs   []*goServer
	logs   []*logFile
	stopMu sync.Mutex
	exits  map[string]string // how each stopped: "ok" or the error
}

// logFile is one process's output on disk, for the credential scan.
type logFile struct {
	name, path string
	f          *os.File
}

// openLog creates dir/name.log.
func (st *stack) openLog(dir, name string) (*logFile, error) {
	path := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	l := &logFile{name: name, path: path, f: f}
	st.logs = append(st.logs, l)
	return l, nil
}

// stopAll stops every process still running, the Go servers in
// parallel, then Redis, then the Cognito stand-in, and records how each
// stopped. It is safe to call more than once.
func (st *stack) stopAll() {
	st.stopMu.Lock()
	defer st.stopMu.Unlock()
	if st.exits == nil {
		st.exits = map[string]string{}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range append(append([]*goServer(nil), st.lobs...), st.sso) {
		if s == nil || s.Exited() && st.exits[s.Name()] != "" {
			continue
		}
		wg.Go(func() {
			err := s.Stop(10 * time.Second)
			mu.Lock()
			st.exits[s.Name()] = exitText(err)
			mu.Unlock()
		})
	}
	wg.Wait()
	if st.redis != nil && st.redis.proc != nil && st.exits["redis-server"] == "" {
		st.exits["redis-server"] = exitText(st.redis.stop())
	}
	if st.cog != nil {
		st.cog.close()
	}
	for _, l := range st.logs {
		if l.f != nil {
			l.f.Close()
			l.f = nil
		}
	}
}

func exitText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// run does one soak run of cfg and returns its report, nil when the run
// could not start. An error is a run that could not be carried out (a
// build, a start, Ctrl-C); a report that fails a check is not an error.
func run(ctx context.Context, cfg config) (*report, error) {
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	say := func(format string, a ...any) { fmt.Fprintf(progress, "soak: "+format+"\n", a...) }
	seed := cfg.Seed
	for seed == 0 {
		seed = mrand.Int64()
	}

	work, err := os.MkdirTemp("", "ssokit-soak")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	logDir := cfg.KeepLogs
	if logDir == "" {
		logDir = filepath.Join(work, "logs")
	}
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return nil, err
	}
	redisBin, err := exec.LookPath(cfg.RedisServer)
	if err != nil {
		return nil, fmt.Errorf("%w: install redis-server (apt-get install redis-server) or pass -redis-server", err)
	}
	if cfg.SSOServer == "" || cfg.LOBApp == "" {
		say("building examples/ssoserver and examples/lobapp")
		if err := build(ctx, &cfg, work); err != nil {
			return nil, err
		}
	}

	st := &stack{}
	defer st.stopAll()
	clk := newClock()
	sec := newSecrets()
	creds := newCredentials()
	for _, s := range []struct{ name, value string }{{"SSO_SECRET", sec.SSO}, {"COOKIE_SECRET", sec.Cookie}, {"API_SECRET", sec.API}, {"SSO_SESSION_KEY", sec.Session}} {
		creds.addSecret(s.name, s.value)
	}
	panics := &panicCounter{}

	// Redis, Cognito, ssoserver, the lobapps.
	redisDir := filepath.Join(work, "redis")
	if err := os.Mkdir(redisDir, 0o700); err != nil {
		return nil, err
	}
	redisLog, err := st.openLog(logDir, "redis-server")
	if err != nil {
		return nil, err
	}
	if st.redis, err = startRedis(ctx, redisBin, redisDir, redisLog.f, panics); err != nil {
		return nil, err
	}
	say("redis-server on %s (appendonly yes, appendfsync always, maxmemory-policy noeviction)", st.redis.addr)
	if st.cog, err = startCognito(); err != nil {
		return nil, err
	}
	ssoLog, err := st.openLog(logDir, targetSSO)
	if err != nil {
		return nil, err
	}
	ssoArgs := []string{
		"-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-log-format", "json",
		"-cognito-issuer", st.cog.issuer(), "-cognito-jwks-url", st.cog.jwksURL, "-cognito-client-id", st.cog.pool.ClientID(),
		"-lob-client", lobClientID + ":" + lobXX + "," + lob01, "-ciino-claim", "custom:ciino",
		"-issue-limit-redis", st.redis.addr, "-issue-rate", strconv.Itoa(issueRate), "-issue-burst", strconv.Itoa(issueBurst),
		"-timeout", "5s",
	}
	ssoEnv := childEnv("SSO_SECRET="+sec.SSO, "COOKIE_SECRET="+sec.Cookie, "API_SECRET="+sec.API)
	if st.sso, err = startSSOServer(ctx, cfg.SSOServer, ssoArgs, ssoEnv, ssoLog.f, panics); err != nil {
		return nil, err
	}
	say("ssoserver on %s, real mode against the Cognito stand-in %s", st.sso.base, st.cog.issuer())
	for i := range cfg.LOBApps {
		name := fmt.Sprintf("lobapp-%d", i+1)
		l, err := st.openLog(logDir, name)
		if err != nil {
			return nil, err
		}
		s, err := startLOBApp(ctx, name, cfg.LOBApp,
			[]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-lob", lobXX, "-redis-addr", st.redis.addr},
			childEnv("SSO_SECRET="+sec.SSO, "SSO_SESSION_KEY="+sec.Session), l.f, panics)
		if err != nil {
			return nil, err
		}
		st.lobs = append(st.lobs, s)
		say("%s on %s", name, s.base)
	}

	// The workload, and the faults on the schedule.
	rec, led := &recorder{}, newLedger()
	lobs := make([]target, len(st.lobs))
	for i, s := range st.lobs {
		lobs[i] = target{s.Name(), s.base}
	}
	sched := newSchedule(cfg.Duration)
	ev := &events{}
	say("workload: %s, %d workers, %g requests/s, %d users, seed %d", cfg.Duration, cfg.Workers, cfg.Rate, cfg.Users, seed)
	clk.reset()
	wl, err := startWorkload(cfg, workloadConfig{
		ctx: ctx, now: clk.since, seed: seed, sso: target{targetSSO, st.sso.base}, lobs: lobs, cog: st.cog,
		secrets: sec, rec: rec, ledger: led, creds: creds,
	})
	if err != nil {
		return nil, err
	}
	defer wl.finish()
	readings := map[string]*reading{}
	faultErr := drive(ctx, st, wl, sched, ev, clk, readings, say)
	wl.finish()
	if err := wl.err(); err != nil {
		faultErr = err // the cause of a workload that stopped early
	}
	if ctx.Err() != nil { // interrupted: no verdict on a stack half stopped
		return nil, fmt.Errorf("interrupted after %s: %w", secs(clk.since()), context.Cause(ctx))
	}
	ev.End = clk.since()
	ev.Fetches = st.cog.recordedFetches(clk.at)

	// The end: readings with the clients gone, server-side counts, stops,
	// the credential scan.
	say("workload done: %d requests; reading, stopping, scanning the logs", len(rec.all()))
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	alive := map[string]bool{}
	for _, s := range st.servers() {
		alive[s.Name()] = !s.Exited()
		r := readings[s.Name()]
		if r == nil {
			r = &reading{}
			readings[s.Name()] = r
		}
		r.end(rctx, s)
	}
	redisReading := readings["redis-server"]
	if redisReading == nil {
		redisReading = &reading{}
	}
	redisReading.RSSEnd, _ = st.redis.proc.RSS()
	redisKeys, _ := st.redis.keys(rctx)
	counts := serverCounts(rctx, st)
	st.stopAll()

	rep := newReport(cfg, seed, sched, ev, rec.all(), led.summary(), creds)
	rep.RedisKeys = redisKeys
	for _, s := range st.servers() {
		rep.addProcess(s.Name(), s.PID(), readings[s.Name()], alive[s.Name()], st.exits[s.Name()])
	}
	rep.addProcess("redis-server", st.redis.proc.PID(), redisReading, true, st.exits["redis-server"])
	rep.Panics = panics.counts()
	rep.ServerCounts = counts
	for _, l := range st.logs {
		if err := rep.scanLog(creds, l.name, l.path); err != nil {
			return rep, err
		}
	}
	if cfg.KeepLogs != "" {
		rep.LogDir = cfg.KeepLogs
	}
	rep.judge()
	return rep, faultErr
}

// childEnv is the environment of ssoserver and lobapp: the tool's,
// without any variable they read (SSO_..., COOKIE_SECRET, API_SECRET),
// so that the caller's shell cannot change their configuration, and with
// vars.
func childEnv(vars ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "SSO_") && name != "COOKIE_SECRET" && name != "API_SECRET" {
			env = append(env, kv)
		}
	}
	return append(env, vars...)
}

// servers returns the Go servers: ssoserver, then the lobapps.
func (st *stack) servers() []*goServer {
	return append([]*goServer{st.sso}, st.lobs...)
}

// build builds the binaries cfg lacks into dir.
func build(ctx context.Context, cfg *config, dir string) error {
	root, err := proc.RepoRoot(ctx)
	if err != nil {
		return fmt.Errorf("%w: run inside the repository, or pass -ssoserver and -lobapp", err)
	}
	for _, b := range []struct {
		pkg string
		out *string
	}{{"./examples/ssoserver", &cfg.SSOServer}, {"./examples/lobapp", &cfg.LOBApp}} {
		if *b.out != "" {
			continue
		}
		path := filepath.Join(dir, filepath.Base(b.pkg))
		if runtime.GOOS == "windows" {
			path += ".exe"
		}
		if err := proc.Build(ctx, root, b.pkg, path); err != nil {
			return err
		}
		*b.out = path
	}
	return nil
}

// drive carries out the schedule while the workload runs: the readings at
// the end of the warm-up, the rotation, the Redis restart; then it waits
// for the end. It returns an error when a fault could not be carried out
// or the run was interrupted.
func drive(ctx context.Context, st *stack, wl *workload, sched schedule, ev *events, clk *clock, readings map[string]*reading, say func(string, ...any)) error {
	wait := func(at time.Duration) error {
		t := time.NewTimer(at - clk.since())
		defer t.Stop()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-wl.stop.Done():
			return errors.New("the workload stopped early")
		case <-t.C:
			return nil
		}
	}

	if err := wait(sched.WarmUp); err != nil {
		return err
	}
	resume := wl.pause()
	wl.closeIdle()
	for _, s := range st.servers() {
		r := &reading{}
		r.start(ctx, s)
		readings[s.Name()] = r
	}
	redisReading := &reading{}
	redisReading.RSSStart, _ = st.redis.proc.RSS()
	readings["redis-server"] = redisReading
	resume()
	say("%s: warm-up over, first readings taken", secs(clk.since()))

	if err := wait(sched.Publish); err != nil {
		return err
	}
	ev.OldKID, ev.NewKID = st.cog.publishNew()
	ev.Publish = clk.since()
	say("%s: new Cognito key published beside the old", secs(ev.Publish))
	if err := wait(sched.Sign); err != nil {
		return err
	}
	st.cog.signWith(ev.NewKID)
	ev.Sign = clk.since()
	say("%s: users' new tokens signed with the new key", secs(ev.Sign))
	if err := wait(sched.Drop); err != nil {
		return err
	}
	st.cog.dropOld()
	ev.Drop = clk.since()
	wl.setDropped()
	say("%s: old key dropped from the JWKS", secs(ev.Drop))

	if err := wait(sched.RedisStop); err != nil {
		return err
	}
	n := wl.snapshotForRestart(replayAfterRestart)
	ev.RedisStop = clk.since()
	say("%s: Redis gets SIGTERM (%d accepted TokenNo kept to replay after it)", secs(ev.RedisStop), n)
	if err := st.redis.stop(); err != nil {
		return fmt.Errorf("stopping Redis: %w", err)
	}
	ev.RedisExited = clk.since()
	if err := wait(ev.RedisExited + sched.RedisDown); err != nil {
		return err
	}
	ev.RedisStarted = clk.since()
	if err := st.redis.start(ctx); err != nil {
		return fmt.Errorf("starting Redis again: %w", err)
	}
	ev.RedisReady, ev.RedisRestarted = clk.since(), true
	wl.releaseAfterRestart(ev.RedisReady + recoveryGrace)
	say("%s: Redis answers again on %s", secs(ev.RedisReady), st.redis.addr)

	return wait(sched.End)
}

// replayAfterRestart is how many TokenNo accepted before the Redis
// restart are presented again after it.
const replayAfterRestart = 200

// reading is a Go process's RSS and goroutines at the end of the warm-up
// and at the end, the clients idle both times.
type reading struct {
	RSSStart, RSSEnd int64
	GorStart, GorEnd int
	Err              string
}

// start takes the first reading: goroutines once they stop falling.
func (r *reading) start(ctx context.Context, s *goServer) {
	var err error
	if r.GorStart, err = s.settle(ctx, -1); err != nil {
		r.Err = err.Error()
	}
	r.RSSStart, _ = s.RSS()
}

// end takes the last reading: goroutines once back to the first reading's
// count, or after settleTimeout.
func (r *reading) end(ctx context.Context, s *goServer) {
	if s.Exited() {
		r.Err = "exited"
		return
	}
	var err error
	if r.GorEnd, err = s.settle(ctx, r.GorStart); err != nil && r.Err == "" {
		r.Err = err.Error()
	}
	r.RSSEnd, _ = s.RSS()
}

// serverCounts reads what the servers counted: the TokenNo ssoserver
// issued, and the redemptions each lobapp accepted.
func serverCounts(ctx context.Context, st *stack) map[string]float64 {
	out := map[string]float64{}
	if m, err := st.sso.metrics(ctx); err == nil {
		out["ssoserver issued"], _ = m.sum("ssokit_requests_total", map[string]string{"endpoint": "generate_sso_token", "outcome": "issued"})
	}
	for _, s := range st.lobs {
		if m, err := s.metrics(ctx); err == nil {
			v, _ := m.sum("ssokit_sso_redemptions_total", map[string]string{"result": "accepted"})
			out["lobapps accepted"] += v
		}
	}
	return out
}
