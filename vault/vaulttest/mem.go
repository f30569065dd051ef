package vaulttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tresor-evidence/tresor/vault"
)

// MemBackend is an in-memory vault.Backend for tests. Its zero value is not
// usable; call NewMemBackend.
type MemBackend struct {
	mu    sync.Mutex
	blobs map[string][]byte
	// FailWrite, if set, is called before each write with the number of
	// bytes already written to that blob; a non-nil error fails the write.
	FailWrite func(written int64) error
}

var _ vault.Backend = (*MemBackend)(nil)

// NewMemBackend returns an empty MemBackend.
func NewMemBackend() *MemBackend { return &MemBackend{blobs: make(map[string][]byte)} }

// Location implements vault.Backend.
func (b *MemBackend) Location() string { return "mem:" }

// Create implements vault.Backend.
func (b *MemBackend) Create(ctx context.Context, id string) (vault.BlobWriter, error) {
	if !vault.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", vault.ErrInvalidID, id)
	}
	return &memWriter{b: b, id: id}, nil
}

// Replace implements vault.Backend.
func (b *MemBackend) Replace(ctx context.Context, id string) (vault.BlobWriter, error) {
	if !vault.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", vault.ErrInvalidID, id)
	}
	return &memWriter{b: b, id: id, replace: true}, nil
}

type memWriter struct {
	b       *MemBackend
	id      string
	buf     bytes.Buffer
	replace bool
	done    bool
}

func (w *memWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("write after commit or abort")
	}
	if w.b.FailWrite != nil {
		if err := w.b.FailWrite(int64(w.buf.Len())); err != nil {
			return 0, err
		}
	}
	return w.buf.Write(p)
}

func (w *memWriter) Commit(ctx context.Context) error {
	if w.done {
		return errors.New("commit after commit or abort")
	}
	w.done = true
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	_, exists := w.b.blobs[w.id]
	if w.replace && !exists {
		return vault.ErrNotFound
	}
	if !w.replace && exists {
		return vault.ErrExists
	}
	w.b.blobs[w.id] = bytes.Clone(w.buf.Bytes())
	return nil
}

func (w *memWriter) Abort() error {
	w.done = true
	return nil
}

// Open implements vault.Backend.
func (b *MemBackend) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	data, err := b.get(id)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Stat implements vault.Backend.
func (b *MemBackend) Stat(ctx context.Context, id string) (vault.BlobInfo, error) {
	data, err := b.get(id)
	if err != nil {
		return vault.BlobInfo{}, err
	}
	return vault.BlobInfo{ID: id, Size: int64(len(data)), ModTime: time.Time{}}, nil
}

// Delete implements vault.Backend.
func (b *MemBackend) Delete(ctx context.Context, id string) (vault.DeleteInfo, error) {
	if _, err := b.get(id); err != nil {
		return vault.DeleteInfo{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.blobs, id)
	return vault.DeleteInfo{VersionsRemoved: 1}, nil
}

// List implements vault.Backend.
func (b *MemBackend) List(ctx context.Context, fn func(id string) error) error {
	b.mu.Lock()
	ids := make([]string, 0, len(b.blobs))
	for id := range b.blobs {
		ids = append(ids, id)
	}
	b.mu.Unlock()
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

// Sweep implements vault.Backend; a MemBackend has no leftovers.
func (b *MemBackend) Sweep(ctx context.Context) (int, error) { return 0, nil }

// Set stores data under id directly, bypassing the writer (to plant
// corrupted or hand-made bundles in tests).
func (b *MemBackend) Set(id string, data []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.blobs[id] = bytes.Clone(data)
}

// Get returns the stored bytes of id.
func (b *MemBackend) Get(id string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.blobs[id]
	return bytes.Clone(data), ok
}

func (b *MemBackend) get(id string) ([]byte, error) {
	if !vault.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", vault.ErrInvalidID, id)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.blobs[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", vault.ErrNotFound, id)
	}
	return data, nil
}
