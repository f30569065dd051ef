package incident_test

import (
	"errors"

	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// TestConfirmStepTwice: a second "done" for a step the worker already
// confirmed succeeds without a change and without a second audit entry —
// before the last step and after it closed the incident. Anything that is
// not the same decision again is still refused.
func TestConfirmStepTwice(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGTWICE", "threat")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		steps, err := w.svc.Steps(w.ctx, w.worker, inc.ID)
		if err != nil || len(steps) < 3 {
			t.Fatalf("steps = %d, %v", len(steps), err)
		}
		first, err := w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, steps[0].Key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.MarkStepImpossible(w.ctx, w.worker, inc.ID, steps[1].Key, "kein Backup"); err != nil {
			t.Fatal(err)
		}
		entries := w.verify().Entries

		again, err := w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, steps[0].Key)
		if err != nil {
			t.Fatalf("second confirmation: %v", err)
		}
		if again.State != incident.StepDone || again.DoneAt == nil || !again.DoneAt.Equal(*first.DoneAt) || again.DoneBy != w.worker.ID {
			t.Fatalf("second confirmation returned %+v, want the step as first recorded %+v", again, first)
		}
		if got := w.verify().Entries; got != entries {
			t.Fatalf("second confirmation wrote %d audit entries", got-entries)
		}

		for name, c := range map[string]struct {
			a    incident.Actor
			key  string
			want error
		}{
			"confirming a step marked impossible": {w.worker, steps[1].Key, incident.ErrInvalidTransition},
			"another worker":                      {w.other, steps[0].Key, incident.ErrNotFound},
			"a supervisor":                        {w.sup1, steps[0].Key, incident.ErrForbidden},
			"an unknown step":                     {w.worker, "no-such-step", incident.ErrNotFound},
		} {
			_, err := w.svc.ConfirmStep(w.ctx, c.a, inc.ID, c.key)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", name, err, c.want)
			}
		}
		if got := w.verify().Entries; got != entries {
			t.Fatalf("refused confirmations wrote %d audit entries", got-entries)
		}

		for _, st := range steps[2:] {
			if _, err := w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, st.Key); err != nil {
				t.Fatal(err)
			}
		}
		if got := w.get(inc.ID); got.State != incident.StateClosed {
			t.Fatalf("state after the walkthrough = %s", got.State)
		}
		entries = w.verify().Entries
		last := steps[len(steps)-1].Key
		if _, err := w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, last); err != nil {
			t.Fatalf("second confirmation of the last step, incident closed: %v", err)
		}
		if got := w.verify().Entries; got != entries {
			t.Fatalf("second confirmation after closing wrote %d audit entries", got-entries)
		}
		if got := w.get(inc.ID); got.State != incident.StateClosed {
			t.Fatalf("state after the repeat = %s", got.State)
		}
	})
}
