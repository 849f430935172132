package redistest_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ssokit/ssokit/internal/redistest"
)

// TestMain fails the run if a test leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSharedCluster(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		want []string // nil: the test is skipped
	}{
		{"one address", "127.0.0.1:7000", []string{"127.0.0.1:7000"}},
		{"several, spaced, a trailing comma", " 127.0.0.1:7000, 127.0.0.1:7001 ,", []string{"127.0.0.1:7000", "127.0.0.1:7001"}},
		{"unset: skipped", "", nil},
		{"only commas: skipped", ",,", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(redistest.EnvClusterAddrs, tc.env)
			if tc.want == nil {
				defer func() { assert.True(t, t.Skipped(), "no address: the test is skipped") }()
			}
			assert.Equal(t, tc.want, redistest.SharedCluster(t))
		})
	}
}

// TestStartCluster promotes a replica, kills it, and sees its old master
// take its slots back; once the test is over, no node listens any more.
func TestStartCluster(t *testing.T) {
	var addrs []string
	t.Run("cluster", func(t *testing.T) {
		c := redistest.StartCluster(t, redistest.ClusterConfig{})
		addrs = c.Addrs()
		require.Len(t, addrs, 6)
		masters := c.Masters(t)
		require.Len(t, masters, 3)
		require.Len(t, c.Replicas(t), 3)

		replica := c.ReplicaOf(t, masters[0])
		c.Failover(t, replica)
		assert.Contains(t, c.Masters(t), replica)
		assert.Equal(t, masters[0], c.ReplicaOf(t, replica), "the old master follows the new one")

		c.Kill(t, replica)
		c.WaitServing(t)
		assert.ElementsMatch(t, masters, c.Masters(t), "the old master took its slots back")
		assert.Len(t, c.Replicas(t), 2)
	})
	if len(addrs) == 0 {
		t.Skip("the cluster did not start: see the subtest")
	}
	for _, a := range addrs {
		conn, err := net.DialTimeout("tcp", a, time.Second)
		if err == nil {
			_ = conn.Close()
		}
		assert.Error(t, err, "%s still listens after the test", a)
	}
}
