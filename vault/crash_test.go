package vault_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault"
)

// crashBackend exits the process when a bundle is about to be published:
// after all of its ciphertext was written, before the rename.
type crashBackend struct{ vault.Backend }

func (b crashBackend) Create(ctx context.Context, id string) (vault.BlobWriter, error) {
	w, err := b.Backend.Create(ctx, id)
	return crashWriter{w}, err
}

type crashWriter struct{ vault.BlobWriter }

func (crashWriter) Commit(context.Context) error {
	os.Exit(3)
	return nil
}

// TestCrashHelper is the child process of TestCrashBeforeRename.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("TRESOR_VAULT_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	b, err := vault.NewFSBackend(dir)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	v, err := vault.New(crashBackend{b}, []vault.Recipient{id.Recipient()}, []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Seal(context.Background(), vault.Manifest{}, vault.Part{Name: "a", Size: 1 << 20, R: bytes.NewReader(make([]byte, 1<<20))})
	t.Fatalf("Seal returned %v instead of crashing", err)
}

func TestCrashBeforeRename(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, mustFS(t, dir))
	ctx := context.Background()
	kept, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: 1, R: strings.NewReader("a")})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), "TRESOR_VAULT_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	temps, _ := filepath.Glob(filepath.Join(dir, "*", ".tmp-*"))
	if len(temps) != 1 {
		t.Fatalf("want the crashed write's temporary file, found %v", temps)
	}
	if fi, err := os.Stat(temps[0]); err != nil || fi.Size() < 1<<20 {
		t.Fatalf("temporary file: %v", err)
	}
	// Never visible.
	b := mustFSNoSweep(dir)
	var ids []string
	if err := b.List(ctx, func(id string) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != kept.BundleID {
		t.Errorf("List after crash = %v", ids)
	}
	// The next start (NewFSBackend) sweeps it; a second Sweep finds nothing.
	b2 := mustFS(t, dir)
	if temps, _ := filepath.Glob(filepath.Join(dir, "*", ".tmp-*")); len(temps) != 0 {
		t.Errorf("leftovers after restart: %v", temps)
	}
	if n, err := b2.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("Sweep = %d, %v", n, err)
	}
	if _, err := f.v.VerifyWithIdentity(ctx, kept.BundleID, f.ids, &kept); err != nil {
		t.Errorf("earlier bundle: %v", err)
	}
}

func TestSweepCountsLeftovers(t *testing.T) {
	dir := t.TempDir()
	b := mustFS(t, dir)
	w, err := b.Create(context.Background(), "0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	// A leftover of another, dead process (no lock held).
	if err := os.WriteFile(filepath.Join(dir, "01", ".tmp-dead"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := b.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Errorf("Sweep = %d, %v; want 1 (the live writer is kept)", n, err)
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(context.Background()); err != nil {
		t.Fatalf("live writer after Sweep: %v", err)
	}
}

func mustFS(t *testing.T, dir string) *vault.FSBackend {
	t.Helper()
	b, err := vault.NewFSBackend(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustFSNoSweep returns a backend on dir without the sweep NewFSBackend
// does, to observe leftovers.
func mustFSNoSweep(dir string) *vault.FSBackend { return vault.OpenFSBackendNoSweep(dir) }
