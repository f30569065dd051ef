//go:build !unix

package vault

import "os"

// lockFile is a no-op where flock is not available: Sweep must then only
// run while no writer is active.
func lockFile(f *os.File, wait bool) (bool, error) { return true, nil }
