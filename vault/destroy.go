package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// A Certificate records the destruction of a bundle, for the audit log.
type Certificate struct {
	BundleID         string
	CiphertextSHA256 string
	CiphertextSize   int64
	DestroyedAt      time.Time
	// Backend is the storage location (Backend.Location).
	Backend         string
	VersionsRemoved int
}

// Destroy hashes bundle id (so that the certificate names exactly what was
// destroyed) and deletes it, with every stored version. It fails with
// ErrRetention, deleting nothing the storage protects, if an Object Lock
// retention forbids it.
func (v *Vault) Destroy(ctx context.Context, id string) (Certificate, error) {
	if err := checkID(id); err != nil {
		return Certificate{}, err
	}
	rc, err := v.b.Open(ctx, id)
	if err != nil {
		return Certificate{}, err
	}
	hw := &hashWriter{w: io.Discard, h: sha256.New()}
	_, err = io.Copy(hw, ctxReader{ctx, rc})
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Certificate{}, fmt.Errorf("failed to read bundle %s: %w", id, err)
	}
	info, err := v.b.Delete(ctx, id)
	if err != nil {
		return Certificate{}, fmt.Errorf("failed to destroy bundle %s: %w", id, err)
	}
	return Certificate{
		BundleID:         id,
		CiphertextSHA256: hex.EncodeToString(hw.h.Sum(nil)),
		CiphertextSize:   hw.n,
		DestroyedAt:      v.now().UTC(),
		Backend:          v.b.Location(),
		VersionsRemoved:  info.VersionsRemoved,
	}, nil
}
