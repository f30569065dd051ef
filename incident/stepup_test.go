package incident_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// The step-up rule, attempt by attempt, with real TOTP codes checked by
// the domain: five wrong codes lock the account's approvals for 15
// minutes, during which even the right code is not checked (nor spent);
// the lock ends by itself; a right code clears the count; a code works
// once; each wrong code and the lock are audit entries.
func TestStepUpLock(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		const (
			wrong = iota
			right
			reused
		)
		type attempt struct {
			code    int
			advance time.Duration
			want    error
		}
		steps := []attempt{
			{wrong, 0, incident.ErrStepUpFailed},
			{wrong, time.Minute, incident.ErrStepUpFailed},
			{right, 0, nil},                       // clears the count
			{reused, 0, incident.ErrStepUpFailed}, // 1: a used code is a wrong one
			{wrong, 0, incident.ErrStepUpFailed},  // 2
			{wrong, 0, incident.ErrStepUpFailed},  // 3
			{wrong, 0, incident.ErrStepUpFailed},  // 4
			{wrong, 0, incident.ErrStepUpFailed},  // 5: locks
			{right, 0, incident.ErrStepUpLocked},  // not checked
			{wrong, 14 * time.Minute, incident.ErrStepUpLocked},
			{right, time.Minute, nil}, // the lock has ended
			{wrong, 0, incident.ErrStepUpFailed},
		}
		last := ""
		for i, st := range steps {
			w.clock.Advance(st.advance)
			var code string
			switch st.code {
			case wrong:
				code = w.wrongCode(w.sup1)
			case right:
				code = w.code(w.sup1)
				last = code
			case reused:
				code = last
			}
			err := w.svc.StepUp(w.ctx, w.sup1, code)
			if st.want == nil && err != nil || st.want != nil && !errors.Is(err, st.want) {
				t.Fatalf("attempt %d: %v, want %v", i+1, err, st.want)
			}
		}
		if n := count(w.actions(""), string(incident.AuthStepUpFailed)); n != 8 {
			t.Errorf("%d step-up failures audited, want 8", n)
		}
		if n := count(w.actions(""), string(incident.AuthStepUpLocked)); n != 1 {
			t.Errorf("%d locks audited, want 1", n)
		}
		// Another account is not affected; an account without a second
		// factor never passes.
		if err := w.svc.StepUp(w.ctx, w.sup2, w.code(w.sup2)); err != nil {
			t.Fatalf("other supervisor: %v", err)
		}
		if err := w.svc.StepUp(w.ctx, w.admin, "123456"); !errors.Is(err, incident.ErrStepUpFailed) {
			t.Fatalf("account without a second factor: %v, want ErrStepUpFailed", err)
		}
	})
}

// Parallel guesses cannot together pass the limit: of 40 wrong codes
// sent at once, at most five are checked and audited.
func TestStepUpParallelGuessesBounded(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		wrong := w.wrongCode(w.sup1)
		var wg sync.WaitGroup
		var mu sync.Mutex
		failed := 0
		for range 40 {
			wg.Go(func() {
				err := w.svc.StepUp(w.ctx, w.sup1, wrong)
				switch {
				case errors.Is(err, incident.ErrStepUpFailed):
					mu.Lock()
					failed++
					mu.Unlock()
				case errors.Is(err, incident.ErrStepUpLocked):
				default:
					t.Errorf("parallel attempt: %v", err)
				}
			})
		}
		wg.Wait()
		if failed > incident.StepUpMaxFailures {
			t.Errorf("%d codes checked, want at most %d", failed, incident.StepUpMaxFailures)
		}
		if n := count(w.actions(""), string(incident.AuthStepUpFailed)); n > incident.StepUpMaxFailures {
			t.Errorf("%d failures audited, want at most %d", n, incident.StepUpMaxFailures)
		}
	})
}

// A decision needs the step-up code, checked by the domain: without a
// right code nothing is decided; a decision that may not be made at all
// (by a worker, here the requester) is refused before the code is looked
// at, so it neither spends a code nor counts as a wrong one.
func TestDecideChecksStepUp(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("3A00000000000000D1", "violence")
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		if _, err := w.svc.Decide(w.ctx, w.worker, req.ID, true, "sichern", "123456"); !errors.Is(err, incident.ErrNotSupervisor) {
			t.Fatalf("worker: %v, want ErrNotSupervisor", err)
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, req.ID, true, "sichern", w.wrongCode(w.sup1)); !errors.Is(err, incident.ErrStepUpFailed) {
			t.Fatalf("wrong code: %v, want ErrStepUpFailed", err)
		}
		if r := w.pendingRequest(inc.ID, incident.RequestSecure); len(r.Decisions) != 0 {
			t.Fatal("decided with a wrong code")
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, req.ID, true, "sichern", ""); !errors.Is(err, incident.ErrStepUpFailed) {
			t.Fatalf("no code: %v, want ErrStepUpFailed", err)
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, req.ID, true, "sichern", w.code(w.sup1)); err != nil {
			t.Fatalf("right code: %v", err)
		}
		if n := count(w.actions(""), string(incident.AuthStepUpFailed)); n != 2 {
			t.Errorf("%d step-up failures audited, want 2", n)
		}
	})
}
