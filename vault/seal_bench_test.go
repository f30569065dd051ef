package vault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault"
)

// BenchmarkSeal seals a 64 MiB part into a filesystem vault (with its
// fsyncs), once with the hash declared (one pass) and once with a seekable
// source whose hash Seal must learn first (two passes).
func BenchmarkSeal(b *testing.B) {
	data := make([]byte, 64<<20)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(data)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	fsb, err := vault.NewFSBackend(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	v, err := vault.New(fsb, []vault.Recipient{id.Recipient()}, []string{id.Recipient().String()})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		hash string
	}{{"declared", hex.EncodeToString(sum[:])}, {"two-pass", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			ctx := context.Background()
			for b.Loop() {
				rc, err := v.Seal(ctx, vault.Manifest{IncidentID: "bench"},
					vault.Part{Name: "p.bin", Size: int64(len(data)), SHA256: bc.hash, R: bytes.NewReader(data)})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Destroy(ctx, rc.BundleID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
