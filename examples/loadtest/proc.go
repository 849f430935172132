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
	"strconv"
	"strings"
	"sync"
	"time"
)

// buildServers builds examples/ssoserver and examples/loadtest/baseline
// into dir with the go command and returns their paths.
func buildServers(ctx context.Context, dir string) (ssoserver, baseline string, err error) {
	for _, b := range []struct {
		pkg string
		out *string
	}{
		{"github.com/ssokit/ssokit/examples/ssoserver", &ssoserver},
		{"github.com/ssokit/ssokit/examples/loadtest/baseline", &baseline},
	} {
		*b.out = filepath.Join(dir, filepath.Base(b.pkg))
		out, err := exec.CommandContext(ctx, "go", "build", "-o", *b.out, b.pkg).CombinedOutput()
		if ctx.Err() != nil {
			return "", "", fmt.Errorf("go build %s: %w", b.pkg, context.Cause(ctx))
		}
		if err != nil {
			return "", "", fmt.Errorf("go build %s: %v\n%s(run from inside the module, or pass -ssoserver and -baseline)", b.pkg, err, out)
		}
	}
	return ssoserver, baseline, nil
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
	devTokenPfx = "dev access token: "
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
					s.token = string(t)
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
	for _, p := range []string{devTokenPfx, "dev SSO cookie: ", "curl ", "JWT=$("} {
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
