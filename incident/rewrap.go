package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rewrap is a bundle re-encrypted to new recipients (key rotation, `tresor
// vault rewrap`): same manifest, new ciphertext.
type Rewrap struct {
	BundleID            string
	OldCiphertextSHA256 string
	NewCiphertextSHA256 string
	NewCiphertextSize   int64
	ManifestSHA256      string
	// Recipients are the fingerprints the bundle is now encrypted to.
	Recipients []string
}

// RewrapIntent is a rewrap announced before it replaces its bundle: the
// ciphertext it is about to put in place of the one the receipt names. If
// the run dies between the replacement and RecordRewrap, the intent is
// what lets a later run complete the receipt (CompleteInterruptedRewrap),
// and only for exactly that ciphertext.
type RewrapIntent struct {
	Rewrap
	IncidentID string
	CreatedAt  time.Time
}

// AnnounceRewrap records, in its own committed transaction, the intent of
// a rewrap of incident incidentID's bundle before the vault replaces it.
// The receipt must be the one the rewrap starts from, with the same
// manifest, else ErrConflict and the bundle must not be replaced. Only
// the system announces it.
func (s *Service) AnnounceRewrap(ctx context.Context, a Actor, incidentID string, r Rewrap) error {
	if err := checkRewrap(a, incidentID, r); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		inc, err := tx.Incident(ctx, incidentID)
		if err != nil {
			return err
		}
		if err := rewrapStartsFrom(inc, r); err != nil {
			return err
		}
		return tx.CreateRewrapIntent(ctx, RewrapIntent{Rewrap: r, IncidentID: incidentID, CreatedAt: s.now()})
	})
}

// CompleteInterruptedRewrap completes the receipt of incident incidentID
// whose bundle no longer matches it, if and only if the bundle's stored
// ciphertext (storedSHA256, storedSize, as the vault measured it) is the
// one a pending rewrap intent announced for this very receipt: a rewrap
// replaced the bundle and died before RecordRewrap. The receipt is then
// updated as RecordRewrap would, with an evidence.rewrapped entry that
// says it was completed after an interruption. Any other ciphertext is
// ErrConflict and nothing changes: a changed bundle is never laundered.
func (s *Service) CompleteInterruptedRewrap(ctx context.Context, a Actor, incidentID, bundleID, storedSHA256 string, storedSize int64) (Receipt, error) {
	if a != System {
		return Receipt{}, fmt.Errorf("%w: only the vault command completes a rewrap", ErrForbidden)
	}
	if err := knownID("incident", incidentID); err != nil {
		return Receipt{}, err
	}
	var out Receipt
	err := s.store.Tx(ctx, func(tx Tx) error {
		in, err := tx.PendingRewrapIntent(ctx, bundleID, storedSHA256)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: bundle %s holds ciphertext %s, which no pending rewrap announced", ErrConflict, bundleID, storedSHA256)
		}
		if err != nil {
			return fmt.Errorf("failed to read rewrap intent: %w", err)
		}
		if in.IncidentID != incidentID || in.NewCiphertextSize != storedSize {
			return fmt.Errorf("%w: bundle %s does not match the rewrap announced for it", ErrConflict, bundleID)
		}
		inc, err := tx.Incident(ctx, incidentID)
		if err != nil {
			return err
		}
		if err := rewrapStartsFrom(inc, in.Rewrap); err != nil {
			return err
		}
		out, err = s.applyRewrap(ctx, tx, a, inc, in.Rewrap, "completed after an interruption")
		return err
	})
	return out, err
}

func checkRewrap(a Actor, incidentID string, r Rewrap) error {
	if a != System {
		return fmt.Errorf("%w: only the vault command records a rewrap", ErrForbidden)
	}
	if err := knownID("incident", incidentID); err != nil {
		return err
	}
	if r.BundleID == "" || r.NewCiphertextSHA256 == "" || r.NewCiphertextSize <= 0 || len(r.Recipients) == 0 {
		return fmt.Errorf("%w: incomplete rewrap of bundle %q", ErrInvalidInput, r.BundleID)
	}
	return nil
}

// rewrapStartsFrom checks that inc's receipt is the one rewrap r started
// from: same bundle, old ciphertext, same manifest.
func rewrapStartsFrom(inc Incident, r Rewrap) error {
	rc := inc.Receipt
	switch {
	case rc == nil || inc.DestroyedAt != nil:
		return fmt.Errorf("%w: incident %s has no evidence in the vault", ErrInvalidTransition, inc.ID)
	case rc.BundleID != r.BundleID:
		return fmt.Errorf("%w: incident %s has bundle %s, not %s", ErrConflict, inc.ID, rc.BundleID, r.BundleID)
	case rc.CiphertextSHA256 != r.OldCiphertextSHA256:
		return fmt.Errorf("%w: the receipt of bundle %s names ciphertext %s, the rewrap started from %s",
			ErrConflict, r.BundleID, rc.CiphertextSHA256, r.OldCiphertextSHA256)
	case rc.ManifestSHA256 != r.ManifestSHA256:
		return fmt.Errorf("%w: bundle %s: the rewrapped manifest differs from the receipt's", ErrConflict, r.BundleID)
	}
	return nil
}

// applyRewrap updates inc's receipt to rewrap r, finishes the bundle's
// rewrap intents and appends evidence.rewrapped (with detail, if any).
func (s *Service) applyRewrap(ctx context.Context, tx Tx, a Actor, inc Incident, r Rewrap, detail string) (Receipt, error) {
	rc := inc.Receipt
	rc.CiphertextSHA256, rc.CiphertextSize = r.NewCiphertextSHA256, r.NewCiphertextSize
	rc.Recipients = append([]string(nil), r.Recipients...)
	inc.UpdatedAt = s.now()
	if err := tx.UpdateIncident(ctx, &inc); err != nil {
		return Receipt{}, err
	}
	if err := tx.FinishRewrapIntents(ctx, r.BundleID, s.now()); err != nil {
		return Receipt{}, err
	}
	details := map[string]string{
		"bundle_id": r.BundleID, "old_ciphertext_sha256": r.OldCiphertextSHA256,
		"ciphertext_sha256": r.NewCiphertextSHA256, "ciphertext_size": strconv.FormatInt(r.NewCiphertextSize, 10),
		"manifest_sha256": r.ManifestSHA256, "recipients": strings.Join(r.Recipients, ","),
	}
	if detail != "" {
		details["detail"] = detail
	}
	return *rc, s.record(ctx, tx, a, ActionEvidenceRewrapped, inc.ID, details)
}

// RecordRewrap makes the receipt of incident incidentID describe its
// re-encrypted bundle, with an audit entry (evidence.rewrapped) in the
// same transaction, so that verify and export compare the stored
// ciphertext with a receipt that is true. Only the system records it (the
// vault command the operator runs with the identity).
//
// The receipt must be the one the rewrap started from (old ciphertext
// hash) and the manifest must be unchanged, else ErrConflict and nothing
// changes; a receipt that already names the new ciphertext is returned as
// it is, without a second entry, so that a repeated run is harmless.
func (s *Service) RecordRewrap(ctx context.Context, a Actor, incidentID string, r Rewrap) (Receipt, error) {
	if err := checkRewrap(a, incidentID, r); err != nil {
		return Receipt{}, err
	}
	var out Receipt
	err := s.store.Tx(ctx, func(tx Tx) error {
		inc, err := tx.Incident(ctx, incidentID)
		if err != nil {
			return err
		}
		if rc := inc.Receipt; rc != nil && inc.DestroyedAt == nil && rc.BundleID == r.BundleID && rc.CiphertextSHA256 == r.NewCiphertextSHA256 {
			out = *rc
			return nil
		}
		if err := rewrapStartsFrom(inc, r); err != nil {
			return err
		}
		out, err = s.applyRewrap(ctx, tx, a, inc, r, "")
		return err
	})
	return out, err
}
