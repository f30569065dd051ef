package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
)

// A RewrapRecord records the re-encryption of a bundle to new recipients.
type RewrapRecord struct {
	BundleID            string
	OldCiphertextSHA256 string
	OldCiphertextSize   int64
	NewCiphertextSHA256 string
	NewCiphertextSize   int64
	ManifestSHA256      string
	// OldRecipients has the stanza types of the old header (X25519 stanzas
	// do not name their recipient); NewRecipients the new fingerprints.
	OldStanzaTypes []string
	NewRecipients  []string
	RewrappedAt    time.Time
}

// Rewrap decrypts bundle id with ids and re-encrypts the very same tar
// stream (so the manifest and its hash are unchanged) to the vault's
// current recipients, checking every part on the way, then atomically
// replaces the stored bundle. It is meant to run offline, where the
// identity is. Nothing is replaced if any check fails. If the backend
// replaced the bundle but a storage retention keeps its old version, the
// record comes back with an error wrapping ErrRetention.
func (v *Vault) Rewrap(ctx context.Context, id string, ids []Identity) (RewrapRecord, error) {
	return v.RewrapAnnounced(ctx, id, ids, nil)
}

// RewrapAnnounced is Rewrap that calls announce (if not nil) with the
// record of the new ciphertext after it is written and checked but before
// it replaces the stored bundle, so that the caller can record its intent
// first. If announce fails, nothing is replaced.
func (v *Vault) RewrapAnnounced(ctx context.Context, id string, ids []Identity, announce func(context.Context, RewrapRecord) error) (rec RewrapRecord, err error) {
	if err := checkID(id); err != nil {
		return RewrapRecord{}, err
	}
	if len(v.recipients) == 0 {
		return RewrapRecord{}, ErrNoRecipients
	}
	old, err := v.Verify(ctx, id, nil)
	if err != nil {
		return RewrapRecord{}, err
	}
	rc, err := v.b.Open(ctx, id)
	if err != nil {
		return RewrapRecord{}, err
	}
	defer rc.Close()
	oldHash := &hashWriter{w: io.Discard, h: sha256.New()}
	src := &srcReader{r: io.TeeReader(ctxReader{ctx, rc}, oldHash)}
	plain, err := decrypt(id, src, ids)
	if err != nil {
		return RewrapRecord{}, err
	}
	w, err := v.b.Replace(ctx, id)
	if err != nil {
		return RewrapRecord{}, fmt.Errorf("failed to create bundle: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			err = errors.Join(err, w.Abort())
		}
	}()
	newHash := &hashWriter{w: w, h: sha256.New()}
	enc, err := age.Encrypt(newHash, v.recipients...)
	if err != nil {
		return RewrapRecord{}, fmt.Errorf("failed to encrypt bundle: %w", err)
	}
	pr := &plainReader{id: id, src: src, r: io.TeeReader(plain, enc)}
	_, msum, err := readBundle(id, pr, nil)
	if err != nil {
		return RewrapRecord{}, err
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return RewrapRecord{}, fmt.Errorf("failed to read bundle %s: %w", id, err)
	}
	if got := hex.EncodeToString(oldHash.h.Sum(nil)); got != old.CiphertextSHA256 {
		return RewrapRecord{}, fmt.Errorf("%w: bundle %s changed during rewrap", ErrIntegrity, id)
	}
	if err := enc.Close(); err != nil {
		return RewrapRecord{}, fmt.Errorf("failed to finish bundle: %w", err)
	}
	rec = RewrapRecord{
		BundleID:            id,
		OldCiphertextSHA256: old.CiphertextSHA256,
		OldCiphertextSize:   old.CiphertextSize,
		NewCiphertextSHA256: hex.EncodeToString(newHash.h.Sum(nil)),
		NewCiphertextSize:   newHash.n,
		ManifestSHA256:      msum,
		OldStanzaTypes:      old.StanzaTypes,
		NewRecipients:       v.Recipients(),
		RewrappedAt:         v.now().UTC(),
	}
	if announce != nil {
		if err := announce(ctx, rec); err != nil {
			return RewrapRecord{}, fmt.Errorf("bundle %s not replaced: %w", id, err)
		}
	}
	committed = true
	if err := w.Commit(ctx); err != nil {
		if errors.Is(err, ErrRetention) {
			// The new version is in place; storage retention keeps the
			// old one. The record is returned so the receipt can follow.
			return rec, fmt.Errorf("replaced bundle %s, but the old version is kept: %w", id, err)
		}
		return RewrapRecord{}, fmt.Errorf("failed to replace bundle %s: %w", id, err)
	}
	return rec, nil
}
