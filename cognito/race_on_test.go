//go:build race

package cognito

// raceEnabled: the race detector is on. sync.Pool then drops a quarter of
// what is put back, on purpose, so a test may not count on a pooled
// buffer's reuse.
const raceEnabled = true
