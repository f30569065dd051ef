//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openLockName is the lock file of a `vault open` at work in a folder.
const openLockName = ".tresor-open.lock"

// lockOpenDir keeps a second `vault open` out of dir while this one
// writes there, so that its start-up clean-up never removes the parts of
// a run still at work. unlock removes the lock file, so that the folder
// holds only what was opened.
//
// Removing a lock file races with a run that opened it just before: that
// run would hold a lock on a file no longer in the folder while a third
// creates a new one. So a lock only counts once the locked file is still
// the one the folder names; otherwise it is taken again.
func lockOpenDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, openLockName)
	for range 100 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
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
		held, herr := f.Stat()
		named, nerr := os.Stat(path)
		if herr == nil && nerr == nil && os.SameFile(held, named) {
			return func() {
				_ = os.Remove(path) // still locked: nobody can hold this file
				_ = f.Close()
			}, nil
		}
		_ = f.Close() // the run before removed it: take the new one
		if herr != nil {
			return nil, fmt.Errorf("failed to lock output directory: %w", herr)
		}
		if nerr != nil && !errors.Is(nerr, os.ErrNotExist) {
			return nil, fmt.Errorf("failed to lock output directory: %w", nerr)
		}
	}
	return nil, fmt.Errorf("failed to lock output directory %s: its lock file keeps changing", dir)
}
