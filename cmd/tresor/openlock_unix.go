//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockOpenDir keeps a second `vault open` out of dir while this one
// writes there, so that its start-up clean-up never removes the parts of
// a run still at work. The lock file holds nothing and stays.
func lockOpenDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".tresor-open.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to lock output directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("another 'vault open' is writing into %s: wait for it, or choose another -o DIR", dir)
		}
		return nil, fmt.Errorf("failed to lock output directory: %w", err)
	}
	return func() { _ = f.Close() }, nil
}
