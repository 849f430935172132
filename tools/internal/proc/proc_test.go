package proc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childEnv makes the test binary a child that prints, then waits for a
// signal: "ignore" ignores SIGINT (Stop must kill it), anything else exits
// 0 on SIGINT.
const childEnv = "SSOKIT_PROC_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		child(mode)
		return
	}
	os.Exit(m.Run())
}

func child(mode string) {
	sig := make(chan os.Signal, 1)
	if mode == "ignore" {
		signal.Ignore(os.Interrupt)
		signal.Notify(sig, syscall.SIGTERM)
	} else {
		signal.Notify(sig, os.Interrupt)
	}
	fmt.Println("ready on stdout")
	fmt.Fprintln(os.Stderr, "secret=hunter2 on stderr")
	fmt.Println(strings.Repeat("x", 100<<10)) // longer than the reader's buffer
	<-sig
	fmt.Println("bye")
	os.Exit(0)
}

func startChild(t *testing.T, mode string, onLine func(Stream, []byte), log *syncBuffer) *Process {
	t.Helper()
	cfg := Config{
		Name: "child", Path: os.Args[0], Args: []string{"-test.run=^$"}, Env: append(os.Environ(), childEnv+"="+mode),
		OnLine: onLine,
		Redact: func(l string) string { return strings.ReplaceAll(l, "hunter2", "...") },
	}
	if log != nil {
		cfg.Log = log
	}
	p, err := Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.StopWith(syscall.SIGKILL, time.Second) })
	return p
}

// syncBuffer is a bytes.Buffer safe for the reader goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStartAwaitStop(t *testing.T) {
	ready := make(chan struct{})
	var once sync.Once
	var lines []string
	log := &syncBuffer{}
	p := startChild(t, "graceful", func(s Stream, line []byte) {
		lines = append(lines, fmt.Sprintf("%d:%d", s, len(line)))
		if s == Stdout && string(line) == "ready on stdout" {
			once.Do(func() { close(ready) })
		}
	}, log)
	require.NoError(t, p.Await(context.Background(), ready, 30*time.Second))
	assert.False(t, p.Exited())
	assert.Positive(t, p.PID())
	if runtime.GOOS == "linux" {
		rss, err := p.RSS()
		require.NoError(t, err)
		assert.Greater(t, rss, int64(1<<20))
		_, err = p.CPUTime()
		require.NoError(t, err)
	}
	require.NoError(t, p.Stop(10*time.Second), "a child that exits 0 on SIGINT stops cleanly")
	assert.True(t, p.Exited())
	assert.NoError(t, p.Stop(time.Second), "Stop again")
	assert.Contains(t, lines, fmt.Sprintf("%d:%d", Stdout, 100<<10), "a long line arrives whole")
	assert.Contains(t, log.String(), "secret=hunter2 on stderr\n", "the log has every line as it was")
	assert.Contains(t, log.String(), "bye\n")
	assert.Contains(t, p.LastLines(), "secret=... on stderr", "kept lines are redacted")
	assert.NotContains(t, p.LastLines(), "hunter2")
}

func TestStopKillsAChildThatIgnoresSIGINT(t *testing.T) {
	ready := make(chan struct{})
	var once sync.Once
	p := startChild(t, "ignore", func(s Stream, line []byte) {
		if string(line) == "ready on stdout" {
			once.Do(func() { close(ready) })
		}
	}, nil)
	require.NoError(t, p.Await(context.Background(), ready, 30*time.Second))
	err := p.Stop(200 * time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was killed")
	assert.True(t, p.Exited())
}

func TestAwaitFailures(t *testing.T) {
	never := make(chan struct{})
	p := startChild(t, "graceful", nil, nil)
	err := p.Await(context.Background(), never, 100*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not ready within")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, p.Await(ctx, never, time.Minute), context.Canceled)

	require.NoError(t, p.Signal(os.Interrupt))
	err = p.Await(context.Background(), never, time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited during start")
}

func TestParseRSS(t *testing.T) {
	for _, tt := range []struct {
		status string
		want   int64
		ok     bool
	}{
		{"Name:\tx\nVmPeak:\t  9 kB\nVmRSS:\t    2048 kB\n", 2048 << 10, true},
		{"VmRSS:\t2048 MB\n", 0, false},
		{"Name:\tx\n", 0, false},
	} {
		got, err := parseRSS(tt.status)
		assert.Equal(t, tt.want, got, "%q", tt.status)
		assert.Equal(t, tt.ok, err == nil, "%q", tt.status)
	}
}

func TestParseCPUTime(t *testing.T) {
	for _, tt := range []struct {
		stat string
		want time.Duration
		ok   bool
	}{
		{"42 (a b) c) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0", 2 * time.Second, true},
		{"42 (x) S 1 2", 0, false},
		{"no parenthesis", 0, false},
	} {
		got, err := parseCPUTime(tt.stat)
		assert.Equal(t, tt.want, got, "%q", tt.stat)
		assert.Equal(t, tt.ok, err == nil, "%q", tt.stat)
	}
}

// RepoRoot finds the checkout from the working directory, and from this
// package's source directory when the working directory is outside it.
func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot(context.Background())
	require.NoError(t, err)
	for _, p := range []string{"go.mod", "examples/ssoserver/main.go", "tools/go.mod", "tools/internal/proc/proc.go"} {
		assert.FileExists(t, filepath.Join(root, p))
	}

	if _, file, _, _ := runtime.Caller(0); !filepath.IsAbs(file) {
		t.Skip("built with -trimpath: no source directory to start from")
	}
	t.Chdir(t.TempDir())
	fromElsewhere, err := RepoRoot(context.Background())
	require.NoError(t, err)
	assert.Equal(t, root, fromElsewhere)
}

func TestModulePath(t *testing.T) {
	for _, tt := range []struct{ gomod, want string }{
		{"module github.com/ssokit/ssokit\n\ngo 1.25.0\n", RootModule},
		{"// module example.com/x\nmodule \"github.com/ssokit/ssokit\" // the library\n", RootModule},
		{"module github.com/ssokit/ssokit/tools\n", "github.com/ssokit/ssokit/tools"},
		{"go 1.25.0\n", ""},
	} {
		assert.Equal(t, tt.want, ModulePath([]byte(tt.gomod)), "%q", tt.gomod)
	}
}
