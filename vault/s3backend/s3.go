// Package s3backend stores vault bundles in S3-compatible object storage
// (AWS S3, MinIO, versitygw, …) through minio-go.
//
// Objects are named PREFIX/ab/abcdef….age. A bundle is uploaded only once
// its ciphertext is complete: the writer spools the ciphertext (never
// plaintext) to an unlinked local temporary file while hashing it, then
// Commit uploads it in one PutObject with an x-amz-checksum-sha256 header
// (bundles up to 5 GiB; larger ones go up in parts without it) and the
// SHA-256 as user metadata, so the object becomes visible complete or not
// at all.
//
// If Config.ObjectLock or Config.RetainFor is set, New requires the bucket
// to have Object Lock enabled (and fails otherwise, rather than silently
// storing unprotected evidence). Every object is then written with a
// retention (Config.Mode, default GOVERNANCE) until the time the context
// passed to Create or Replace carries (WithRetainUntil: the caller knows
// the bundle's category and so its retention), or else for
// Config.RetainFor; Delete then fails with vault.ErrRetention until it
// ends.
// Delete removes every version of the object (and delete markers).
//
// Tested against gofakes3 v1.2.0 (in-process, s3mem backend), which
// supports versioning but NOT Object Lock: retention and ErrRetention are
// therefore untested here and must be checked against a real server with
// Object Lock (e.g. MinIO or versitygw on loopback) before relying on them.
// gofakes3 also does not verify x-amz-checksum-sha256.
package s3backend

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/tresor-evidence/tresor/vault"
)

// Config locates the bucket.
type Config struct {
	Endpoint  string // host:port
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	UseTLS    bool
	// Prefix is prepended to object names ("tresor/" → tresor/ab/ab….age).
	Prefix string
	// RetainFor is the Object Lock retention of new objects; the bucket
	// must have Object Lock enabled. Zero for none.
	RetainFor time.Duration
	// ObjectLock requires the bucket to have Object Lock enabled and
	// writes each object with the retention its context carries
	// (WithRetainUntil); objects whose context carries none get RetainFor.
	ObjectLock bool
	// PathStyle addresses the bucket as ENDPOINT/BUCKET (MinIO,
	// versitygw); otherwise minio-go picks (virtual-hosted on AWS).
	PathStyle bool
	// Mode is "GOVERNANCE" (default) or "COMPLIANCE".
	Mode string
	// TempDir holds the ciphertext spool (default os.TempDir()).
	TempDir string
	// PartSize is the multipart part size (default 64 MiB).
	PartSize uint64
	// NoChecksum disables x-amz-checksum-sha256, for servers that do not
	// understand the streaming upload minio-go then uses (gofakes3).
	NoChecksum bool
}

// maxSinglePut is S3's limit for one PUT; larger bundles are uploaded in
// parts, without x-amz-checksum-sha256 (the SHA-256 is still recorded as
// user metadata and in the receipt).
const maxSinglePut = 5 << 30

// Backend is a vault.Backend on an S3 bucket.
type Backend struct {
	c          *minio.Client
	cfg        Config
	objectLock bool
	now        func() time.Time
}

var _ vault.Backend = (*Backend)(nil)

// New connects to the bucket, which must exist, and checks whether it has
// Object Lock enabled.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.UseTLS,
		Region:       cfg.Region,
		BucketLookup: lookup,
		// Needed by minio-go to send x-amz-checksum-sha256.
		TrailingHeaders: !cfg.NoChecksum,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create S3 client: %w", err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("failed to check bucket %q: %w", cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("bucket %q does not exist", cfg.Bucket)
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = "GOVERNANCE"
	case "GOVERNANCE", "COMPLIANCE":
	default:
		return nil, fmt.Errorf("invalid retention mode %q", cfg.Mode)
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 64 << 20
	}
	b := &Backend{c: c, cfg: cfg, now: time.Now}
	if cfg.RetainFor > 0 || cfg.ObjectLock {
		lock, _, _, _, err := c.GetObjectLockConfig(ctx, cfg.Bucket)
		if err != nil {
			return nil, fmt.Errorf("failed to read Object Lock configuration of bucket %q (needed for retention): %w", cfg.Bucket, err)
		}
		if lock != "Enabled" {
			return nil, fmt.Errorf("bucket %q has no Object Lock enabled, but retention is asked for: create the bucket with Object Lock, or drop object_lock", cfg.Bucket)
		}
		b.objectLock = true
	}
	return b, nil
}

// ObjectLock reports whether new objects get an Object Lock retention.
func (b *Backend) ObjectLock() bool { return b.objectLock }

// Location implements vault.Backend.
func (b *Backend) Location() string {
	scheme := "s3"
	return fmt.Sprintf("%s://%s/%s/%s", scheme, b.cfg.Endpoint, b.cfg.Bucket, strings.TrimSuffix(b.cfg.Prefix, "/"))
}

func (b *Backend) key(id string) string {
	return b.cfg.Prefix + id[:2] + "/" + id + ".age"
}

func checkID(id string) error {
	if !vault.ValidID(id) {
		return fmt.Errorf("%w: %q", vault.ErrInvalidID, id)
	}
	return nil
}

// Create implements vault.Backend.
func (b *Backend) Create(ctx context.Context, id string) (vault.BlobWriter, error) {
	return b.create(ctx, id, false)
}

// Replace implements vault.Backend. Older versions are removed after the
// upload where retention allows; Commit fails with vault.ErrRetention (the
// new version being in place) where it does not.
func (b *Backend) Replace(ctx context.Context, id string) (vault.BlobWriter, error) {
	return b.create(ctx, id, true)
}

func (b *Backend) create(ctx context.Context, id string, replace bool) (vault.BlobWriter, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(b.cfg.TempDir, ".tresor-s3-*")
	if err != nil {
		return nil, fmt.Errorf("failed to create upload spool: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		return nil, errors.Join(fmt.Errorf("failed to unlink upload spool: %w", err), f.Close())
	}
	until, _ := retainUntil(ctx)
	return &writer{b: b, id: id, f: f, h: sha256.New(), replace: replace, retainUntil: until}, nil
}

type writer struct {
	b  *Backend
	id string
	f  *os.File
	h  interface {
		io.Writer
		Sum([]byte) []byte
	}
	n       int64
	replace bool
	done    bool
	// retainUntil is the Object Lock retention the caller asked for
	// (WithRetainUntil); zero: Config.RetainFor.
	retainUntil time.Time
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("write after commit or abort")
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	return w.f.Close()
}

func (w *writer) Commit(ctx context.Context) (err error) {
	if w.done {
		return errors.New("commit after commit or abort")
	}
	defer func() { err = errors.Join(err, w.Abort()) }()
	b := w.b
	key := b.key(w.id)
	_, serr := b.Stat(ctx, w.id)
	switch {
	case serr == nil && !w.replace:
		return vault.ErrExists
	case errors.Is(serr, vault.ErrNotFound) && w.replace:
		return vault.ErrNotFound
	case serr != nil && !errors.Is(serr, vault.ErrNotFound):
		return serr
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("failed to rewind upload spool: %w", err)
	}
	sum := w.h.Sum(nil)
	opts := minio.PutObjectOptions{
		ContentType:  "application/octet-stream",
		UserMetadata: map[string]string{"Tresor-Sha256": hex.EncodeToString(sum)},
		PartSize:     b.cfg.PartSize,
		NumThreads:   1,
	}
	if w.n <= maxSinglePut && !b.cfg.NoChecksum {
		// One PUT with the full-object checksum, which the server verifies
		// before storing anything.
		opts.DisableMultipart = true
		opts.UserMetadata["x-amz-checksum-sha256"] = base64.StdEncoding.EncodeToString(sum)
	}
	if until := w.retainUntil; b.objectLock && (!until.IsZero() || b.cfg.RetainFor > 0) {
		if until.IsZero() {
			until = b.now().Add(b.cfg.RetainFor)
		}
		opts.Mode = minio.RetentionMode(b.cfg.Mode)
		opts.RetainUntilDate = until.UTC()
	}
	info, err := b.c.PutObject(ctx, b.cfg.Bucket, key, w.f, w.n, opts)
	if err != nil {
		return fmt.Errorf("failed to upload bundle: %w", err)
	}
	if info.Size != w.n {
		return fmt.Errorf("failed to upload bundle: stored %d bytes of %d", info.Size, w.n)
	}
	if w.replace {
		if _, err := b.deleteVersions(ctx, key, info.VersionID); err != nil {
			return fmt.Errorf("replaced bundle, but failed to remove old versions: %w", err)
		}
	}
	return nil
}

// Open implements vault.Backend.
func (b *Backend) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	if _, err := b.Stat(ctx, id); err != nil {
		return nil, err
	}
	obj, err := b.c.GetObject(ctx, b.cfg.Bucket, b.key(id), minio.GetObjectOptions{})
	if err != nil {
		return nil, mapErr(id, err)
	}
	return obj, nil
}

// Stat implements vault.Backend.
func (b *Backend) Stat(ctx context.Context, id string) (vault.BlobInfo, error) {
	if err := checkID(id); err != nil {
		return vault.BlobInfo{}, err
	}
	info, err := b.c.StatObject(ctx, b.cfg.Bucket, b.key(id), minio.StatObjectOptions{})
	if err != nil {
		return vault.BlobInfo{}, mapErr(id, err)
	}
	if info.IsDeleteMarker {
		return vault.BlobInfo{}, fmt.Errorf("%w: %s", vault.ErrNotFound, id)
	}
	return vault.BlobInfo{ID: id, Size: info.Size, ModTime: info.LastModified}, nil
}

// Delete implements vault.Backend.
func (b *Backend) Delete(ctx context.Context, id string) (vault.DeleteInfo, error) {
	if _, err := b.Stat(ctx, id); err != nil {
		return vault.DeleteInfo{}, err
	}
	n, err := b.deleteVersions(ctx, b.key(id), "")
	if err != nil {
		return vault.DeleteInfo{VersionsRemoved: n}, err
	}
	return vault.DeleteInfo{VersionsRemoved: n}, nil
}

// deleteVersions removes every version of key except keep.
func (b *Backend) deleteVersions(ctx context.Context, key, keep string) (int, error) {
	n := 0
	for obj := range b.c.ListObjects(ctx, b.cfg.Bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if obj.Err != nil {
			return n, fmt.Errorf("failed to list versions: %w", obj.Err)
		}
		if obj.Key != key || (keep != "" && obj.VersionID == keep) {
			continue
		}
		err := b.c.RemoveObject(ctx, b.cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: obj.VersionID})
		if err != nil {
			resp := minio.ToErrorResponse(err)
			if resp.StatusCode == http.StatusForbidden || resp.Code == "AccessDenied" || resp.Code == "ObjectLocked" || resp.Code == "InvalidRequest" {
				return n, fmt.Errorf("%w: %s version %s: %v", vault.ErrRetention, key, obj.VersionID, err)
			}
			return n, fmt.Errorf("failed to delete %s version %s: %w", key, obj.VersionID, err)
		}
		if !obj.IsDeleteMarker {
			n++
		}
	}
	return n, nil
}

// List implements vault.Backend.
func (b *Backend) List(ctx context.Context, fn func(id string) error) error {
	for obj := range b.c.ListObjects(ctx, b.cfg.Bucket, minio.ListObjectsOptions{Prefix: b.cfg.Prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("failed to list bundles: %w", obj.Err)
		}
		rest := strings.TrimPrefix(obj.Key, b.cfg.Prefix)
		shard, name, ok := strings.Cut(rest, "/")
		id, isAge := strings.CutSuffix(name, ".age")
		if !ok || !isAge || !vault.ValidID(id) || id[:2] != shard {
			continue
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// Sweep implements vault.Backend. Ciphertext spools are unlinked local
// files that vanish with their process, and a bundle is uploaded in one
// PutObject (multipart uploads are completed or aborted by minio-go), so
// there is nothing to sweep; incomplete multipart uploads left by a crash
// mid-upload are best removed by a bucket lifecycle rule
// (AbortIncompleteMultipartUpload).
func (b *Backend) Sweep(ctx context.Context) (int, error) { return 0, nil }

func mapErr(id string, err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound || resp.Code == "MethodNotAllowed" && resp.StatusCode == http.StatusMethodNotAllowed {
		return fmt.Errorf("%w: %s", vault.ErrNotFound, id)
	}
	return fmt.Errorf("failed to access bundle %s: %w", id, err)
}
