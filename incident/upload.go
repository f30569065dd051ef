package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/tresor-evidence/tresor/policies"
)

// ErrContentForbidden: the category's policy forbids copying content (by
// default suspected CSAM, §184b StGB), so no file may be uploaded.
var ErrContentForbidden = errors.New("the policy forbids copying content of this category")

// FlagUpload opens an incident for a file the worker received on another
// channel. The file is streamed straight into the vault before anything
// is stored about it, so it never rests in plain form; the bundle is then
// staged: approval of the secure request promotes it to secured evidence,
// rejection destroys it. Categories whose policy forbids copying content
// refuse the upload with ErrContentForbidden; files outside the policy's
// upload types or size with ErrUploadType or ErrUploadTooLarge (see
// checkUpload). The part's name and media type are the domain's, told by
// the content.
func (s *Service) FlagUpload(ctx context.Context, a Actor, in FlagInput, file Part) (Incident, error) {
	if err := requireRole(a, RoleWorker, RoleSupervisor); err != nil {
		return Incident{}, err
	}
	cat, err := s.policy.Category(in.Category)
	if err != nil {
		return Incident{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	if cat.Securing != policies.SecureContent {
		return Incident{}, fmt.Errorf("%w: category %q: describe the message instead", ErrContentForbidden, cat.ID)
	}
	if s.vault == nil {
		return Incident{}, errors.New("no vault configured")
	}
	if file, err = s.checkUpload(file); err != nil {
		return Incident{}, err
	}
	id, err := s.newID()
	if err != nil {
		return Incident{}, err
	}
	in.Channel = ChannelUpload
	if in.Message.ID == "" {
		in.Message.ID = "upload-" + id
	}
	in.Message.MediaType, in.Message.Size = file.MediaType, max(file.Size, 0) // a streamed part's size is unknown (-1): 0 records "not known"
	now := s.now()
	m := Manifest{IncidentID: id, Category: cat.ID, Message: in.Message, CapturedAt: now}
	intent, err := s.announceBundle(ctx, id, IntentUpload)
	if err != nil {
		return Incident{}, err
	}
	receipt, err := s.vault.Seal(ctx, intent.BundleID, m, []Part{file})
	if err != nil {
		s.abandonBundle(ctx, intent)
		return Incident{}, fmt.Errorf("failed to seal the upload: %w", err)
	}
	inc := Incident{ID: id, Channel: ChannelUpload, ReporterID: a.ID, Message: in.Message, State: StateFlagged,
		Receipt: &receipt, CreatedAt: now, UpdatedAt: now}
	err = s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.CreateIncident(ctx, &inc); err != nil {
			return fmt.Errorf("failed to create incident: %w", err)
		}
		if err := s.commitBundle(ctx, tx, receipt.BundleID); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, ActionIncidentFlagged, inc.ID, map[string]string{
			"channel": string(ChannelUpload), "message_id": in.Message.ID,
		}); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, ActionEvidenceStaged, inc.ID, receiptDetails(receipt)); err != nil {
			return err
		}
		return s.submit(ctx, tx, a, &inc, SubmitInput{Category: in.Category, Description: in.Description, Platform: in.Platform})
	})
	if err != nil {
		// Nothing refers to the bundle: remove it rather than keep
		// evidence nobody can account for (with an audit entry; if that
		// fails too, the orphan sweeper finishes it after the grace period).
		if derr := s.discardUnrecorded(ctx, intent); derr != nil {
			return Incident{}, fmt.Errorf("%w (the sealed upload %s is left to the orphan sweeper: %v)", err, receipt.BundleID, derr)
		}
		return Incident{}, err
	}
	return inc, nil
}

// staged reports whether the incident's content was sealed at upload and
// waits for the secure decision.
func (inc *Incident) staged() bool {
	return inc.Evidence == EvidencePending && inc.Receipt != nil && inc.DestroyedAt == nil
}

// receiptDetails are the audit details of a sealed bundle.
func receiptDetails(r Receipt) map[string]string {
	return map[string]string{
		"bundle_id": r.BundleID, "ciphertext_sha256": r.CiphertextSHA256,
		"ciphertext_size": strconv.FormatInt(r.CiphertextSize, 10), "manifest_sha256": r.ManifestSHA256,
	}
}
