package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/tools/internal/proc"
)

// redisServer is the run's private redis-server: a directory of its own,
// a loopback port, and the settings of README's Deployment section:
// appendonly yes with appendfsync always (a restart forgets no redeemed
// id, not even the last one acknowledged), maxmemory-policy noeviction (no
// redeemed id is ever evicted), no RDB snapshots.
type redisServer struct {
	bin, dir, conf string
	addr           string
	log            io.Writer // both runs' output, appended
	proc           *proc.Process
	panics         *panicCounter
}

// redisConf is the configuration file; the log goes to stdout, which the
// tool reads.
const redisConf = `bind 127.0.0.1
port %d
dir %q
daemonize no
logfile ""
save ""
appendonly yes
appendfsync always
maxmemory 256mb
maxmemory-policy noeviction
protected-mode yes
`

// startRedis starts redis-server bin in dir on a free loopback port. A
// port taken between the probe and Redis's bind makes Redis exit, and
// another port is tried.
func startRedis(ctx context.Context, bin, dir string, log io.Writer, panics *panicCounter) (*redisServer, error) {
	var errs []error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		r := &redisServer{bin: bin, dir: dir, conf: filepath.Join(dir, "redis.conf"), addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: log, panics: panics}
		if err := os.WriteFile(r.conf, fmt.Appendf(nil, redisConf, port, dir), 0o600); err != nil {
			return nil, err
		}
		if err = r.start(ctx); err == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("redis-server: no free port after 5 tries: %w", errors.Join(errs...))
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// redisStartTimeout bounds a start of redis-server, its AOF loaded.
const redisStartTimeout = 30 * time.Second

// start starts the server with its configuration and waits until it
// accepts connections and answers PING.
func (r *redisServer) start(ctx context.Context) error {
	ready := make(chan struct{})
	var once sync.Once
	p, err := proc.Start(proc.Config{
		Name: "redis-server", Path: r.bin, Args: []string{r.conf}, Log: r.log,
		OnLine: func(_ proc.Stream, line []byte) {
			r.panics.check("redis-server", line)
			if bytes.Contains(line, []byte("Ready to accept connections")) {
				once.Do(func() { close(ready) })
			}
		},
	})
	if err != nil {
		return err
	}
	if err := p.Await(ctx, ready, redisStartTimeout); err != nil {
		_ = p.StopWith(syscall.SIGKILL, time.Second)
		return err
	}
	r.proc = p
	if _, err := r.command(ctx, "PING"); err != nil {
		return fmt.Errorf("redis-server on %s: PING: %w", r.addr, err)
	}
	return nil
}

// stop ends the server as an operator would, SIGTERM (it flushes the AOF
// and exits 0), and waits for it; it kills it after redisStopTimeout.
func (r *redisServer) stop() error {
	if r.proc == nil {
		return nil
	}
	return r.proc.StopWith(syscall.SIGTERM, redisStopTimeout)
}

const redisStopTimeout = 30 * time.Second

// command sends one command on a connection of its own and returns the
// reply's first line without its type byte: "PONG", "1234". An error
// reply is an error.
func (r *redisServer) command(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(b.Bytes()); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	switch {
	case line == "":
		return "", errors.New("empty reply")
	case line[0] == '-':
		return "", errors.New(line[1:])
	}
	return line[1:], nil
}

// keys returns the number of keys in the server's database.
func (r *redisServer) keys(ctx context.Context) (int, error) {
	s, err := r.command(ctx, "DBSIZE")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}
