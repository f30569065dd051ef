package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

const (
	blobExt   = ".age"
	tmpPrefix = ".tmp-"
)

// FSBackend stores bundles as files in a directory: DIR/ab/abcdef….age,
// sharded by the first two characters of the id. Directories are created
// 0700 and files 0600. A blob is written to a temporary file in its shard
// directory, which is held under an advisory lock while it is written,
// fsynced, linked or renamed into place, after which the directory is
// fsynced. Temporary files are never listed.
type FSBackend struct {
	dir string
}

var _ Backend = (*FSBackend)(nil)

// NewFSBackend opens (creating if needed, mode 0700) the vault directory dir
// and removes the leftovers of crashed writes (see Sweep).
func NewFSBackend(dir string) (*FSBackend, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve vault directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create vault directory: %w", err)
	}
	b := &FSBackend{dir: abs}
	if _, err := b.Sweep(context.Background()); err != nil {
		return nil, err
	}
	return b, nil
}

// Location returns a file:// URL of the vault directory.
func (b *FSBackend) Location() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(b.dir)}).String()
}

func (b *FSBackend) shard(id string) string { return filepath.Join(b.dir, id[:2]) }

func (b *FSBackend) path(id string) string { return filepath.Join(b.shard(id), id+blobExt) }

// Create implements Backend.
func (b *FSBackend) Create(ctx context.Context, id string) (BlobWriter, error) {
	return b.create(ctx, id, false)
}

// Replace implements Backend.
func (b *FSBackend) Replace(ctx context.Context, id string) (BlobWriter, error) {
	return b.create(ctx, id, true)
}

func (b *FSBackend) create(ctx context.Context, id string, replace bool) (BlobWriter, error) {
	w, err := b.createTemp(ctx, id, replace)
	if err != nil {
		return nil, storageFull(err)
	}
	return w, nil
}

func (b *FSBackend) createTemp(ctx context.Context, id string, replace bool) (BlobWriter, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	shard := b.shard(id)
	if err := os.Mkdir(shard, 0o700); err == nil {
		if err := syncDir(b.dir); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("failed to create shard directory: %w", err)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("failed to name temporary file: %w", err)
	}
	tmp := filepath.Join(shard, tmpPrefix+id+"-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to create temporary file: %w", err)
	}
	if _, err := lockFile(f, true); err != nil {
		return nil, errors.Join(fmt.Errorf("failed to lock temporary file: %w", err), os.Remove(tmp), f.Close())
	}
	return &fsWriter{f: f, tmp: tmp, final: b.path(id), dir: shard, replace: replace}, nil
}

type fsWriter struct {
	f       *os.File
	tmp     string
	final   string
	dir     string
	replace bool
	done    bool
	// written counts bytes; synced is where writeback was last started.
	written, synced int64
}

// writebackStep is how much is written before writeback of it starts.
const writebackStep = 8 << 20

func (w *fsWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("write after commit or abort")
	}
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.synced >= writebackStep {
		startWriteback(w.f, w.synced, w.written-w.synced)
		w.synced = w.written
	}
	return n, storageFull(err)
}

// Commit publishes the bundle. A full disk (at fsync, when delayed
// allocation finds no room, or at link/rename) gives ErrStorageFull,
// with the temporary file removed.
func (w *fsWriter) Commit(ctx context.Context) error {
	return storageFull(w.commit(ctx))
}

func (w *fsWriter) commit(ctx context.Context) error {
	if w.done {
		return errors.New("commit after commit or abort")
	}
	if err := ctx.Err(); err != nil {
		return w.fail(err)
	}
	if err := w.f.Sync(); err != nil {
		return w.fail(fmt.Errorf("failed to sync bundle: %w", err))
	}
	if w.replace {
		if _, err := os.Stat(w.final); errors.Is(err, fs.ErrNotExist) {
			return w.fail(ErrNotFound)
		} else if err != nil {
			return w.fail(fmt.Errorf("failed to stat bundle: %w", err))
		}
		if err := os.Rename(w.tmp, w.final); err != nil {
			return w.fail(fmt.Errorf("failed to publish bundle: %w", err))
		}
	} else {
		// link(2) fails if the target exists: bundles are written once.
		if err := os.Link(w.tmp, w.final); errors.Is(err, fs.ErrExist) {
			return w.fail(ErrExists)
		} else if err != nil {
			return w.fail(fmt.Errorf("failed to publish bundle: %w", err))
		}
		if err := os.Remove(w.tmp); err != nil {
			// The bundle is published; Sweep removes the leftover.
			w.done = true
			return errors.Join(fmt.Errorf("failed to remove temporary file: %w", err), w.f.Close())
		}
	}
	w.done = true
	err := syncDir(w.dir)
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("failed to close bundle: %w", cerr)
	}
	return err
}

// fail aborts the write and returns err with any error of the abort.
func (w *fsWriter) fail(err error) error {
	return errors.Join(err, w.Abort())
}

func (w *fsWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	rerr := os.Remove(w.tmp)
	cerr := w.f.Close()
	if rerr != nil {
		return fmt.Errorf("failed to remove temporary file: %w", rerr)
	}
	if cerr != nil && !errors.Is(cerr, fs.ErrClosed) {
		return fmt.Errorf("failed to close temporary file: %w", cerr)
	}
	return nil
}

// Open implements Backend.
func (b *FSBackend) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	f, err := os.Open(b.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to open bundle: %w", err)
	}
	return f, nil
}

// Stat implements Backend.
func (b *FSBackend) Stat(ctx context.Context, id string) (BlobInfo, error) {
	if err := checkID(id); err != nil {
		return BlobInfo{}, err
	}
	fi, err := os.Stat(b.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return BlobInfo{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return BlobInfo{}, fmt.Errorf("failed to stat bundle: %w", err)
	}
	return BlobInfo{ID: id, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete implements Backend.
func (b *FSBackend) Delete(ctx context.Context, id string) (DeleteInfo, error) {
	if err := checkID(id); err != nil {
		return DeleteInfo{}, err
	}
	err := os.Remove(b.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return DeleteInfo{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return DeleteInfo{}, fmt.Errorf("failed to delete bundle: %w", err)
	}
	if err := syncDir(b.shard(id)); err != nil {
		return DeleteInfo{}, err
	}
	return DeleteInfo{VersionsRemoved: 1}, nil
}

// List implements Backend.
func (b *FSBackend) List(ctx context.Context, fn func(id string) error) error {
	shards, err := os.ReadDir(b.dir)
	if err != nil {
		return fmt.Errorf("failed to list vault: %w", err)
	}
	for _, s := range shards {
		if !s.IsDir() || len(s.Name()) != 2 {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(b.dir, s.Name()))
		if err != nil {
			return fmt.Errorf("failed to list vault: %w", err)
		}
		for _, e := range entries {
			id, ok := strings.CutSuffix(e.Name(), blobExt)
			if !ok || !e.Type().IsRegular() || !ValidID(id) || id[:2] != s.Name() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sweep implements Backend: it removes temporary files whose writer is gone
// (their lock is free).
func (b *FSBackend) Sweep(ctx context.Context) (int, error) {
	shards, err := os.ReadDir(b.dir)
	if err != nil {
		return 0, fmt.Errorf("failed to sweep vault: %w", err)
	}
	n := 0
	for _, s := range shards {
		if !s.IsDir() || len(s.Name()) != 2 {
			continue
		}
		dir := filepath.Join(b.dir, s.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			return n, fmt.Errorf("failed to sweep vault: %w", err)
		}
		removed := false
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), tmpPrefix) {
				continue
			}
			ok, err := removeUnlocked(filepath.Join(dir, e.Name()))
			if err != nil {
				return n, fmt.Errorf("failed to sweep vault: %w", err)
			}
			if ok {
				n++
				removed = true
			}
		}
		if removed {
			if err := syncDir(dir); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func removeUnlocked(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	ok, err := lockFile(f, false)
	if err != nil || !ok {
		return false, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to open directory for sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("failed to sync directory: %w", err)
	}
	return nil
}
