// Package proc runs the programs that the tools module's harnesses drive
// (examples/ssoserver, examples/lobapp, redis-server, the load test's
// baseline) as child processes: it starts them, reads their output line by
// line, keeps their last lines for error messages, stops them, and reads
// their memory and CPU time from /proc. It also finds the repository's
// checkout and builds its commands (repo.go).
//
// A child dies with the tool where the platform allows (Linux: the
// parent-death signal), so that no server outlives a run, even one ended
// by SIGKILL; Stop ends it gracefully otherwise.
package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Stream names the output a line came from.
type Stream uint8

const (
	Stdout Stream = iota + 1
	Stderr
)

// Config describes a process to start.
type Config struct {
	// Name names the process in messages: "ssoserver", "lobapp-2".
	Name string
	// Path and Args are the program and its arguments (without the
	// program's name).
	Path string
	Args []string
	// Env is the environment, as exec.Cmd's: nil inherits the tool's.
	Env []string
	// Log, when not nil, receives every line of both streams, in the
	// order they were read, each followed by a newline.
	Log io.Writer
	// OnLine, when not nil, is called with every line, under a lock that
	// serialises it with the other stream's calls. The line is valid
	// during the call only.
	OnLine func(s Stream, line []byte)
	// Redact, when not nil, rewrites a line before it is kept for error
	// messages (the last lines of a process that failed to start).
	Redact func(line string) string
	// Start, when not nil, starts cmd in place of cmd.Start (on a CPU
	// set, say).
	Start func(cmd *exec.Cmd) error
}

// Process is a started child process. Its methods are safe for
// concurrent use.
type Process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and its output is read

	mu     sync.Mutex
	tail   []string // the last lines, redacted
	redact func(string) string
	err    error // cmd.Wait's, once done is closed
}

// tailLines is how many of its last lines a Process keeps.
const tailLines = 8

// maxLine bounds one line of output; a longer one is cut into pieces.
const maxLine = 1 << 20

// Start starts the process of cfg and reads both of its streams until it
// exits, so that it never blocks on a full pipe.
func Start(cfg Config) (*Process, error) {
	cmd := exec.Command(cfg.Path, cfg.Args...)
	cmd.Env = cfg.Env
	setPdeathsig(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	start := cmd.Start
	if cfg.Start != nil {
		start = func() error { return cfg.Start(cmd) }
	}
	if err := start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
	}
	p := &Process{name: cfg.Name, cmd: cmd, done: make(chan struct{}), redact: cfg.Redact}
	var readers sync.WaitGroup
	for _, s := range []struct {
		r      io.Reader
		stream Stream
	}{{stdout, Stdout}, {stderr, Stderr}} {
		readers.Go(func() { p.read(s.r, s.stream, cfg.OnLine, cfg.Log) })
	}
	go func() {
		readers.Wait() // Wait must not run before the pipes are drained
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// read reads r line by line until EOF.
func (p *Process) read(r io.Reader, s Stream, onLine func(Stream, []byte), log io.Writer) {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) && len(long)+len(line) < maxLine {
			long = append(long, line...)
			continue
		}
		if len(long) > 0 {
			line = append(long, line...)
			long = long[:0]
		}
		line = trimEOL(line)
		if len(line) > 0 || err == nil {
			p.line(s, line, onLine, log)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			break
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// line hands one line to onLine and log, and keeps it in the tail.
func (p *Process) line(s Stream, line []byte, onLine func(Stream, []byte), log io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if onLine != nil {
		onLine(s, line)
	}
	if log != nil {
		_, _ = log.Write(append(line, '\n'))
	}
	kept := string(line)
	if p.redact != nil {
		kept = p.redact(kept)
	}
	if len(p.tail) == tailLines {
		p.tail = append(p.tail[:0], p.tail[1:]...)
	}
	p.tail = append(p.tail, kept)
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// Name returns the process's name.
func (p *Process) Name() string { return p.name }

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done returns a channel closed once the process has exited and its
// output has been read.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err returns how the process ended (cmd.Wait's error: nil for status 0),
// once it has; nil before.
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Signal sends sig to the process, unless it has exited.
func (p *Process) Signal(sig os.Signal) error {
	if p.Exited() {
		return nil
	}
	return p.cmd.Process.Signal(sig)
}

// Stop interrupts the process (SIGINT), waits up to grace for it to exit,
// then kills it, and returns how it ended: nil for a graceful exit with
// status 0, an error that says it was killed when it did not stop in
// time. It is safe to call more than once.
func (p *Process) Stop(grace time.Duration) error {
	return p.StopWith(os.Interrupt, grace)
}

// StopWith is Stop with another signal (SIGTERM for redis-server).
func (p *Process) StopWith(sig os.Signal, grace time.Duration) error {
	if p.Exited() {
		return p.Err()
	}
	_ = p.cmd.Process.Signal(sig)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return p.Err()
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s of %v and was killed", p.name, grace, sig)
	}
}

// Await waits until ready is closed, the process exits, timeout passes
// or ctx is done, whichever comes first, and returns nil only in the
// first case. The errors say which, with the process's last lines.
func (p *Process) Await(ctx context.Context, ready <-chan struct{}, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ready:
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited during start (%v): %s", p.name, p.Err(), p.LastLines())
	case <-t.C:
		return fmt.Errorf("%s not ready within %s: %s", p.name, timeout, p.LastLines())
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// LastLines returns the last lines of the process's output, redacted, for
// an error message.
func (p *Process) LastLines() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tail) == 0 {
		return "no output"
	}
	return "last output:\n\t" + strings.Join(p.tail, "\n\t")
}

// RSS returns the process's resident set size in bytes (Linux).
func (p *Process) RSS() (int64, error) { return RSS(p.PID()) }

// CPUTime returns the process's user and system CPU time so far (Linux).
func (p *Process) CPUTime() (time.Duration, error) { return CPUTime(p.PID()) }
