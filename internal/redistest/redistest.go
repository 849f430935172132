// Package redistest gives this module's tests real Redis servers: the
// shared Redis Cluster that .ci/run starts (SharedCluster), and clusters of
// their own that a test may fail over and kill (StartCluster).
//
//	addrs := redistest.SharedCluster(t) // skips unless SSOKIT_REDIS_CLUSTER_ADDRS is set
//	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
//
//	c := redistest.StartCluster(t, redistest.ClusterConfig{}) // skips unless SSOKIT_REDIS_FAILOVER=1
//	c.Failover(t, c.Replicas(t)[0])
//	c.Kill(t, c.Masters(t)[0])
//	c.WaitServing(t)
//
// It is for tests only: it skips or fails the test it is given.
package redistest

import (
	"os"
	"strings"
	"testing"
)

// The environment variables the tests read; .ci/run sets all three.
const (
	// EnvClusterAddrs holds the addresses of the shared Redis Cluster,
	// comma separated (any node will do; every one is given).
	EnvClusterAddrs = "SSOKIT_REDIS_CLUSTER_ADDRS"
	// EnvFailover, set to "1", lets StartCluster start clusters.
	EnvFailover = "SSOKIT_REDIS_FAILOVER"
)

// SharedCluster returns the addresses of the shared Redis Cluster, from
// SSOKIT_REDIS_CLUSTER_ADDRS, or skips the test when it is not set. The
// cluster is shared by every test and run: give keys a prefix of their own.
func SharedCluster(tb testing.TB) []string {
	tb.Helper()
	var addrs []string
	for a := range strings.SplitSeq(os.Getenv(EnvClusterAddrs), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		tb.Skip("Redis Cluster tests need a cluster: set " + EnvClusterAddrs + "=host:port,host:port,... " +
			"(.ci/redis-cluster start DIR prints them), or run .ci/run, which starts one")
	}
	return addrs
}
