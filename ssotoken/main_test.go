package ssotoken

import (
	"testing"

	"github.com/ssokit/ssokit/internal/leaktest"
)

// TestMain fails the run if the tests leave a goroutine behind.
func TestMain(m *testing.M) { leaktest.Main(m) }
