package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tresor-evidence/tresor/policies"
)

// CaptureGap says why Tresor holds no copy of a flagged WhatsApp message's
// content, only what the flag itself named (message id, chat, sender).
// The empty value means the message was captured.
type CaptureGap string

const (
	// GapOutsideWindow: the message is older than the capture window, or
	// its capture was purged.
	GapOutsideWindow CaptureGap = "outside_window"
	// GapBeforeLinking: Tresor has received nothing of it since the device
	// was linked (within the capture window): most likely it was sent
	// before linking.
	GapBeforeLinking CaptureGap = "before_linking"
	// GapViewOnce: a view-once message; WhatsApp does not give its content
	// to linked devices.
	GapViewOnce CaptureGap = "view_once"
	// GapLost: the message was received, but its content cannot be had
	// (the capture was lost, or securing found it gone for good).
	GapLost CaptureGap = "lost"
)

// CaptureGaps lists the gaps in the order the pages explain them.
func CaptureGaps() []CaptureGap {
	return []CaptureGap{GapOutsideWindow, GapBeforeLinking, GapViewOnce, GapLost}
}

func (g CaptureGap) valid() bool {
	return g == "" || g == GapOutsideWindow || g == GapBeforeLinking || g == GapViewOnce || g == GapLost
}

// UncapturedChoice is what the worker decided for a message whose content
// Tresor does not have.
type UncapturedChoice string

const (
	// ChoiceMetadata secures what Tresor has: the metadata, whatever the
	// category would otherwise copy.
	ChoiceMetadata UncapturedChoice = "metadata"
	// ChoiceUpload secures the content the worker received on another
	// channel, sealed on arrival (see SubmitUpload); refused where the
	// category forbids copying content.
	ChoiceUpload UncapturedChoice = "upload"
	// ChoiceNotSecurable records, with the worker's reason, that nothing
	// can be secured; the message is still deleted and the walkthrough
	// follows.
	ChoiceNotSecurable UncapturedChoice = "not_securable"
)

// UncapturedChoices lists the choices in the order the pages offer them.
func UncapturedChoices() []UncapturedChoice {
	return []UncapturedChoice{ChoiceMetadata, ChoiceUpload, ChoiceNotSecurable}
}

// ErrPermanent marks a job failure that no retry can cure (content that
// is gone for good). The job runner ends such a job at once as dead, with
// its audit entry, instead of retrying it MaxAttempts times. Adapters wrap
// it into the errors they return.
var ErrPermanent = errors.New("permanent failure")

// applyChoice checks the worker's choice against what Tresor has and sets
// what it decides on inc: the securing mode and the reason.
func (inc *Incident) applyChoice(cat policies.Category, in SubmitInput) error {
	reason := strings.TrimSpace(in.Reason)
	if inc.NotCaptured == "" {
		if in.Choice != "" {
			return fmt.Errorf("%w: the message was captured; there is nothing to choose", ErrInvalidInput)
		}
		return nil
	}
	inc.Choice, inc.NotSecuredReason = in.Choice, ""
	switch in.Choice {
	case ChoiceMetadata:
		inc.Securing = policies.SecureMetadataOnly
	case ChoiceUpload:
		if cat.Securing != policies.SecureContent {
			return fmt.Errorf("%w: category %q: secure the metadata instead", ErrContentForbidden, cat.ID)
		}
		if !inc.staged() {
			return fmt.Errorf("%w: the file from the other channel is missing", ErrInvalidInput)
		}
	case ChoiceNotSecurable:
		if reason == "" {
			return fmt.Errorf("%w: say why the message cannot be secured", ErrReasonRequired)
		}
		if len(reason) > MaxDescription {
			return fmt.Errorf("%w: the reason is longer than %d bytes", ErrInvalidInput, MaxDescription)
		}
		inc.NotSecuredReason = reason
	case "":
		return fmt.Errorf("%w: Tresor has only the metadata of this message: choose what to secure", ErrInvalidInput)
	default:
		return fmt.Errorf("%w: unknown choice %q", ErrInvalidInput, in.Choice)
	}
	if in.Choice != ChoiceUpload && inc.staged() {
		return fmt.Errorf("%w: a file was uploaded for this incident; choose the upload", ErrInvalidInput)
	}
	return nil
}

// markNotSecured records the decision not to secure and queues the
// revoke: nothing is kept, the message still goes from WhatsApp.
func (s *Service) markNotSecured(ctx context.Context, tx Tx, a Actor, inc *Incident, details map[string]string) error {
	inc.Evidence = EvidenceNotSecured
	if err := s.updateState(ctx, tx, inc, StateRevoking); err != nil {
		return err
	}
	if err := s.record(ctx, tx, a, ActionIncidentNotSecured, inc.ID, details); err != nil {
		return err
	}
	return s.enqueue(ctx, tx, Job{Kind: JobRevoke, IncidentID: inc.ID, Key: jobKey(JobRevoke, inc.ID)})
}

// SubmitUpload completes a flagged incident whose message Tresor did not
// capture with the content the worker received on another channel: the
// file is streamed into the vault first and staged exactly as in
// FlagUpload, then the incident is submitted with ChoiceUpload. A
// category that forbids content refuses before anything is read.
func (s *Service) SubmitUpload(ctx context.Context, a Actor, id string, in SubmitInput, file Part) (Incident, error) {
	cat, err := s.policy.Category(in.Category)
	if err != nil {
		return Incident{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	if cat.Securing != policies.SecureContent {
		return Incident{}, fmt.Errorf("%w: category %q: secure the metadata instead", ErrContentForbidden, cat.ID)
	}
	if s.vault == nil {
		return Incident{}, errors.New("no vault configured")
	}
	var inc Incident
	err = s.store.View(ctx, func(tx Tx) (err error) { inc, err = visibleIncident(ctx, tx, a, id); return })
	if err != nil {
		return Incident{}, err
	}
	switch {
	case inc.ReporterID != a.ID:
		return Incident{}, fmt.Errorf("%w: only the reporter completes a flagged incident", ErrForbidden)
	case inc.State != StateFlagged || inc.NotCaptured == "":
		return Incident{}, fmt.Errorf("%w: incident %s takes no upload now", ErrInvalidTransition, inc.ID)
	case inc.staged():
		return Incident{}, fmt.Errorf("%w: a file is sealed for incident %s already; submit without a new one", ErrInvalidTransition, inc.ID)
	}
	if file, err = s.checkUpload(file); err != nil {
		return Incident{}, err
	}
	m := Manifest{IncidentID: inc.ID, Category: cat.ID, Message: inc.Message, CapturedAt: s.now()}
	intent, err := s.announceBundle(ctx, inc.ID, IntentUpload)
	if err != nil {
		return Incident{}, err
	}
	receipt, err := s.vault.Seal(ctx, intent.BundleID, m, []Part{file})
	if err != nil {
		s.abandonBundle(ctx, intent)
		return Incident{}, fmt.Errorf("failed to seal the upload: %w", err)
	}
	in.Choice = ChoiceUpload
	err = s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if inc, err = visibleIncident(ctx, tx, a, id); err != nil {
			return err
		}
		if inc.State != StateFlagged || inc.staged() {
			return fmt.Errorf("%w: incident %s changed while the file was sealed", ErrConflict, inc.ID)
		}
		inc.Receipt, inc.DestroyedAt = &receipt, nil
		if err := s.commitBundle(ctx, tx, receipt.BundleID); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, ActionEvidenceStaged, inc.ID, receiptDetails(receipt)); err != nil {
			return err
		}
		return s.submit(ctx, tx, a, &inc, in)
	})
	if err != nil {
		if derr := s.discardUnrecorded(ctx, intent); derr != nil {
			return Incident{}, fmt.Errorf("%w (the sealed upload %s is left to the orphan sweeper: %v)", err, receipt.BundleID, derr)
		}
		return Incident{}, err
	}
	return inc, nil
}

// returnForChoice hands an incident whose content turned out to be gone
// for good back to its reporter, who chooses what to secure instead. It
// runs in the transaction that ends the secure job.
func (s *Service) returnForChoice(ctx context.Context, tx Tx, inc *Incident) error {
	if inc.State != StateSecuring || inc.Evidence != EvidencePending {
		return nil
	}
	if inc.NotCaptured == "" {
		inc.NotCaptured = GapLost
	}
	inc.Choice = ""
	if err := s.updateState(ctx, tx, inc, StateFlagged); err != nil {
		return err
	}
	return s.record(ctx, tx, System, ActionContentUnavailable, inc.ID, map[string]string{"not_captured": string(inc.NotCaptured)})
}

// secureJob is the incident's secure job. After a worker's choice it has
// its own key: the job that found the content gone stays dead beside it.
func secureJob(inc *Incident) Job {
	if inc.Choice == "" {
		return Job{Kind: JobSecure, IncidentID: inc.ID, Key: jobKey(JobSecure, inc.ID)}
	}
	return Job{Kind: JobSecure, IncidentID: inc.ID, Key: jobKey(JobSecure, inc.ID, string(inc.Choice))}
}
