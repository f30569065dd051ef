package incident

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
	if a != System {
		return Receipt{}, fmt.Errorf("%w: only the vault command records a rewrap", ErrForbidden)
	}
	if err := knownID("incident", incidentID); err != nil {
		return Receipt{}, err
	}
	if r.BundleID == "" || r.NewCiphertextSHA256 == "" || r.NewCiphertextSize <= 0 || len(r.Recipients) == 0 {
		return Receipt{}, fmt.Errorf("%w: incomplete rewrap of bundle %q", ErrInvalidInput, r.BundleID)
	}
	var out Receipt
	err := s.store.Tx(ctx, func(tx Tx) error {
		inc, err := tx.Incident(ctx, incidentID)
		if err != nil {
			return err
		}
		rc := inc.Receipt
		switch {
		case rc == nil || inc.DestroyedAt != nil:
			return fmt.Errorf("%w: incident %s has no evidence in the vault", ErrInvalidTransition, incidentID)
		case rc.BundleID != r.BundleID:
			return fmt.Errorf("%w: incident %s has bundle %s, not %s", ErrConflict, incidentID, rc.BundleID, r.BundleID)
		case rc.CiphertextSHA256 == r.NewCiphertextSHA256:
			out = *rc
			return nil
		case rc.CiphertextSHA256 != r.OldCiphertextSHA256:
			return fmt.Errorf("%w: the receipt of bundle %s names ciphertext %s, the rewrap started from %s",
				ErrConflict, r.BundleID, rc.CiphertextSHA256, r.OldCiphertextSHA256)
		case rc.ManifestSHA256 != r.ManifestSHA256:
			return fmt.Errorf("%w: bundle %s: the rewrapped manifest differs from the receipt's", ErrConflict, r.BundleID)
		}
		rc.CiphertextSHA256, rc.CiphertextSize = r.NewCiphertextSHA256, r.NewCiphertextSize
		rc.Recipients = append([]string(nil), r.Recipients...)
		inc.UpdatedAt = s.now()
		if err := tx.UpdateIncident(ctx, &inc); err != nil {
			return err
		}
		out = *rc
		return s.record(ctx, tx, a, ActionEvidenceRewrapped, inc.ID, map[string]string{
			"bundle_id": r.BundleID, "old_ciphertext_sha256": r.OldCiphertextSHA256,
			"ciphertext_sha256": r.NewCiphertextSHA256, "ciphertext_size": strconv.FormatInt(r.NewCiphertextSize, 10),
			"manifest_sha256": r.ManifestSHA256, "recipients": strings.Join(r.Recipients, ","),
		})
	})
	return out, err
}
