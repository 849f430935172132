package ssotokentest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if the tests leave a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
