package incident

import (
	"context"
	"fmt"
	"strings"
)

// ConfirmStep records that the worker did a deletion step. Confirming a
// step the same worker already confirmed is a no-op success that returns
// the step as recorded and writes no second audit entry, also once the
// incident is closed.
func (s *Service) ConfirmStep(ctx context.Context, a Actor, incidentID, key string) (Step, error) {
	if err := knownID("incident", incidentID); err != nil {
		return Step{}, err
	}
	return s.resolveStep(ctx, a, incidentID, key, StepDone, "")
}

// MarkStepImpossible records that a step cannot be done, and why. When
// the policy gives the step a follow-up (the request to the young person),
// a reminder step due after the follow-up's time takes its place, so the
// incident does not close silently.
func (s *Service) MarkStepImpossible(ctx context.Context, a Actor, incidentID, key, reason string) (Step, error) {
	if err := knownID("incident", incidentID); err != nil {
		return Step{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Step{}, fmt.Errorf("%w: say why the step cannot be done", ErrReasonRequired)
	}
	if len(reason) > MaxDescription {
		return Step{}, fmt.Errorf("%w: the reason is too long", ErrInvalidInput)
	}
	return s.resolveStep(ctx, a, incidentID, key, StepImpossible, reason)
}

// alreadyDone finds the step key when confirming it again would repeat
// what actor a already recorded: it is done, by a, and to is done too.
// Marking a step impossible, or a step another user closed, is never a
// repeat.
func alreadyDone(steps []Step, key string, to StepState, a Actor) (Step, bool) {
	if to != StepDone {
		return Step{}, false
	}
	for _, st := range steps {
		if st.Key == key && st.State == StepDone && st.DoneBy == a.ID {
			return st, true
		}
	}
	return Step{}, false
}

// resolveStep closes one open step; when it was the last, the incident closes.
func (s *Service) resolveStep(ctx context.Context, a Actor, incidentID, key string, to StepState, reason string) (Step, error) {
	var done Step
	err := s.store.Tx(ctx, func(tx Tx) error {
		inc, err := visibleIncident(ctx, tx, a, incidentID)
		if err != nil {
			return err
		}
		if inc.ReporterID != a.ID {
			return fmt.Errorf("%w: only the reporting worker confirms deletion steps", ErrForbidden)
		}
		steps, err := tx.Steps(ctx, inc.ID)
		if err != nil {
			return err
		}
		if st, ok := alreadyDone(steps, key, to, a); ok {
			// A second tap on "done" (a double click, a resent form, a
			// retried API call) is the same decision again: it succeeds
			// without changing anything and without a second audit entry,
			// also after the last step closed the incident.
			done = st
			return nil
		}
		if inc.State != StateWalkthrough {
			return fmt.Errorf("%w: incident %s is %s, not in the walkthrough", ErrInvalidTransition, inc.ID, inc.State)
		}
		open := 0
		var found bool
		var followUp Step
		for _, st := range steps {
			if st.Key == key {
				found = true
				if !st.open() {
					return fmt.Errorf("%w: step %q is already %s", ErrInvalidTransition, key, st.State)
				}
				now := s.now()
				st.State, st.Reason, st.DoneAt, st.DoneBy = to, reason, &now, a.ID
				if err := tx.UpdateStep(ctx, st); err != nil {
					return fmt.Errorf("failed to update step: %w", err)
				}
				done = st
				if to == StepImpossible {
					if fu, ok := s.followUpFor(inc, st, len(steps)+1); ok {
						followUp = fu
						open++
					}
				}
				continue
			}
			if st.open() {
				open++
			}
		}
		if !found {
			return fmt.Errorf("step %q of incident %s: %w", key, inc.ID, ErrNotFound)
		}
		details := map[string]string{"step": key, "state": string(to)}
		if reason != "" {
			details["reason_sha256"] = digest(reason)
		}
		if err := s.record(ctx, tx, a, stepAction(to), inc.ID, details); err != nil {
			return err
		}
		if followUp.Key != "" {
			if err := tx.CreateSteps(ctx, []Step{followUp}); err != nil {
				return fmt.Errorf("failed to add the follow-up step: %w", err)
			}
			if err := s.record(ctx, tx, a, ActionStepFollowUp, inc.ID, map[string]string{
				"step": followUp.Key, "after": key, "due_at": followUp.DueAt.UTC().Format("2006-01-02T15:04:05Z"),
			}); err != nil {
				return err
			}
		}
		if open > 0 {
			// Bumping the incident's version serialises concurrent step
			// changes (and escalation): of two confirming the last two
			// steps at once, one retries and then closes the incident.
			inc.UpdatedAt = s.now()
			if err := tx.UpdateIncident(ctx, &inc); err != nil {
				return fmt.Errorf("failed to update incident: %w", err)
			}
			return nil
		}
		if err := s.updateState(ctx, tx, &inc, StateClosed); err != nil {
			return err
		}
		return s.record(ctx, tx, a, ActionIncidentClosed, inc.ID, nil)
	})
	if err != nil {
		return Step{}, err
	}
	return done, nil
}

// SetLegalHold puts the incident's evidence on legal hold, or lifts it. A
// held bundle is not destroyed when its retention ends. Lifting a hold
// after retention ended schedules the destruction.
func (s *Service) SetLegalHold(ctx context.Context, a Actor, incidentID string, hold bool, reason string) (Incident, error) {
	if err := knownID("incident", incidentID); err != nil {
		return Incident{}, err
	}
	if err := requireRole(a, RoleSupervisor); err != nil {
		return Incident{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Incident{}, fmt.Errorf("%w: say why", ErrReasonRequired)
	}
	var inc Incident
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if inc, err = visibleIncident(ctx, tx, a, incidentID); err != nil {
			return err
		}
		if inc.LegalHold == hold {
			return fmt.Errorf("%w: legal hold is already %v", ErrInvalidTransition, hold)
		}
		inc.LegalHold, inc.UpdatedAt = hold, s.now()
		if err := tx.UpdateIncident(ctx, &inc); err != nil {
			return fmt.Errorf("failed to update incident: %w", err)
		}
		action := ActionRetentionHoldSet
		if !hold {
			action = ActionRetentionHoldLifted
		}
		if err := s.record(ctx, tx, a, action, inc.ID, map[string]string{"reason_sha256": digest(reason)}); err != nil {
			return err
		}
		if hold || inc.DestroyedAt != nil {
			return nil
		}
		stamp := s.now().Format("20060102T150405.000000")
		// An early destruction approved while the hold stood goes ahead now.
		approved, err := tx.Requests(ctx, RequestFilter{IncidentID: inc.ID, State: RequestApproved})
		if err != nil {
			return err
		}
		for _, r := range approved {
			if r.Kind != RequestDestroy {
				continue
			}
			if err := s.enqueue(ctx, tx, Job{Kind: JobDestroy, IncidentID: inc.ID, RequestID: r.ID,
				Key: jobKey(JobDestroy, inc.ID, r.ID, "hold-lifted", stamp)}); err != nil {
				return err
			}
		}
		if inc.RetentionUntil == nil || s.now().Before(*inc.RetentionUntil) {
			return nil
		}
		return s.enqueue(ctx, tx, Job{Kind: JobDestroy, IncidentID: inc.ID, Key: jobKey(JobDestroy, inc.ID, "hold-lifted", stamp)})
	})
	return inc, err
}
