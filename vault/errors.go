package vault

import "errors"

var (
	// ErrNotFound is returned when no bundle with the given id exists.
	ErrNotFound = errors.New("bundle not found")

	// ErrExists is returned by Seal, and by BlobWriter.Commit of a writer
	// from Backend.Create, when a bundle with the same id already exists.
	// Bundles are written once.
	ErrExists = errors.New("bundle already exists")

	// ErrIntegrity is wrapped by every error caused by a bundle that does not
	// match what it claims or what the caller expected: truncated or altered
	// ciphertext, a part whose hash or size differs from the manifest, a
	// malformed manifest or tar stream, an unsafe tar entry name.
	ErrIntegrity = errors.New("integrity check failed")

	// ErrNoIdentity is returned when none of the given identities can decrypt
	// the bundle (the bundle was not encrypted to them).
	ErrNoIdentity = errors.New("no identity matches the bundle's recipients")

	// ErrRetention is returned by Destroy when the storage refuses to delete
	// the bundle because of a retention period or legal hold (S3 Object Lock).
	ErrRetention = errors.New("deletion forbidden by retention")

	// ErrInvalidID is returned for a bundle id that is not 16 to 64 lowercase
	// letters and digits.
	ErrInvalidID = errors.New("invalid bundle id")

	// ErrInvalidManifest is returned by Seal for a manifest or parts that
	// cannot be sealed (bad part names, parts in a metadata-only bundle, …).
	ErrInvalidManifest = errors.New("invalid manifest")

	// ErrSizeMismatch is returned by Seal when a part's reader yields more or
	// fewer bytes than its declared Size. It also wraps ErrIntegrity.
	ErrSizeMismatch = errors.New("part size differs from declared size")

	// ErrTooLarge is returned by Seal when a part exceeds the vault's maximum
	// part size (see WithMaxPartSize).
	ErrTooLarge = errors.New("part too large")

	// ErrStorageFull is wrapped by errors of a backend whose storage is
	// full or over quota (ENOSPC, EDQUOT). The failed write left nothing
	// behind; the same write succeeds once there is room.
	ErrStorageFull = errors.New("vault storage full")

	// ErrNoRecipients is returned by Seal on a vault created without
	// recipients.
	ErrNoRecipients = errors.New("vault has no recipients")
)
