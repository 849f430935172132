package leaktest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWaitSeesLeakedGoroutineUntilItEnds(t *testing.T) {
	stop := make(chan struct{})
	go func() { <-stop }()

	leaked := wait(50 * time.Millisecond)
	assert.True(t, strings.Contains(leaked, "TestWaitSeesLeakedGoroutineUntilItEnds"), leaked)

	close(stop)
	assert.Empty(t, wait(5*time.Second))
}
