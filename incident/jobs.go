package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tresor-evidence/tresor/policies"
)

// bundleID derives the incident's bundle id, so that a retried secure job
// replaces the bundle of a crashed attempt instead of adding a second.
func bundleID(incidentID string) string {
	sum := sha256.Sum256([]byte("tresor bundle\x00" + incidentID))
	return hex.EncodeToString(sum[:16])
}

// secure seals the incident's evidence (or, for metadata-only categories,
// its metadata) into the vault and then queues the revoke.
func (s *Service) secure(ctx context.Context, j Job) error {
	inc, err := s.loadForJob(ctx, j)
	if err != nil {
		return err
	}
	if inc.State != StateSecuring || inc.Evidence != EvidencePending {
		return s.finish(ctx, j, func(Tx, *Incident) error { return nil })
	}
	if s.vault == nil {
		return errors.New("no vault configured")
	}
	cat, err := s.policy.Category(inc.Category)
	if err != nil {
		return err
	}
	metadataOnly := inc.Securing != policies.SecureContent
	if inc.staged() {
		// The upload was sealed when it arrived; approval promotes it.
		return s.finishSecure(ctx, j, cat, *inc.Receipt, false, false)
	}
	var parts []Part
	if !metadataOnly {
		if s.msgr == nil {
			return errors.New("no messenger configured to fetch the content")
		}
		if parts, err = s.msgr.FetchContent(ctx, inc); err != nil {
			return fmt.Errorf("failed to fetch content: %w", err)
		}
	}
	m := Manifest{IncidentID: inc.ID, Category: inc.Category, MetadataOnly: metadataOnly, Message: inc.Message, CapturedAt: s.now()}
	// The intent commits before the vault is touched; a retry of this
	// job re-uses it and its seal replaces the crashed attempt's bundle.
	intent, err := s.announceBundle(ctx, inc.ID, IntentSecure)
	if err != nil {
		closeParts(parts)
		return err
	}
	receipt, err := s.vault.Seal(ctx, intent.BundleID, m, parts)
	closeParts(parts)
	if err != nil {
		return fmt.Errorf("failed to seal evidence: %w", err)
	}
	receipt.MetadataOnly = metadataOnly
	return s.finishSecure(ctx, j, cat, receipt, metadataOnly, true)
}

// finishSecure records the secured evidence, its retention and the next
// jobs, with the job's completion. sealed says the job sealed the bundle
// itself: its intent commits with the receipt. If the incident moved on
// meanwhile, the intent stays pending and the sweeper removes the bundle.
func (s *Service) finishSecure(ctx context.Context, j Job, cat policies.Category, receipt Receipt, metadataOnly, sealed bool) error {
	return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
		if inc.State != StateSecuring || inc.Evidence != EvidencePending {
			return nil
		}
		if sealed {
			if err := s.commitBundle(ctx, tx, receipt.BundleID); err != nil {
				return err
			}
		}
		until := receipt.SealedAt.Add(cat.Retention)
		inc.Evidence, inc.Receipt, inc.RetentionUntil = EvidenceSecured, &receipt, &until
		if err := s.updateState(ctx, tx, inc, StateRevoking); err != nil {
			return err
		}
		if err := s.record(ctx, tx, System, ActionEvidenceSecured, inc.ID, map[string]string{
			"bundle_id": receipt.BundleID, "ciphertext_sha256": receipt.CiphertextSHA256,
			"ciphertext_size": strconv.FormatInt(receipt.CiphertextSize, 10), "manifest_sha256": receipt.ManifestSHA256,
			"metadata_only": strconv.FormatBool(metadataOnly), "retention_until": until.Format("2006-01-02T15:04:05Z"),
			"whatsapp_hash_mismatch": strconv.FormatBool(receipt.WhatsAppHashMismatch),
		}); err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, Job{Kind: JobDestroy, IncidentID: inc.ID, Key: jobKey(JobDestroy, inc.ID, "retention"), RunAt: until}); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, Job{Kind: JobRevoke, IncidentID: inc.ID, Key: jobKey(JobRevoke, inc.ID)})
	})
}

func closeParts(parts []Part) {
	for _, p := range parts {
		if c, ok := p.Content.(io.Closer); ok {
			_ = c.Close() // read-only streams: nothing is lost if closing fails
		}
	}
}

// revoke deletes the message on WhatsApp, never before the evidence is
// secured or a decision not to secure it exists, then starts the walkthrough.
func (s *Service) revoke(ctx context.Context, j Job) error {
	inc, err := s.loadForJob(ctx, j)
	if err != nil {
		return err
	}
	if inc.State != StateRevoking {
		return s.finish(ctx, j, func(Tx, *Incident) error { return nil })
	}
	if err := inc.mayRevoke(); err != nil {
		return err
	}
	cat, err := s.policy.Category(inc.Category)
	if err != nil {
		return err
	}
	var rev Revocation
	switch {
	case cat.ManualDeletion:
		rev = Revocation{Outcome: RevokeLeftToWorker, At: s.now(),
			Detail: "the policy leaves deleting to the worker, after asking the police whether they want to see the phone"}
	case inc.Channel == ChannelUpload:
		rev = Revocation{Outcome: RevokeNotPossible, Detail: "uploaded file: not a WhatsApp message", At: s.now()}
	case strings.HasPrefix(inc.Message.ID, describedIDPrefix):
		rev = Revocation{Outcome: RevokeNotPossible, Detail: "described by the worker: no WhatsApp message id to delete", At: s.now()}
	case s.msgr == nil:
		return errors.New("no messenger configured")
	default:
		if rev, err = s.msgr.Revoke(ctx, inc); err != nil {
			return fmt.Errorf("failed to revoke message: %w", err)
		}
		if rev.At.IsZero() {
			rev.At = s.now()
		}
	}
	return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
		if inc.State != StateRevoking {
			return nil
		}
		if err := inc.mayRevoke(); err != nil {
			return err
		}
		inc.Revocation = &rev
		steps, err := stepsFor(s.policy, inc, cat, s.now())
		if err != nil {
			return err
		}
		if err := s.updateState(ctx, tx, inc, StateWalkthrough); err != nil {
			return err
		}
		if err := tx.CreateSteps(ctx, steps); err != nil {
			return fmt.Errorf("failed to create deletion steps: %w", err)
		}
		// The detail (WhatsApp's answer) may name a chat: it stays on the
		// incident, the immutable log keeps its hash.
		if err := s.record(ctx, tx, System, ActionMessageRevoked, inc.ID, map[string]string{
			"outcome": string(rev.Outcome), "detail_sha256": digest(rev.Detail),
		}); err != nil {
			return err
		}
		if err := s.record(ctx, tx, System, ActionWalkthroughStarted, inc.ID, map[string]string{
			"platform": string(inc.Platform), "steps": strconv.Itoa(len(steps)),
		}); err != nil {
			return err
		}
		if len(steps) == 0 {
			return nil
		}
		return s.enqueue(ctx, tx, Job{Kind: JobEscalate, IncidentID: inc.ID, Key: jobKey(JobEscalate, inc.ID), RunAt: steps[0].DueAt})
	})
}

// escalate marks the incident's overdue deletion steps for supervisors.
func (s *Service) escalate(ctx context.Context, j Job) error {
	return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
		steps, err := tx.Steps(ctx, inc.ID)
		if err != nil {
			return err
		}
		now := s.now()
		escalated := 0
		for _, st := range steps {
			if !st.open() || st.Escalated || now.Before(st.DueAt) {
				continue
			}
			st.Escalated = true
			if err := tx.UpdateStep(ctx, st); err != nil {
				return fmt.Errorf("failed to update step: %w", err)
			}
			if err := s.record(ctx, tx, System, ActionStepEscalated, inc.ID, map[string]string{"step": st.Key}); err != nil {
				return err
			}
			escalated++
		}
		if escalated == 0 {
			return nil
		}
		targets, err := s.escalationTargets(ctx, tx)
		if err != nil {
			return err
		}
		if err := s.notifyUsers(ctx, tx, NoticeStepsOverdue, inc.ID, "", inc.ID+":"+strconv.FormatInt(j.ID, 10), targets); err != nil {
			return err
		}
		// The version check makes a concurrent confirmation win: this
		// job then retries on the fresh steps instead of reopening one.
		inc.UpdatedAt = now
		return tx.UpdateIncident(ctx, inc)
	})
}

// expire ends a request nobody decided in time. An expired secure request
// returns the incident to the worker, who may submit it again.
func (s *Service) expire(ctx context.Context, j Job) error {
	return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
		r, err := tx.Request(ctx, j.RequestID)
		if err != nil {
			return err
		}
		if r.State != RequestPending || s.now().Before(r.ExpiresAt) {
			return nil
		}
		r.State = RequestExpired
		if err := tx.UpdateRequest(ctx, &r); err != nil {
			return fmt.Errorf("failed to update request: %w", err)
		}
		if err := s.record(ctx, tx, System, ActionRequestExpired, inc.ID, map[string]string{"request_id": r.ID, "kind": string(r.Kind)}); err != nil {
			return err
		}
		if err := s.notifyRequester(ctx, tx, NoticeRequestExpired, r); err != nil {
			return err
		}
		if r.Kind != RequestSecure || inc.State != StateAwaitingApproval {
			return nil
		}
		if err := s.updateState(ctx, tx, inc, StateFlagged); err != nil {
			return err
		}
		if !inc.staged() {
			return nil
		}
		// A staged upload nobody approved must not stay in the vault: it
		// is destroyed unless the worker submits it again and it is
		// secured within another request's time.
		return s.enqueue(ctx, tx, Job{Kind: JobDestroy, IncidentID: inc.ID, RequestID: r.ID,
			Key: jobKey(JobDestroy, inc.ID, r.ID), RunAt: s.now().Add(s.policy.FourEyes.RequestTTL)})
	})
}

// securedAfterStaging reports whether a destroy job meant for a staged
// upload (queued when its secure request expired) finds the evidence
// secured after all; retention then decides instead.
func (s *Service) securedAfterStaging(ctx context.Context, j Job, inc Incident) (bool, error) {
	if j.RequestID == "" || inc.Evidence != EvidenceSecured {
		return false, nil
	}
	var r Request
	err := s.store.View(ctx, func(tx Tx) (err error) { r, err = tx.Request(ctx, j.RequestID); return })
	if err != nil {
		return false, err
	}
	return r.Kind == RequestSecure, nil
}

// destroy removes the bundle when retention ended or a destroy request was
// approved, unless the evidence is on legal hold.
func (s *Service) destroy(ctx context.Context, j Job) error {
	inc, err := s.loadForJob(ctx, j)
	if err != nil {
		return err
	}
	noop := func(Tx, *Incident) error { return nil }
	securedSince, err := s.securedAfterStaging(ctx, j, inc)
	if err != nil {
		return err
	}
	switch {
	case inc.Receipt == nil || inc.DestroyedAt != nil || securedSince:
		return s.finish(ctx, j, noop)
	case inc.LegalHold:
		return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
			return s.record(ctx, tx, System, ActionRetentionHeld, inc.ID, map[string]string{"bundle_id": inc.Receipt.BundleID})
		})
	case j.RequestID == "" && inc.RetentionUntil != nil && s.now().Before(*inc.RetentionUntil):
		return s.finish(ctx, j, noop)
	}
	if s.vault == nil {
		return errors.New("no vault configured")
	}
	d, err := s.vault.Destroy(ctx, inc.Receipt.BundleID)
	if errors.Is(err, ErrNotFound) {
		// A crash after destroying and before committing leaves nothing to
		// destroy on the retry; the certificate says so.
		d, err = Destruction{BundleID: inc.Receipt.BundleID, CiphertextSHA256: inc.Receipt.CiphertextSHA256,
			CiphertextSize: inc.Receipt.CiphertextSize, Detail: "bundle already absent from the vault", At: s.now()}, nil
	}
	if err != nil {
		return fmt.Errorf("failed to destroy bundle: %w", err)
	}
	return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
		if inc.DestroyedAt != nil {
			return nil
		}
		at := d.At
		if at.IsZero() {
			at = s.now()
		}
		inc.DestroyedAt, inc.UpdatedAt = &at, s.now()
		if err := tx.UpdateIncident(ctx, inc); err != nil {
			return fmt.Errorf("failed to update incident: %w", err)
		}
		details := map[string]string{
			"bundle_id": d.BundleID, "ciphertext_sha256": d.CiphertextSHA256,
			"ciphertext_size": strconv.FormatInt(d.CiphertextSize, 10), "detail": d.Detail,
		}
		if j.RequestID != "" {
			details["request_id"] = j.RequestID
		}
		if inc.LegalHold {
			// The hold arrived while the vault was destroying: the trail
			// must say what really happened.
			details["note"] = "legal hold was set while the bundle was being destroyed"
		}
		return s.record(ctx, tx, System, ActionEvidenceDestroyed, inc.ID, details)
	})
}
