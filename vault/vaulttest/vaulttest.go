// Package vaulttest provides a conformance test for vault.Backend
// implementations.
package vaulttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault"
)

// TestBackend checks that the backends returned by newBackend (a fresh,
// empty one per call) meet the vault.Backend contract, and that a Vault
// seals, verifies, opens and destroys bundles on them.
func TestBackend(t *testing.T, newBackend func(t *testing.T) vault.Backend) {
	ctx := context.Background()
	const id1 = "0123456789abcdef0123456789abcdef"
	const id2 = "fedcba9876543210fedcba9876543210"

	t.Run("CommitOpenStatList", func(t *testing.T) {
		b := newBackend(t)
		data := bytes.Repeat([]byte("ciphertext"), 100000)
		put(t, b, id1, data)
		got := get(t, b, id1)
		if !bytes.Equal(got, data) {
			t.Fatalf("Open returned %d bytes, want %d", len(got), len(data))
		}
		info, err := b.Stat(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(data)) {
			t.Errorf("Stat size = %d, want %d", info.Size, len(data))
		}
		if ids := list(t, b); !slices.Equal(ids, []string{id1}) {
			t.Errorf("List = %v, want [%s]", ids, id1)
		}
	})

	t.Run("UncommittedInvisible", func(t *testing.T) {
		b := newBackend(t)
		w, err := b.Create(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("half a bundle")); err != nil {
			t.Fatal(err)
		}
		checkAbsent(t, b, id1)
		// A sweep must not disturb a writer still running.
		if _, err := b.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(" and the rest")); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatalf("Commit after Sweep: %v", err)
		}
		if got := get(t, b, id1); string(got) != "half a bundle and the rest" {
			t.Errorf("Open = %q", got)
		}
	})

	t.Run("Abort", func(t *testing.T) {
		b := newBackend(t)
		w, err := b.Create(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		checkAbsent(t, b, id1)
		if n, err := b.Sweep(ctx); err != nil || n != 0 {
			t.Errorf("Sweep after Abort = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("WriteOnce", func(t *testing.T) {
		b := newBackend(t)
		put(t, b, id1, []byte("first"))
		w, err := b.Create(ctx, id1)
		if err == nil {
			if _, err := w.Write([]byte("second")); err != nil {
				t.Fatal(err)
			}
			err = w.Commit(ctx)
		}
		if !errors.Is(err, vault.ErrExists) {
			t.Fatalf("second Create/Commit: %v, want ErrExists", err)
		}
		if got := get(t, b, id1); string(got) != "first" {
			t.Errorf("blob = %q after refused overwrite", got)
		}
	})

	t.Run("Replace", func(t *testing.T) {
		b := newBackend(t)
		put(t, b, id1, []byte("first"))
		w, err := b.Replace(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("second")); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if got := get(t, b, id1); string(got) != "second" {
			t.Errorf("blob = %q after Replace", got)
		}
		w, err = b.Replace(ctx, id2)
		if err == nil {
			if _, err := w.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			err = w.Commit(ctx)
		}
		if !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("Replace of missing blob: %v, want ErrNotFound", err)
		}
		checkAbsent(t, b, id2)
	})

	t.Run("Delete", func(t *testing.T) {
		b := newBackend(t)
		put(t, b, id1, []byte("first"))
		put(t, b, id2, []byte("other"))
		info, err := b.Delete(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if info.VersionsRemoved < 1 {
			t.Errorf("VersionsRemoved = %d", info.VersionsRemoved)
		}
		checkAbsent(t, b, id1)
		if _, err := b.Delete(ctx, id1); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("second Delete: %v, want ErrNotFound", err)
		}
		if got := get(t, b, id2); string(got) != "other" {
			t.Errorf("other blob = %q", got)
		}
	})

	t.Run("InvalidID", func(t *testing.T) {
		b := newBackend(t)
		for _, id := range []string{"", "../../etc/passwd", "0123456789ABCDEF0123", "short", strings.Repeat("a", 65), "0123456789abcdef/x"} {
			if _, err := b.Create(ctx, id); !errors.Is(err, vault.ErrInvalidID) {
				t.Errorf("Create(%q): %v, want ErrInvalidID", id, err)
			}
			if _, err := b.Open(ctx, id); !errors.Is(err, vault.ErrInvalidID) {
				t.Errorf("Open(%q): %v, want ErrInvalidID", id, err)
			}
			if _, err := b.Stat(ctx, id); !errors.Is(err, vault.ErrInvalidID) {
				t.Errorf("Stat(%q): %v, want ErrInvalidID", id, err)
			}
			if _, err := b.Delete(ctx, id); !errors.Is(err, vault.ErrInvalidID) {
				t.Errorf("Delete(%q): %v, want ErrInvalidID", id, err)
			}
		}
	})

	t.Run("Vault", func(t *testing.T) {
		b := newBackend(t)
		idt, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		recs, fps, err := vault.ParseRecipients([]string{idt.Recipient().String()})
		if err != nil {
			t.Fatal(err)
		}
		v, err := vault.New(b, recs, fps, vault.WithTempDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		content := bytes.Repeat([]byte{1, 2, 3}, 100000)
		rc, err := v.Seal(ctx, vault.Manifest{IncidentID: "inc-1"},
			vault.Part{Name: "photo.jpg", MediaType: "image/jpeg", Size: -1, R: bytes.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, rc.BundleID, &rc); err != nil {
			t.Errorf("Verify: %v", err)
		}
		if _, err := v.VerifyWithIdentity(ctx, rc.BundleID, []vault.Identity{idt}, &rc); err != nil {
			t.Errorf("VerifyWithIdentity: %v", err)
		}
		var got []byte
		_, err = v.Open(ctx, rc.BundleID, []vault.Identity{idt}, func(p vault.PartInfo, r io.Reader) error {
			got, err = io.ReadAll(r)
			return err
		})
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("Open: %v, %d bytes", err, len(got))
		}
		cert, err := v.Destroy(ctx, rc.BundleID)
		if err != nil {
			t.Fatal(err)
		}
		if cert.CiphertextSHA256 != rc.CiphertextSHA256 || cert.CiphertextSize != rc.CiphertextSize {
			t.Errorf("certificate %+v does not match receipt %+v", cert, rc)
		}
		checkAbsent(t, b, rc.BundleID)
	})
}

func put(t *testing.T, b vault.Backend, id string, data []byte) {
	t.Helper()
	ctx := context.Background()
	w, err := b.Create(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := min(len(data), 7777)
		if _, err := w.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, b vault.Backend, id string) []byte {
	t.Helper()
	rc, err := b.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func list(t *testing.T, b vault.Backend) []string {
	t.Helper()
	var ids []string
	if err := b.List(context.Background(), func(id string) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func checkAbsent(t *testing.T, b vault.Backend, id string) {
	t.Helper()
	ctx := context.Background()
	if _, err := b.Stat(ctx, id); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Stat(%s): %v, want ErrNotFound", id, err)
	}
	if rc, err := b.Open(ctx, id); !errors.Is(err, vault.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Open(%s): %v, want ErrNotFound", id, err)
	}
	if slices.Contains(list(t, b), id) {
		t.Errorf("List contains %s", id)
	}
}
