package incident

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ReleaseInput asks to hand evidence over (police, Jugendamt, a hotline,
// internal review). Every field is required.
type ReleaseInput struct {
	Purpose    string
	Recipient  string
	LegalBasis string
	Reason     string
}

// openRequest stores a new pending request for inc with the policy's
// expiry and schedules its expiry job.
func (s *Service) openRequest(ctx context.Context, tx Tx, a Actor, inc *Incident, r Request) (Request, error) {
	id, err := s.newID()
	if err != nil {
		return Request{}, err
	}
	now := s.now()
	r.ID, r.IncidentID, r.RequesterID, r.State = id, inc.ID, a.ID, RequestPending
	r.CreatedAt, r.ExpiresAt = now, now.Add(s.policy.FourEyes.RequestTTL)
	if r.RequiredApprovals < 1 {
		r.RequiredApprovals = s.policy.FourEyes.Approvals
	}
	if err := tx.CreateRequest(ctx, &r); err != nil {
		return Request{}, fmt.Errorf("failed to create request: %w", err)
	}
	details := map[string]string{
		"request_id": r.ID, "kind": string(r.Kind), "required_approvals": strconv.Itoa(r.RequiredApprovals),
		"expires_at": r.ExpiresAt.Format(time.RFC3339),
	}
	if r.Reason != "" {
		details["reason_sha256"] = digest(r.Reason)
	}
	if r.Kind == RequestRelease {
		details["recipient_sha256"], details["purpose_sha256"], details["legal_basis_sha256"] = digest(r.Recipient), digest(r.Purpose), digest(r.LegalBasis)
	}
	if err := s.record(ctx, tx, a, ActionRequestOpened, inc.ID, details); err != nil {
		return Request{}, err
	}
	deciders, err := mayDecide(ctx, tx, r)
	if err != nil {
		return Request{}, err
	}
	if err := s.notifyUsers(ctx, tx, NoticeRequestWaiting, inc.ID, r.ID, r.ID, deciders); err != nil {
		return Request{}, err
	}
	if err := s.enqueue(ctx, tx, Job{Kind: JobRemind, IncidentID: inc.ID, RequestID: r.ID, Key: jobKey(JobRemind, r.ID), RunAt: r.ExpiresAt.Add(-s.remindLead())}); err != nil {
		return Request{}, err
	}
	return r, s.enqueue(ctx, tx, Job{Kind: JobExpire, IncidentID: inc.ID, RequestID: r.ID, Key: jobKey(JobExpire, r.ID), RunAt: r.ExpiresAt})
}

// incidentWithEvidence loads an incident the actor may see whose
// evidence is in the vault, or fails with ErrInvalidTransition.
func incidentWithEvidence(ctx context.Context, tx Tx, a Actor, id string) (Incident, error) {
	inc, err := visibleIncident(ctx, tx, a, id)
	if err != nil {
		return Incident{}, err
	}
	if inc.Evidence != EvidenceSecured || inc.DestroyedAt != nil {
		return Incident{}, fmt.Errorf("%w: incident %s has no evidence in the vault", ErrInvalidTransition, inc.ID)
	}
	return inc, nil
}

// RequestRelease asks for four-eyes approval to hand the incident's
// evidence over. Workers may ask for their own incidents, supervisors for any.
func (s *Service) RequestRelease(ctx context.Context, a Actor, incidentID string, in ReleaseInput) (Request, error) {
	if err := knownID("incident", incidentID); err != nil {
		return Request{}, err
	}
	if err := requireRole(a, RoleWorker, RoleSupervisor); err != nil {
		return Request{}, err
	}
	fields := map[string]*string{"purpose": &in.Purpose, "recipient": &in.Recipient, "legal basis": &in.LegalBasis, "reason": &in.Reason}
	for _, name := range []string{"purpose", "recipient", "legal basis", "reason"} {
		*fields[name] = strings.TrimSpace(*fields[name])
		if *fields[name] == "" {
			return Request{}, fmt.Errorf("%w: the %s is missing", ErrInvalidInput, name)
		}
		if len(*fields[name]) > MaxDescription {
			return Request{}, fmt.Errorf("%w: the %s is too long", ErrInvalidInput, name)
		}
	}
	var r Request
	err := s.store.Tx(ctx, func(tx Tx) error {
		inc, err := incidentWithEvidence(ctx, tx, a, incidentID)
		if err != nil {
			return err
		}
		r, err = s.openRequest(ctx, tx, a, &inc, Request{
			Kind: RequestRelease, Purpose: in.Purpose, Recipient: in.Recipient, LegalBasis: in.LegalBasis, Reason: in.Reason,
		})
		return err
	})
	return r, err
}

// RequestDestroy asks for four-eyes approval to destroy the evidence
// before its retention ends. Only supervisors ask.
func (s *Service) RequestDestroy(ctx context.Context, a Actor, incidentID, reason string) (Request, error) {
	if err := knownID("incident", incidentID); err != nil {
		return Request{}, err
	}
	if err := requireRole(a, RoleSupervisor); err != nil {
		return Request{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Request{}, fmt.Errorf("%w: say why the evidence should be destroyed early", ErrReasonRequired)
	}
	var r Request
	err := s.store.Tx(ctx, func(tx Tx) error {
		inc, err := incidentWithEvidence(ctx, tx, a, incidentID)
		if err != nil {
			return err
		}
		if inc.LegalHold {
			return fmt.Errorf("%w: lift the hold first", ErrLegalHold)
		}
		r, err = s.openRequest(ctx, tx, a, &inc, Request{Kind: RequestDestroy, Reason: reason})
		return err
	})
	return r, err
}

// Decide approves or rejects a request under the four-eyes rules: a
// supervisor other than the requester, before expiry, once, with a reason,
// and with a fresh step-up proof checked under the step-up rule: code, a
// TOTP code (StepUp), or without one, where the policy says so, the
// account's confirmation at the identity provider (ConfirmStepUpExternal),
// used once. When the request reaches its approvals (or
// is rejected) its effect starts in the same transaction.
//
// The four-eyes rules are checked once before the proof, so that a
// decision that may not be made neither spends a code nor counts as a
// wrong one, and again in the transaction that applies it.
func (s *Service) Decide(ctx context.Context, a Actor, requestID string, approve bool, reason, code string) (Request, error) {
	if err := knownID("request", requestID); err != nil {
		return Request{}, err
	}
	var r Request
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.Request(ctx, requestID); err != nil {
			return err
		}
		if _, err := visibleIncident(ctx, tx, a, r.IncidentID); err != nil {
			return err
		}
		dry := r
		dry.Decisions = slices.Clone(r.Decisions)
		return dry.decide(a, approve, reason, s.now())
	})
	if err != nil {
		return Request{}, err
	}
	if err := s.stepUpForDecision(ctx, a, code); err != nil {
		return Request{}, err
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.Request(ctx, requestID); err != nil {
			return err
		}
		inc, err := visibleIncident(ctx, tx, a, r.IncidentID)
		if err != nil {
			return err
		}
		if err := r.decide(a, approve, reason, s.now()); err != nil {
			return err
		}
		if err := tx.UpdateRequest(ctx, &r); err != nil {
			return fmt.Errorf("failed to update request: %w", err)
		}
		action := ActionRequestApprovalAdded
		switch r.State {
		case RequestApproved:
			action = ActionRequestApproved
		case RequestRejected:
			action = ActionRequestRejected
		}
		if err := s.record(ctx, tx, a, action, inc.ID, map[string]string{
			"request_id": r.ID, "kind": string(r.Kind), "approve": strconv.FormatBool(approve),
			"reason_sha256": digest(strings.TrimSpace(reason)), "approvals": strconv.Itoa(r.Approvals()),
		}); err != nil {
			return err
		}
		if r.State != RequestPending {
			if err := s.notifyRequester(ctx, tx, NoticeRequestDecided, r); err != nil {
				return err
			}
		}
		return s.applyDecision(ctx, tx, a, &inc, &r)
	})
	if err != nil {
		return Request{}, err
	}
	return r, nil
}

// applyDecision starts what a decided request leads to.
func (s *Service) applyDecision(ctx context.Context, tx Tx, a Actor, inc *Incident, r *Request) error {
	switch {
	case r.State == RequestPending:
		return nil
	case r.Kind == RequestSecure && r.State == RequestApproved && inc.Choice == ChoiceNotSecurable:
		// The approval confirms the worker's reason: nothing is secured.
		return s.markNotSecured(ctx, tx, a, inc, map[string]string{"request_id": r.ID, "choice": string(inc.Choice),
			"reason_sha256": digest(inc.NotSecuredReason)})
	case r.Kind == RequestSecure && r.State == RequestRejected && inc.Choice == ChoiceNotSecurable:
		// The supervisor does not accept that nothing can be secured: the
		// worker chooses again (e.g. an upload from another channel).
		inc.Choice, inc.NotSecuredReason = "", ""
		if err := s.updateState(ctx, tx, inc, StateFlagged); err != nil {
			return err
		}
		return s.record(ctx, tx, a, ActionIncidentReturned, inc.ID, map[string]string{"request_id": r.ID})
	case r.Kind == RequestSecure && r.State == RequestApproved:
		if err := s.updateState(ctx, tx, inc, StateSecuring); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, secureJob(inc))
	case r.Kind == RequestSecure && r.State == RequestRejected:
		// A rejected securing is the decision not to secure: the message
		// still has to go from WhatsApp and the phone.
		inc.NotSecuredReason = r.Decisions[len(r.Decisions)-1].Reason
		if inc.Receipt != nil {
			// A staged upload must not outlive the decision not to keep it.
			if err := s.enqueue(ctx, tx, Job{Kind: JobDestroy, IncidentID: inc.ID, RequestID: r.ID, Key: jobKey(JobDestroy, inc.ID, r.ID)}); err != nil {
				return err
			}
		}
		return s.markNotSecured(ctx, tx, a, inc, map[string]string{"request_id": r.ID})
	case r.Kind == RequestDestroy && r.State == RequestApproved:
		return s.enqueue(ctx, tx, Job{Kind: JobDestroy, IncidentID: inc.ID, RequestID: r.ID, Key: jobKey(JobDestroy, inc.ID, r.ID)})
	}
	return nil
}

// updateState moves inc to a new state and stores it.
func (s *Service) updateState(ctx context.Context, tx Tx, inc *Incident, to State) error {
	if err := inc.moveTo(to); err != nil {
		return err
	}
	inc.UpdatedAt = s.now()
	if err := tx.UpdateIncident(ctx, inc); err != nil {
		return fmt.Errorf("failed to update incident: %w", err)
	}
	return nil
}

// RecordHandover notes that approved, released evidence was handed to the
// recipient. Only a supervisor records it, once.
func (s *Service) RecordHandover(ctx context.Context, a Actor, requestID, note string) (Request, error) {
	if err := knownID("request", requestID); err != nil {
		return Request{}, err
	}
	if err := requireRole(a, RoleSupervisor); err != nil {
		return Request{}, err
	}
	var r Request
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.Request(ctx, requestID); err != nil {
			return err
		}
		if r.Kind != RequestRelease || r.State != RequestApproved {
			return fmt.Errorf("%w: request %s is not an approved release", ErrInvalidTransition, r.ID)
		}
		if r.HandedOverAt != nil {
			return fmt.Errorf("%w: handover of request %s already recorded", ErrAlreadyDecided, r.ID)
		}
		now := s.now()
		r.HandedOverAt, r.HandedOverBy, r.HandoverNote = &now, a.ID, strings.TrimSpace(note)
		if err := tx.UpdateRequest(ctx, &r); err != nil {
			return fmt.Errorf("failed to update request: %w", err)
		}
		return s.record(ctx, tx, a, ActionEvidenceHandedOver, r.IncidentID, map[string]string{
			"request_id": r.ID, "recipient_sha256": digest(r.Recipient), "note_sha256": digest(r.HandoverNote),
		})
	})
	return r, err
}
