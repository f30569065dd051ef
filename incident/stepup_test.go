package incident_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// The step-up rule, attempt by attempt: five wrong codes lock the
// account's approvals for 15 minutes, during which even the right code is
// not checked; the lock ends by itself; a right code clears the count;
// each wrong code and the lock are audit entries.
func TestStepUpLock(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		wrong := func(context.Context) error { return incident.ErrStepUpFailed }
		checked := 0
		right := func(context.Context) error { checked++; return nil }
		type attempt struct {
			verify  func(context.Context) error
			advance time.Duration
			want    error
		}
		steps := []attempt{
			{wrong, 0, incident.ErrStepUpFailed},
			{wrong, time.Minute, incident.ErrStepUpFailed},
			{right, 0, nil}, // clears the count
			{wrong, 0, incident.ErrStepUpFailed},
			{wrong, 0, incident.ErrStepUpFailed},
			{wrong, 0, incident.ErrStepUpFailed},
			{wrong, 0, incident.ErrStepUpFailed},
			{wrong, 0, incident.ErrStepUpFailed}, // the fifth locks
			{right, 0, incident.ErrStepUpLocked},
			{wrong, 14 * time.Minute, incident.ErrStepUpLocked},
			{right, time.Minute, nil}, // the lock has ended
			{wrong, 0, incident.ErrStepUpFailed},
		}
		for i, st := range steps {
			w.clock.Advance(st.advance)
			err := w.svc.StepUp(w.ctx, w.sup1, st.verify)
			if st.want == nil && err != nil || st.want != nil && !errors.Is(err, st.want) {
				t.Fatalf("attempt %d: %v, want %v", i+1, err, st.want)
			}
		}
		if checked != 2 {
			t.Errorf("the right code was checked %d times, want 2 (never while locked)", checked)
		}
		if n := count(w.actions(""), string(incident.AuthStepUpFailed)); n != 8 {
			t.Errorf("%d step-up failures audited, want 8", n)
		}
		if n := count(w.actions(""), string(incident.AuthStepUpLocked)); n != 1 {
			t.Errorf("%d locks audited, want 1", n)
		}
		// Another account is not affected.
		if err := w.svc.StepUp(w.ctx, w.sup2, right); err != nil {
			t.Fatalf("other supervisor: %v", err)
		}
	})
}

// Parallel guesses cannot together pass the limit: of 40 wrong codes
// sent at once, at most five are checked and audited.
func TestStepUpParallelGuessesBounded(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		var mu sync.Mutex
		checked := 0
		wrong := func(context.Context) error {
			mu.Lock()
			checked++
			mu.Unlock()
			return incident.ErrStepUpFailed
		}
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				err := w.svc.StepUp(w.ctx, w.sup1, wrong)
				if !errors.Is(err, incident.ErrStepUpFailed) && !errors.Is(err, incident.ErrStepUpLocked) {
					t.Errorf("parallel attempt: %v", err)
				}
			})
		}
		wg.Wait()
		if checked > incident.StepUpMaxFailures {
			t.Errorf("%d codes checked, want at most %d", checked, incident.StepUpMaxFailures)
		}
		if n := count(w.actions(""), string(incident.AuthStepUpFailed)); n > incident.StepUpMaxFailures {
			t.Errorf("%d failures audited, want at most %d", n, incident.StepUpMaxFailures)
		}
	})
}
