package vault

import (
	"context"
	"io"
	"time"
)

// A Backend stores bundle ciphertexts under their ids. It never sees
// plaintext. Implementations must be safe for concurrent use.
//
// Every id passed to a Backend has been checked with ValidID.
type Backend interface {
	// Create starts writing the blob id. Nothing is visible under id (to
	// Open, Stat or List) until Commit returns nil. Commit must make the
	// blob durable before it returns and must fail with an error wrapping
	// ErrExists if id already exists. After a failed Commit or an Abort,
	// nothing is visible under id and no partial data remains, except after
	// a crash, when Sweep removes it.
	Create(ctx context.Context, id string) (BlobWriter, error)

	// Replace is like Create but its Commit atomically replaces the
	// existing blob id, failing with ErrNotFound if there is none. It is used
	// to re-encrypt a bundle to new recipients.
	Replace(ctx context.Context, id string) (BlobWriter, error)

	// Open returns the blob id, or an error wrapping ErrNotFound.
	Open(ctx context.Context, id string) (io.ReadCloser, error)

	// Stat returns the size of blob id, or an error wrapping ErrNotFound.
	Stat(ctx context.Context, id string) (BlobInfo, error)

	// Delete removes blob id and every stored version of it. It returns an
	// error wrapping ErrNotFound if there is none, and one wrapping
	// ErrRetention if the storage refuses the deletion.
	Delete(ctx context.Context, id string) (DeleteInfo, error)

	// List calls fn for the id of every committed blob, in no particular
	// order, and stops at the first error fn returns.
	List(ctx context.Context, fn func(id string) error) error

	// Sweep removes what crashed writers left behind and returns how many
	// leftovers it removed. It never removes data of a writer still running.
	Sweep(ctx context.Context) (int, error)

	// Location describes the backend for reports, e.g. "file:///srv/vault".
	Location() string
}

// A BlobWriter receives a blob's ciphertext. Either Commit or Abort must be
// called; Abort after Commit is a no-op.
type BlobWriter interface {
	io.Writer
	Commit(ctx context.Context) error
	Abort() error
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	ID      string
	Size    int64
	ModTime time.Time
	// RetainUntil is when a storage retention period ends, zero if none.
	RetainUntil time.Time
}

// DeleteInfo describes a deletion.
type DeleteInfo struct {
	// VersionsRemoved counts the stored versions deleted (1 on a
	// filesystem).
	VersionsRemoved int
}
