package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tresor-evidence/tresor/web"
)

// initialPasswordFile is the file in the data folder that holds the first
// admin's password after the first `tresor serve` (see firstRun).
const initialPasswordFile = "initial-admin-password"

// initialPasswordCheck tells the web pages where the first admin's
// password file lies and whether it is still there, so that admins are
// reminded to delete it. The path is made absolute once, so that the
// reminder names the file whatever the service's working directory.
func initialPasswordCheck(dataDir string) web.InitialPasswordCheck {
	path := filepath.Join(dataDir, initialPasswordFile)
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return func() (string, bool, error) {
		_, err := os.Lstat(path)
		switch {
		case err == nil:
			return path, true, nil
		case errors.Is(err, fs.ErrNotExist):
			return path, false, nil
		}
		return path, false, fmt.Errorf("failed to look for the initial admin password file: %w", err)
	}
}
