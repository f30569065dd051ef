package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The database holds account hashes, sealed captures and the audit log:
// its files are the owner's alone, including the WAL and shared-memory
// files SQLite creates next to it, and a file someone loosened is
// narrowed again on the next start.
func TestSQLiteFilesArePrivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "tresor.db")
	open := func() *Store {
		s, err := Open(ctx, "sqlite:"+path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(when string) {
		t.Helper()
		for _, name := range []string{"tresor.db", "tresor.db-wal", "tresor.db-shm"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if mode := fi.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s: %s has mode %o, want 600", when, name, mode)
			}
		}
	}
	s := open()
	check("fresh database")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tresor.db", "tresor.db-wal", "tresor.db-shm"} {
		if err := os.Chmod(filepath.Join(dir, name), 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	s = open()
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, "tresor.db-wal")); err != nil {
		t.Fatalf("no WAL after reopening: %v", err)
	}
	check("reopened after someone loosened the files")
}
