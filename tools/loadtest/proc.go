package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/tools/internal/proc"
)

// buildServers builds examples/ssoserver (in the ssokit module, with its
// own dependencies, as a host would build it) and tools/loadtest/baseline
// (in the tools module) of the repository found by proc.RepoRoot into dir
// with the go command, and returns their paths.
func buildServers(ctx context.Context, dir string) (ssoserver, baseline string, err error) {
	root, err := proc.RepoRoot(ctx)
	if err != nil {
		return "", "", fmt.Errorf("%w: run inside the repository, or pass -ssoserver and -baseline", err)
	}
	for _, b := range []struct {
		dir, pkg string // the module's directory, the package in it
		out      *string
	}{
		{root, "./examples/ssoserver", &ssoserver},
		{filepath.Join(root, "tools"), "./loadtest/baseline", &baseline},
	} {
		*b.out = filepath.Join(dir, filepath.Base(b.pkg))
		if err := proc.Build(ctx, b.dir, b.pkg, *b.out); err != nil {
			return "", "", fmt.Errorf("%w(or pass -ssoserver and -baseline)", err)
		}
	}
	return ssoserver, baseline, nil
}

// server is a started server process: examples/ssoserver in dev mode or
// the baseline.
type server struct {
	*proc.Process
	base     string // http://127.0.0.1:PORT
	debugURL string // its GET /debug/runtime
	token    string // ssoserver's dev access token

	mu      sync.Mutex // guards log and logFull (the reader's lock guards the rest until ready)
	log     []byte     // its log (stderr), the first maxLog bytes
	logFull bool       // log has stopped at maxLog
}

var (
	devBaseRE   = regexp.MustCompile(`dev mode on (http://127\.0\.0\.1:\d+)`)
	devTokenPfx = "TOKEN='" // the banner's TOKEN='...' line
)

// startServer starts bin with args, on the CPUs of cpus unless it is nil,
// and waits, at most until ctx is done or startTimeout passes, until it
// has logged its listening and debug addresses (JSON logs on stderr) and,
// with wantToken, printed the dev access token (stdout). The process is
// stopped by stop; it also dies with this process where the platform
// allows.
func startServer(ctx context.Context, name, bin string, wantToken bool, cpus *cpuSet, args ...string) (*server, error) {
	s := &server{}
	ready := make(chan struct{})
	var once sync.Once
	check := func() { // under the process's output lock
		if s.base != "" && s.debugURL != "" && (!wantToken || s.token != "") {
			once.Do(func() { close(ready) })
		}
	}
	onLine := func(stream proc.Stream, line []byte) {
		if stream == proc.Stdout {
			if wantToken {
				if m := devBaseRE.FindSubmatch(line); m != nil {
					s.base = string(m[1])
				} else if t, ok := bytes.CutPrefix(line, []byte(devTokenPfx)); ok {
					s.token = string(bytes.TrimSuffix(t, []byte("'")))
				}
			}
			check()
			return
		}
		s.mu.Lock()
		if !s.logFull && len(s.log)+len(line) < maxLog {
			s.log = append(append(s.log, line...), '\n')
		} else {
			s.logFull = true // the first maxLog bytes, whole lines only
		}
		s.mu.Unlock()
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
	}
	cfg := proc.Config{Name: name, Path: bin, Args: args, OnLine: onLine, Redact: redact}
	if cpus != nil {
		cfg.Start = func(cmd *exec.Cmd) error { return startOn(cmd, *cpus) }
	}
	p, err := proc.Start(cfg)
	if err != nil {
		return nil, err
	}
	s.Process = p
	if err := p.Await(ctx, ready, startTimeout); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
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

// redact drops the dev credentials from a line kept for an error message.
func redact(line string) string {
	for _, p := range []string{devTokenPfx, "COOKIE=", "SSO_SECRET=", "curl ", "JWT=$("} {
		if strings.HasPrefix(line, p) {
			return p + "..."
		}
	}
	return line
}

// stop interrupts the process, waits up to 10 s for a graceful shutdown,
// then kills it. It is safe to call more than once.
func (s *server) stop() { _ = s.Stop(10 * time.Second) }

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
		return 0, fmt.Errorf("%s: debug endpoint answered status %d, %v", s.Name(), res.StatusCode, err)
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
// with proc.ErrNoProcfs elsewhere.
func (s *server) rss() (int64, error) { return s.RSS() }
