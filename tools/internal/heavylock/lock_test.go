//go:build unix

package heavylock

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A second Lock waits for the first to be released, and says who waits.
func TestLockWaits(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	assert.Equal(t, filepath.Join(os.Getenv("TMPDIR"), "ssokit-heavy-run.lock"), Path())
	unlock, err := Lock("first", &bytes.Buffer{})
	require.NoError(t, err)

	var stderr syncBuffer
	got := make(chan time.Time, 1)
	go func() {
		unlock2, err := Lock("second", &stderr)
		assert.NoError(t, err)
		got <- time.Now()
		unlock2()
	}()
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "second: another heavy run") }, 5*time.Second, 10*time.Millisecond)
	released := time.Now()
	unlock()
	select {
	case at := <-got:
		assert.False(t, at.Before(released), "the second Lock returned before the first was released")
	case <-time.After(5 * time.Second):
		t.Fatal("the second Lock never returned")
	}
}

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
