package incident_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// "Not possible" on the request to the young person leaves a reminder
// with a deadline instead of closing the walkthrough; the reminder itself
// closes when it is marked not possible too.
func TestYoungPersonStepLeavesFollowUp(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGFU", "violence")
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		if _, err := w.svc.Decide(w.ctx, w.sup2, req.ID, true, "ok", w.code(w.sup2)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		steps, err := w.svc.Steps(w.ctx, w.worker, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range steps {
			if st.Key == "ask_recipient" {
				_, err = w.svc.MarkStepImpossible(w.ctx, w.worker, inc.ID, st.Key, "Jugendliche*r nicht erreichbar")
			} else {
				_, err = w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, st.Key)
			}
			if err != nil {
				t.Fatalf("step %s: %v", st.Key, err)
			}
		}
		if got := w.get(inc.ID); got.State != incident.StateWalkthrough {
			t.Fatalf("state = %s, want the walkthrough to stay open for the follow-up", got.State)
		}
		after, err := w.svc.Steps(w.ctx, w.worker, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(steps)+1 {
			t.Fatalf("%d steps after, want %d", len(after), len(steps)+1)
		}
		fu := after[len(after)-1]
		if fu.Key != "ask_recipient.follow_up" || fu.State != incident.StepOpen || fu.Position != len(after) ||
			!fu.DueAt.Equal(w.clock.Now().Add(7*24*time.Hour)) || !strings.Contains(fu.Title.DE, "nachfragen") {
			t.Fatalf("follow-up = %+v", fu)
		}
		acts := w.actions(inc.ID)
		if i, j := slices.Index(acts, "step.impossible"), slices.Index(acts, "step.follow_up"); i < 0 || j != i+1 {
			t.Fatalf("audit trail %v: want step.follow_up right after step.impossible", acts)
		}
		if _, err := w.svc.MarkStepImpossible(w.ctx, w.worker, inc.ID, fu.Key, "Kontakt abgebrochen"); err != nil {
			t.Fatal(err)
		}
		if got := w.get(inc.ID); got.State != incident.StateClosed {
			t.Fatalf("state = %s after the follow-up, want closed", got.State)
		}
		if n := len(slices.DeleteFunc(w.actions(inc.ID), func(a string) bool { return a != "step.follow_up" })); n != 1 {
			t.Fatalf("%d follow-ups recorded, want 1", n)
		}
		w.verify()
	})
}
