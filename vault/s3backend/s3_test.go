package s3backend_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/s3backend"
	"github.com/tresor-evidence/tresor/vault/vaulttest"
)

// newServer starts gofakes3 in-process with a versioned bucket.
func newServer(t *testing.T) s3backend.Config {
	t.Helper()
	faker := gofakes3.New(s3mem.New())
	srv := httptest.NewServer(faker.Server())
	t.Cleanup(srv.Close)
	cfg := s3backend.Config{
		Endpoint: strings.TrimPrefix(srv.URL, "http://"), Bucket: "evidence", Region: "us-east-1",
		AccessKey: "test", SecretKey: "test", Prefix: "tresor/", TempDir: t.TempDir(), PartSize: 5 << 20,
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4("test", "test", ""), Region: cfg.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
		t.Fatal(err)
	}
	if err := c.EnableVersioning(ctx, cfg.Bucket); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestS3Backend(t *testing.T) {
	vaulttest.TestBackend(t, func(t *testing.T) vault.Backend {
		b, err := s3backend.New(context.Background(), newServer(t))
		if err != nil {
			t.Fatal(err)
		}
		if b.ObjectLock() {
			t.Fatal("gofakes3 unexpectedly reports Object Lock")
		}
		return b
	})
}

func TestS3DeleteRemovesAllVersions(t *testing.T) {
	cfg := newServer(t)
	ctx := context.Background()
	b, err := s3backend.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const id = "0123456789abcdef0123456789abcdef"
	for i, data := range []string{"first", "second"} {
		var w vault.BlobWriter
		if i == 0 {
			w, err = b.Create(ctx, id)
		} else {
			w, err = b.Replace(ctx, id)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Leave an extra old version behind, as a crash between upload and
	// cleanup would.
	c, _ := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4("test", "test", ""), Region: cfg.Region, BucketLookup: minio.BucketLookupPath})
	if _, err := c.PutObject(ctx, cfg.Bucket, "tresor/01/"+id+".age", strings.NewReader("third"), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := b.Delete(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.VersionsRemoved != 2 {
		t.Errorf("VersionsRemoved = %d, want 2", info.VersionsRemoved)
	}
	n := 0
	for obj := range c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: "tresor/", Recursive: true, WithVersions: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		n++
	}
	if n != 0 {
		t.Errorf("%d versions left after Delete", n)
	}
}

// TestS3RetentionNeedsObjectLock: gofakes3 has no Object Lock, so asking
// for retention must fail loudly instead of storing unprotected objects.
func TestS3RetentionNeedsObjectLock(t *testing.T) {
	cfg := newServer(t)
	cfg.RetainFor = 24 * time.Hour
	if _, err := s3backend.New(context.Background(), cfg); err == nil {
		t.Fatal("New with RetainFor on a bucket without Object Lock succeeded")
	}
}
