package s3backend_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/s3backend"
	"github.com/tresor-evidence/tresor/vault/s3backend/versitytest"
	"github.com/tresor-evidence/tresor/vault/vaulttest"
)

// startVersity runs versitygw on a free loopback port with a bucket that
// has Object Lock (and so versioning) enabled.
func startVersity(t *testing.T) s3backend.Config {
	t.Helper()
	s := versitytest.Start(t)
	return s3backend.Config{Endpoint: s.Endpoint, Bucket: s.Bucket, Region: s.Region, AccessKey: s.AccessKey, SecretKey: s.SecretKey,
		Prefix: "tresor/", TempDir: t.TempDir(), PartSize: 5 << 20, PathStyle: true}
}

// TestVersityBackend runs the backend conformance suite against a real S3
// server (no retention, so destroy works).
func TestVersityBackend(t *testing.T) {
	vaulttest.TestBackend(t, func(t *testing.T) vault.Backend {
		b, err := s3backend.New(context.Background(), startVersity(t))
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// TestObjectLockRetention proves on a real server that a bundle under
// COMPLIANCE retention can be neither destroyed nor overwritten, and
// stays readable.
func TestObjectLockRetention(t *testing.T) {
	cfg := startVersity(t)
	cfg.RetainFor, cfg.Mode = time.Hour, "COMPLIANCE"
	ctx := context.Background()
	b, err := s3backend.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !b.ObjectLock() {
		t.Fatal("the bucket has Object Lock, but the backend does not use it")
	}
	const id = "0123456789abcdef0123456789abcdef"
	w, err := b.Create(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "ciphertext under retention"); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Delete(ctx, id); !errors.Is(err, vault.ErrRetention) {
		t.Fatalf("Delete under retention = %v, want ErrRetention", err)
	}
	if w, err := b.Replace(ctx, id); err == nil {
		if _, err := io.WriteString(w, "overwritten"); err != nil {
			t.Fatal(err)
		}
		err = w.Commit(ctx)
		if err == nil {
			// A new version may be written; the locked one must survive.
			t.Log("server accepted a new version; checking the locked one survives")
		}
	}
	r, err := b.Open(ctx, id)
	if err != nil {
		t.Fatalf("bundle unreadable after refused delete: %v", err)
	}
	got, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if s := string(got); s != "ciphertext under retention" && s != "overwritten" {
		t.Fatalf("read %q", s)
	}
	// Every version ever written is still stored.
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Region: cfg.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for obj := range c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true, Prefix: cfg.Prefix}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		versions = append(versions, fmt.Sprintf("%s@%s", obj.Key, obj.VersionID))
	}
	if len(versions) == 0 {
		t.Fatal("no stored versions left")
	}
}

// TestObjectLockPerObject: with ObjectLock, each object is retained until
// the time its context carries (the bundle's category decides it), and an
// object whose context carries none gets no retention when RetainFor is 0.
func TestObjectLockPerObject(t *testing.T) {
	cfg := startVersity(t)
	cfg.ObjectLock, cfg.Mode = true, "GOVERNANCE"
	ctx := context.Background()
	b, err := s3backend.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Region: cfg.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	for id, wctx := range map[string]context.Context{
		"0123456789abcdef0123456789abcdef": s3backend.WithRetainUntil(ctx, until),
		"fedcba9876543210fedcba9876543210": ctx,
	} {
		w, err := b.Create(wctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, "ciphertext"); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		info, err := c.StatObject(ctx, cfg.Bucket, cfg.Prefix+id[:2]+"/"+id+".age", minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mode, got := info.Metadata.Get("X-Amz-Object-Lock-Mode"), info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date")
		if wctx == ctx {
			if mode != "" || got != "" {
				t.Errorf("%s without a retention: mode %q until %q", id, mode, got)
			}
			continue
		}
		if tm, err := time.Parse(time.RFC3339, got); mode != "GOVERNANCE" || err != nil || !tm.Equal(until) {
			t.Errorf("%s: mode %q until %q, want GOVERNANCE until %s", id, mode, got, until.Format(time.RFC3339))
		}
		if _, err := b.Delete(ctx, id); !errors.Is(err, vault.ErrRetention) {
			t.Errorf("Delete under retention = %v, want ErrRetention", err)
		}
	}
}
