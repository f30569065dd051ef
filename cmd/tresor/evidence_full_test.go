package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
)

// The adapter hands a full vault disk to the workflow as
// incident.ErrStorageFull (the web answers 507), with the system's ENOSPC
// kept for the log, and nothing left in the vault. Root only: the disk
// is a real 2 MiB tmpfs.
func TestEvidenceVaultStorageFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	b, err := vault.NewFSBackend(filepath.Join(dir, "vault"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(b, []vault.Recipient{id.Recipient()}, []string{id.Recipient().String()}, vault.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("evidence"), 512<<10) // 4 MiB
	_, err = evidencevault.New(v).Seal(context.Background(), "0123456789abcdef0123456789abcdef",
		incident.Manifest{IncidentID: "i1", Category: "threat", CapturedAt: time.Now()},
		[]incident.Part{{Name: "upload.png", MediaType: "image/png", Size: int64(len(content)), Content: bytes.NewReader(content)}})
	if !errors.Is(err, incident.ErrStorageFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("seal of 4 MiB on a 2 MiB disk: %v, want ErrStorageFull with ENOSPC", err)
	}
	filepath.WalkDir(filepath.Join(dir, "vault"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left in the vault: %s", path)
		}
		return nil
	})
}
