// Package heavylock is the machine-wide lock of the tools' heavy runs
// (mutation, benchbuilds): a flock on one file in the temporary directory.
// Two such runs at once share the cores: a mutation run's slow tests turn
// into false timeouts, and a benchmark measures the other run. Whichever
// starts second waits.
package heavylock
