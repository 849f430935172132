package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// buildServers builds examples/ssoserver (in the ssokit module, with its
// own dependencies, as a host would build it) and tools/loadtest/baseline
// (in the tools module) of the repository found by repoRoot into dir with
// the go command, and returns their paths.
func buildServers(ctx context.Context, dir string) (ssoserver, baseline string, err error) {
	root, err := repoRoot(ctx)
	if err != nil {
		return "", "", err
	}
	for _, b := range []struct {
		dir, pkg string // the module's directory, the package in it
		out      *string
	}{
		{root, "./examples/ssoserver", &ssoserver},
		{filepath.Join(root, "tools"), "./loadtest/baseline", &baseline},
	} {
		*b.out = filepath.Join(dir, filepath.Base(b.pkg))
		cmd := exec.CommandContext(ctx, "go", "build", "-o", *b.out, b.pkg)
		cmd.Dir = b.dir
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			return "", "", fmt.Errorf("go build %s in %s: %w", b.pkg, b.dir, context.Cause(ctx))
		}
		if err != nil {
			return "", "", fmt.Errorf("go build %s in %s: %v\n%s(or pass -ssoserver and -baseline)", b.pkg, b.dir, err, out)
		}
	}
	return ssoserver, baseline, nil
}

// rootModule is the module path of the repository's root module, whose
// directory holds examples/ssoserver and the tools module.
const rootModule = "github.com/ssokit/ssokit"

// repoRoot finds the directory of a checkout of the repository: the one
// the go command resolves rootModule to from the working directory (the
// root module itself, or the tools module's replace of it), else the first
// checkout above the working directory, else the first above this
// source file (a binary built here and run from elsewhere). A checkout is
// a directory whose go.mod is rootModule's and that has tools/go.mod (a
// module cache's copy of rootModule has no tools).
func repoRoot(ctx context.Context) (string, error) {
	try := func(dir string) bool { return filepath.IsAbs(dir) && isCheckout(dir) }
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", rootModule)
	cmd.Stderr = io.Discard // outside any module, or one without rootModule
	if out, err := cmd.Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); try(dir) {
			return dir, nil
		}
	}
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) { // not with -trimpath
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		for dir := start; ; {
			if try(dir) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("no checkout of %s (a go.mod of that module beside tools/go.mod) found from %s: run inside the repository, or pass -ssoserver and -baseline", rootModule, strings.Join(starts, " or "))
}

// isCheckout reports whether dir is the root of a checkout of the
// repository: its go.mod declares rootModule, and it has the tools module.
func isCheckout(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && modulePath(b) == rootModule
}

// modulePath is the module path that go.mod content b declares, or "".
func modulePath(b []byte) string {
	for line := range strings.Lines(string(b)) {
		line, _, _ = strings.Cut(line, "//")
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			if p, err := strconv.Unquote(f[1]); err == nil {
				return p
			}
			return f[1]
		}
	}
	return ""
}

// server is a started server process: examples/ssoserver in dev mode or
// the baseline.
type server struct {
	name     string
	cmd      *exec.Cmd
	base     string // http://127.0.0.1:PORT
	debugURL string // its GET /debug/runtime
	token    string // ssoserver's dev access token

	mu      sync.Mutex
	tail    []string // the last lines of its output, for error messages
	log     []byte   // its log (stderr), the first maxLog bytes
	logFull bool     // log has stopped at maxLog
	done    chan struct{}
}

var (
	devBaseRE   = regexp.MustCompile(`dev mode on (http://127\.0\.0\.1:\d+)`)
	devTokenPfx = "TOKEN='" // the banner's TOKEN='...' line
)

// startServer starts bin with args, on the CPUs of cpus unless it is nil,
// and waits, at most until ctx is done or
// startTimeout passes, until it has logged its listening and debug
// addresses (JSON logs on stderr) and, with wantToken, printed the dev
// access token (stdout). The process is stopped by stop; it also dies with
// this process where the platform allows (see setPdeathsig).
func startServer(ctx context.Context, name, bin string, wantToken bool, cpus *cpuSet, args ...string) (*server, error) {
	s := &server{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	setPdeathsig(s.cmd)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	start := s.cmd.Start
	if cpus != nil {
		start = func() error { return startOn(s.cmd, *cpus) }
	}
	if err := start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	ready := make(chan struct{})
	var once sync.Once
	check := func() { // under s.mu
		if s.base != "" && s.debugURL != "" && (!wantToken || s.token != "") {
			once.Do(func() { close(ready) })
		}
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		s.scan(stdout, func(line []byte) {
			if wantToken {
				if m := devBaseRE.FindSubmatch(line); m != nil {
					s.base = string(m[1])
				} else if t, ok := bytes.CutPrefix(line, []byte(devTokenPfx)); ok {
					s.token = string(bytes.TrimSuffix(t, []byte("'")))
				}
			}
			check()
		})
	}()
	go func() {
		defer readers.Done()
		s.scan(stderr, func(line []byte) {
			if !s.logFull && len(s.log)+len(line) < maxLog {
				s.log = append(append(s.log, line...), '\n')
			} else {
				s.logFull = true // the first maxLog bytes, whole lines only
			}
			if s.debugURL != "" && s.base != "" || !bytes.HasPrefix(line, []byte("{")) {
				return // the hot path: an audit line
			}
			var rec struct{ Msg, Addr, URL string }
			if json.Unmarshal(line, &rec) != nil {
				return
			}
			switch {
			case rec.Msg == "debug endpoint":
				s.debugURL = rec.URL
			case rec.Msg == "listening" && !wantToken:
				s.base = "http://" + rec.Addr
			}
			check()
		})
	}()
	go func() {
		readers.Wait() // Wait must not run before the pipes are drained
		_ = s.cmd.Wait()
		close(s.done)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
		return s, nil
	case <-s.done:
		err = fmt.Errorf("%s exited during start: %s", name, s.lastLines())
	case <-timer.C:
		err = fmt.Errorf("%s not ready within %s: %s", name, startTimeout, s.lastLines())
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.stop()
	return nil, err
}

// maxLog bounds the log kept of a server.
const maxLog = 1 << 20

// logText is the server's log so far.
func (s *server) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.log)
}

// startTimeout bounds a server's start (ssoserver makes an RSA key first).
const startTimeout = 60 * time.Second

// scan reads r line by line until EOF, calling fn under s.mu and keeping
// the last lines; it drains whatever is left so that the child never
// blocks on a full pipe.
func (s *server) scan(r io.Reader, fn func([]byte)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		s.mu.Lock()
		fn(line)
		if len(s.tail) == tailLines {
			s.tail = append(s.tail[:0], s.tail[1:]...)
		}
		s.tail = append(s.tail, redact(string(line)))
		s.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

const tailLines = 8

// redact drops the dev credentials from a line kept for an error message.
func redact(line string) string {
	for _, p := range []string{devTokenPfx, "COOKIE=", "SSO_SECRET=", "curl ", "JWT=$("} {
		if strings.HasPrefix(line, p) {
			return p + "..."
		}
	}
	return line
}

func (s *server) lastLines() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tail) == 0 {
		return "no output"
	}
	return "last output:\n\t" + strings.Join(s.tail, "\n\t")
}

// stop interrupts the process, waits up to 10 s for a graceful shutdown,
// then kills it. It is safe to call more than once.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// exited reports whether the process has exited.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// debugClient reads the debug endpoints. Without keep-alive, every reading
// counts the same goroutines: the server's idle ones plus the one serving it.
var debugClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// goroutines reads the server's goroutine count from its debug endpoint.
func (s *server) goroutines(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.debugURL, nil)
	if err != nil {
		return 0, err
	}
	res, err := debugClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var v struct {
		Goroutines *int `json:"goroutines"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 4<<10)).Decode(&v); err != nil || res.StatusCode != http.StatusOK || v.Goroutines == nil {
		return 0, fmt.Errorf("%s: debug endpoint answered status %d, %v", s.name, res.StatusCode, err)
	}
	return *v.Goroutines, nil
}

// settle polls the goroutine count every 50 ms until it is at most want,
// for at most settleTimeout, and returns the last count.
func (s *server) settle(ctx context.Context, want int) (int, error) {
	deadline := time.Now().Add(settleTimeout)
	for {
		n, err := s.goroutines(ctx)
		if err != nil || n <= want || time.Now().After(deadline) {
			return n, err
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(50 * time.Millisecond): // polling another process
		}
	}
}

const settleTimeout = 5 * time.Second

// rss is the server's resident set size in bytes, from /proc (Linux); 0
// with errNoRSS elsewhere.
func (s *server) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, errNoRSS
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb << 10, nil
				}
			}
		}
	}
	return 0, errNoRSS
}

var errNoRSS = errors.New("no /proc: RSS and CPU time are read on Linux only")

// cpuTime is the user plus system CPU time of process pid so far, from
// /proc/PID/stat (Linux); errNoRSS elsewhere.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, errNoRSS
	}
	i := strings.LastIndex(string(b), ") ") // the command name may hold ") "
	rest, ok := string(b[i+2:]), i >= 0     // the command name may hold spaces
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, errNoRSS
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, errNoRSS
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// userHZ is the unit of /proc times: USER_HZ, 100 on every Linux ABI.
const userHZ = 100
