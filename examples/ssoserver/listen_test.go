package main

import (
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPortInUseNamesTheFlag: an address that cannot be bound is named by
// its flag and its environment variable, and nothing stays bound.
func TestPortInUseNamesTheFlag(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	addr := taken.Addr().String()

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-addr", addr}, "-addr (SSO_ADDR) " + addr + ": listen tcp " + addr + ": bind: address already in use"},
		{[]string{"-addr", "127.0.0.1:0", "-portal-addr", addr}, "-portal-addr (SSO_PORTAL_ADDR) " + addr + ": listen tcp " + addr + ": bind: address already in use (or -demo=false)"},
		{[]string{"-addr", "127.0.0.1:0", "-debug-addr", addr}, "-debug-addr (SSO_DEBUG_ADDR) " + addr + ": listen tcp " + addr + ": bind: address already in use"},
	} {
		o, err := parseOptions(tt.args, env(nil), io.Discard)
		require.NoError(t, err)
		_, err = listen(o)
		require.Error(t, err)
		assert.Equal(t, tt.want, err.Error())
	}

	ssoserver, _ := binaries(t)
	out, err := exec.Command(ssoserver, "-addr", addr).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), "\nssoserver: -addr (SSO_ADDR) "+addr+": listen tcp "+addr+": bind: address already in use\n")
	assert.True(t, strings.HasPrefix(string(out), "time="), "after the first log line: %s", out)
}
