//go:build !unix

package heavylock

import "io"

// Lock is a no-op where flock is missing: do not start two heavy runs at
// once.
func Lock(string, io.Writer) (unlock func(), err error) { return func() {}, nil }
