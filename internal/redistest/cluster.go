package redistest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterNodes is the size of a cluster of StartCluster: three masters,
// each with one replica, the smallest layout in which a master can be
// killed and its slots still be served.
const clusterNodes = 6

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// waitLimit bounds every wait of StartCluster and the Cluster methods.
const waitLimit = 30 * time.Second

// ClusterConfig configures StartCluster.
type ClusterConfig struct {
	// NodeTimeout is every node's cluster-node-timeout: how long a master
	// may not answer before the others mark it failed and its replica
	// takes over. Zero means one second (Redis's default is 15 s).
	NodeTimeout time.Duration
}

// Cluster is a Redis Cluster of six redis-server processes on loopback
// ports, three masters with one replica each, configured as README's
// Deployment section asks (maxmemory-policy noeviction, appendonly yes).
// StartCluster starts it; the end of the test stops it. Its methods fail
// the test when Redis does not do what they ask within 30 s; call them from
// the test's goroutine.
type Cluster struct {
	nodes []*node
}

// node is one redis-server process.
type node struct {
	addr    string
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait returned
	admin   *redis.Client // for this node only: no redirects, no retries

	mu     sync.Mutex
	killed bool
}

// StartCluster starts a Redis Cluster of its own for the test, in
// tb.TempDir() on free loopback ports, and returns once every node says
// cluster_state:ok and every replica is in sync with its master. The
// processes are killed at the end of the test (and, on Linux, when the
// test binary dies).
//
// It skips the test unless SSOKIT_REDIS_FAILOVER is "1" (.ci/run sets it):
// starting a cluster takes a couple of seconds. It skips it too when
// redis-server or redis-cli is not on PATH.
func StartCluster(tb testing.TB, cfg ClusterConfig) *Cluster {
	tb.Helper()
	if os.Getenv(EnvFailover) != "1" {
		tb.Skip("this test starts a Redis Cluster of its own and fails it over: set " + EnvFailover + "=1 to run it (.ci/run does)")
	}
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			tb.Skipf("this test starts a Redis Cluster of its own and needs %s on PATH (Debian: apt-get install redis-server)", bin)
		}
	}
	nodeTimeout := cmp.Or(cfg.NodeTimeout, time.Second)
	dir := tb.TempDir()
	c := &Cluster{}
	tb.Cleanup(func() { c.stop(tb) }) // before TempDir removes the nodes' directories
	for i := range clusterNodes {
		c.nodes = append(c.nodes, startNode(tb, filepath.Join(dir, strconv.Itoa(i)), nodeTimeout))
	}

	// redis-cli lays out the slots and replicas, and waits until every
	// node has joined.
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.poll(tb, "every node to agree on the cluster, and every replica to be in sync", func(ctx context.Context) error {
		if err := c.serving(ctx); err != nil {
			return err
		}
		// A master ignores a failover asked by a replica it does not know
		// as its own yet: every node must know every pair.
		if err := c.agree(ctx); err != nil {
			return err
		}
		for _, n := range c.running() {
			info, err := n.admin.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			// A replica that never synced cannot take over.
			if strings.Contains(info, "role:slave") && !strings.Contains(info, "master_link_status:up") {
				return fmt.Errorf("replica %s is not in sync", n.addr)
			}
		}
		return nil
	})
	return c
}

// Addrs returns the address of every node started, killed ones included:
// the seeds a client is given.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.addr
	}
	return addrs
}

// Masters returns the addresses of the running nodes that are masters, by
// their own account (ROLE).
func (c *Cluster) Masters(tb testing.TB) []string {
	tb.Helper()
	return c.withRole(tb, "master")
}

// Replicas returns the addresses of the running nodes that are replicas,
// by their own account (ROLE).
func (c *Cluster) Replicas(tb testing.TB) []string {
	tb.Helper()
	return c.withRole(tb, "slave")
}

// ReplicaOf returns the address of a running replica of master.
func (c *Cluster) ReplicaOf(tb testing.TB, master string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for _, n := range c.running() {
		role, err := n.role(ctx)
		if err != nil {
			tb.Fatalf("redistest: ROLE of %s: %v", n.addr, err)
		}
		if len(role) >= 3 && role[0] == "slave" && net.JoinHostPort(fmt.Sprint(role[1]), fmt.Sprint(role[2])) == master {
			return n.addr
		}
	}
	tb.Fatalf("redistest: no running replica of %s; the masters are %v, the replicas %v", master, c.Masters(tb), c.Replicas(tb))
	return ""
}

// Failover runs CLUSTER FAILOVER on replica, the failover an operator runs
// before taking its master down: the master stops taking writes until the
// replica has caught up, then the replica takes over its slots. It returns
// once replica is a master, its old master its replica, and every running
// node's slot map names only running masters.
func (c *Cluster) Failover(tb testing.TB, replica string) {
	tb.Helper()
	n := c.node(tb, replica)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	role, err := n.role(ctx)
	if err != nil || len(role) < 3 || role[0] != "slave" {
		tb.Fatalf("redistest: %s is no replica: ROLE %v, %v", replica, role, err)
	}
	master := net.JoinHostPort(fmt.Sprint(role[1]), fmt.Sprint(role[2]))
	if err := n.admin.ClusterFailover(ctx).Err(); err != nil {
		tb.Fatalf("redistest: CLUSTER FAILOVER on %s: %v", replica, err)
	}
	c.poll(tb, replica+" to take over from "+master, func(ctx context.Context) error {
		for _, want := range []struct{ addr, role, master string }{{replica, "master", ""}, {master, "slave", replica}} {
			n := c.find(want.addr)
			if n == nil {
				continue // killed
			}
			role, err := n.role(ctx)
			if err != nil {
				return err
			}
			if role[0] != want.role || (want.master != "" && (len(role) < 3 || net.JoinHostPort(fmt.Sprint(role[1]), fmt.Sprint(role[2])) != want.master)) {
				return fmt.Errorf("%s is not yet the %s it will be: ROLE %v", want.addr, want.role, role)
			}
		}
		return c.serving(ctx)
	})
}

// Kill kills the node at addr with SIGKILL, as a crash or an OOM kill
// would, and returns once the process is gone. Its replica takes over
// after NodeTimeout and an election; WaitServing waits for that.
func (c *Cluster) Kill(tb testing.TB, addr string) {
	tb.Helper()
	n := c.node(tb, addr)
	if err := n.kill(); err != nil {
		tb.Fatalf("redistest: kill %s: %v", addr, err)
	}
}

// WaitServing returns once every running node says cluster_state:ok and
// its slot map gives every slot to a running master: after Kill, once a
// replica has taken over the killed master's slots, as far as the servers
// are concerned (a client still has to learn of it).
func (c *Cluster) WaitServing(tb testing.TB) {
	tb.Helper()
	c.poll(tb, "every slot to be served by a running master", c.serving)
}

// serving reports, as an error, why the running nodes do not agree on a
// cluster in which every slot is served by a running master (CLUSTER
// SHARDS, from each of them).
func (c *Cluster) serving(ctx context.Context) error {
	running := c.running()
	var masters []string
	for _, n := range running {
		role, err := n.role(ctx)
		if err != nil {
			return err
		}
		if role[0] == "master" {
			masters = append(masters, n.addr)
		}
	}
	for _, n := range running {
		info, err := n.admin.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: cluster_state is not ok", n.addr)
		}
		shards, err := n.admin.ClusterShards(ctx).Result()
		if err != nil {
			return err
		}
		covered := int64(0)
		for _, s := range shards {
			if len(s.Slots) == 0 {
				continue
			}
			i := slices.IndexFunc(s.Nodes, func(n redis.Node) bool { return n.Role == "master" })
			if i < 0 || !slices.Contains(masters, net.JoinHostPort(s.Nodes[i].IP, strconv.FormatInt(s.Nodes[i].Port, 10))) {
				return fmt.Errorf("%s: slots %v are not given to a running master", n.addr, s.Slots)
			}
			for _, r := range s.Slots {
				covered += r.End - r.Start + 1
			}
		}
		if covered != clusterSlots {
			return fmt.Errorf("%s: %d slots of %d covered", n.addr, covered, clusterSlots)
		}
	}
	return nil
}

// agree reports, as an error, why the running nodes' views of the cluster
// (CLUSTER NODES: each node's address, flags, master and slots) differ.
func (c *Cluster) agree(ctx context.Context) error {
	var first string
	for i, n := range c.running() {
		nodes, err := n.admin.ClusterNodes(ctx).Result()
		if err != nil {
			return err
		}
		var view []string
		for line := range strings.Lines(nodes) {
			f := strings.Fields(line)
			if len(f) < 8 {
				continue
			}
			flags := strings.TrimPrefix(strings.ReplaceAll(f[2], "myself,", ""), "myself")
			view = append(view, strings.Join(append([]string{f[0], f[1], flags, f[3]}, f[8:]...), " "))
		}
		slices.Sort(view)
		v := strings.Join(view, "\n")
		switch {
		case i == 0:
			first = v
		case v != first:
			return fmt.Errorf("%s sees the cluster as\n%s\nbut %s as\n%s", c.running()[0].addr, first, n.addr, v)
		}
	}
	return nil
}

// poll calls cond until it returns nil, every 10 ms, and fails the test if
// it does not within waitLimit.
func (c *Cluster) poll(tb testing.TB, what string, cond func(context.Context) error) {
	tb.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: waited %v for %s: %v", waitLimit, what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *Cluster) withRole(tb testing.TB, want string) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var addrs []string
	for _, n := range c.running() {
		role, err := n.role(ctx)
		if err != nil {
			tb.Fatalf("redistest: ROLE of %s: %v", n.addr, err)
		}
		if role[0] == want {
			addrs = append(addrs, n.addr)
		}
	}
	return addrs
}

// node returns the running node at addr.
func (c *Cluster) node(tb testing.TB, addr string) *node {
	tb.Helper()
	n := c.find(addr)
	if n == nil {
		tb.Fatalf("redistest: no running node at %s", addr)
	}
	return n
}

// find returns the running node at addr, or nil.
func (c *Cluster) find(addr string) *node {
	for _, n := range c.running() {
		if n.addr == addr {
			return n
		}
	}
	return nil
}

func (c *Cluster) running() []*node {
	var nodes []*node
	for _, n := range c.nodes {
		n.mu.Lock()
		if !n.killed {
			nodes = append(nodes, n)
		}
		n.mu.Unlock()
	}
	return nodes
}

// stop kills every node still running and, if the test failed, logs the
// end of each node's log.
func (c *Cluster) stop(tb testing.TB) {
	for _, n := range c.nodes {
		if err := n.kill(); err != nil {
			tb.Errorf("redistest: stop %s: %v", n.addr, err)
		}
	}
	if tb.Failed() {
		for _, n := range c.nodes {
			tb.Logf("redistest: the end of %s's log:\n%s", n.addr, tail(n.logFile, 20))
		}
	}
}

// startNode starts a cluster-enabled redis-server in dir on a free
// loopback port, and returns once it answers PING. A port taken between
// the probe and the bind makes the server exit, and other ports are tried.
func startNode(tb testing.TB, dir string, nodeTimeout time.Duration) *node {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	var err error
	for range 10 {
		var port, busPort int
		if port, busPort, err = freePorts(); err != nil {
			continue
		}
		var n *node
		if n, err = launch(dir, port, busPort, nodeTimeout); err == nil {
			return n
		}
	}
	tb.Fatalf("redistest: could not start redis-server: %v", err)
	return nil
}

// freePorts returns two loopback ports that were free a moment ago: the
// node's and its cluster bus's (given explicitly: the default, the port
// plus 10000, may be past 65535 or taken).
func freePorts() (int, int, error) {
	var ports [2]int
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, err
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports[0], ports[1], nil
}

func launch(dir string, port, busPort int, nodeTimeout time.Duration) (*node, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logFile := filepath.Join(dir, "redis.log")
	cmd := exec.Command("redis-server",
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--cluster-port", strconv.Itoa(busPort),
		"--dir", dir,
		"--logfile", logFile,
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
		// As deployed: a full Redis refuses writes rather than evict a
		// redeemed id, and a restarted master remembers them.
		"--maxmemory-policy", "noeviction",
		"--appendonly", "yes",
		"--save", "",
		// A replica syncs at once, not after the default 5 s.
		"--repl-diskless-sync-delay", "0",
	)
	cmd.Dir = dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &node{addr: addr, logFile: logFile, cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(n.exited)
	}()
	n.admin = redis.NewClient(&redis.Options{
		Addr:          addr,
		MaxRetries:    -1,
		DialerRetries: 1,
		DialTimeout:   time.Second,
		ReadTimeout:   2 * time.Second,
		WriteTimeout:  2 * time.Second,
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		// A plain dial first: go-redis logs every dial that fails.
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err = n.admin.Ping(ctx).Err()
			cancel()
			if err == nil {
				return n, nil
			}
		}
		select {
		case <-n.exited:
			_ = n.admin.Close()
			return nil, fmt.Errorf("redis-server on %s exited: %s", addr, tail(logFile, 5))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = n.kill()
			return nil, fmt.Errorf("redis-server on %s does not answer: %w", addr, err)
		}
	}
}

// kill sends SIGKILL to the node, unless it was killed already, and waits
// for the process to end.
func (n *node) kill() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.killed {
		return nil
	}
	n.killed = true
	err := n.cmd.Process.Kill()
	if errors.Is(err, os.ErrProcessDone) {
		err = nil
	}
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		err = errors.Join(err, errors.New("still running 10 s after SIGKILL"))
	}
	return errors.Join(err, n.admin.Close())
}

// role returns the node's answer to ROLE: "master" or "slave" first, and
// for a replica its master's host and port.
func (n *node) role(ctx context.Context) ([]any, error) {
	role, err := n.admin.Do(ctx, "role").Slice()
	if err == nil && len(role) == 0 {
		err = errors.New("empty ROLE reply")
	}
	return role, err
}

// tail returns the last lines of the file at path, or why it cannot.
func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}
