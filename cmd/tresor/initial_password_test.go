package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInitialPasswordCheck: the check names the file firstRun writes, by
// its absolute path, and follows whether it exists.
func TestInitialPasswordCheck(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("tresor-data", 0o700); err != nil {
		t.Fatal(err)
	}
	check := initialPasswordCheck("tresor-data")
	want := filepath.Join(dir, "tresor-data", "initial-admin-password")
	path, exists, err := check()
	if err != nil || exists || path != want {
		t.Fatalf("before the file: %q %v %v, want %q false nil", path, exists, err, want)
	}
	if err := os.WriteFile(want, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if path, exists, err = check(); err != nil || !exists || path != want {
		t.Fatalf("with the file: %q %v %v", path, exists, err)
	}
	if err := os.Remove(want); err != nil {
		t.Fatal(err)
	}
	if _, exists, err = check(); err != nil || exists {
		t.Fatalf("after deleting: %v %v", exists, err)
	}
}
