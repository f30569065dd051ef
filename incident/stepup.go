package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/account"
)

// The step-up rule: a fresh proof of the second factor for every decision,
// and after StepUpMaxFailures wrong proofs within StepUpLockout the
// account's step-up is locked for StepUpLockout. Only approvals are
// locked: signing in stays possible, so that a stolen token cannot lock
// its owner out of everything.
const (
	StepUpMaxFailures = 5
	StepUpLockout     = 15 * time.Minute
)

var (
	// ErrStepUpFailed: the step-up proof (a TOTP code) was wrong or used.
	ErrStepUpFailed = errors.New("wrong or used step-up code")
	// ErrStepUpLocked: too many wrong step-up proofs; wait for the lock
	// to end. The error's text says until when.
	ErrStepUpLocked = errors.New("step-up locked after too many wrong codes")
)

// ErrNoFactors: the service was built without second-factor checking
// (WithFactors), so no step-up proof can be checked and nothing that
// needs one is done.
var ErrNoFactors = errors.New("no second-factor checking configured")

// WithFactors lets the service check step-up proofs (TOTP codes) against
// the second factors in the store, opened with f.
func WithFactors(f *account.Factors) Option { return func(s *Service) { s.factors = f } }

// StepUp checks the actor's step-up proof — a fresh code of their second
// factor — and consumes it, unless the actor's step-up is locked. A wrong
// or used code, or an account without a second factor, gives
// ErrStepUpFailed. Decide calls it; it is exported for the tests of the
// rule.
//
// Each attempt is counted before the code is checked, in a transaction
// of its own, so that parallel guesses cannot together pass the limit:
// the (StepUpMaxFailures+1)th attempt within the window is refused
// without being checked, whatever the code. A right proof clears the
// count. Each wrong proof is an audit entry (auth.step_up_failed) and so
// is the lock (auth.step_up_locked); the lock bounds their number.
func (s *Service) StepUp(ctx context.Context, a Actor, code string) error {
	// (A failed confirmation at the identity provider counts on the
	// same throttle: ConfirmStepUpExternal.)
	if s.factors == nil {
		return ErrNoFactors
	}
	key := stepUpKey(a.ID)
	var locked time.Time
	err := s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		var t Throttle
		var err error
		if t, locked, err = stepUpThrottle(ctx, tx, a.ID, now); err != nil || !locked.IsZero() {
			return err
		}
		// Counted now; cleared again by a right proof.
		return tx.SetThrottle(ctx, countStepUpAttempt(t, now))
	})
	if err != nil {
		return err
	}
	if !locked.IsZero() {
		return stepUpLocked(locked)
	}
	// A right code is consumed and the count cleared in one transaction.
	verr := s.store.Tx(ctx, func(tx Tx) error {
		if _, err := s.factors.Check(ctx, tx.Accounts(), a.ID, code, false); err != nil {
			return err
		}
		return tx.SetThrottle(ctx, Throttle{Key: key, WindowStart: s.now()})
	})
	if !errors.Is(verr, account.ErrWrongCode) {
		return verr
	}
	verr = fmt.Errorf("%w: %w", ErrStepUpFailed, verr)
	err = s.store.Tx(ctx, func(tx Tx) error {
		if err := s.record(ctx, tx, a, Action(AuthStepUpFailed), "", map[string]string{"user_id": a.ID}); err != nil {
			return err
		}
		t, err := tx.Throttle(ctx, key)
		if err != nil || !t.Locked(s.now()) {
			return err
		}
		return s.record(ctx, tx, a, Action(AuthStepUpLocked), "", map[string]string{
			"user_id": a.ID, "until": t.LockedUntil.Format(time.RFC3339)})
	})
	return errors.Join(verr, err)
}

// countStepUpAttempt counts one failed (or not yet checked) step-up in
// the account's throttle t at now: a new window after StepUpLockout, and
// the lock at StepUpMaxFailures.
func countStepUpAttempt(t Throttle, now time.Time) Throttle {
	if now.Sub(t.WindowStart) >= StepUpLockout {
		t = Throttle{Key: t.Key, WindowStart: now}
	}
	t.Failures++
	if t.Failures >= StepUpMaxFailures {
		t.LockedUntil = now.Add(StepUpLockout)
	}
	return t
}

// stepUpKey is the throttle key of an account's step-up.
func stepUpKey(userID string) string { return "step-up:" + userID }

// stepUpThrottle reads the account's step-up throttle in tx; locked is
// when its lock ends, zero when it is not locked at now.
func stepUpThrottle(ctx context.Context, tx Tx, userID string, now time.Time) (t Throttle, locked time.Time, err error) {
	t, err = tx.Throttle(ctx, stepUpKey(userID))
	if err == nil && t.Locked(now) {
		locked = t.LockedUntil
	}
	return t, locked, err
}

// stepUpLocked is ErrStepUpLocked saying until when.
func stepUpLocked(until time.Time) error {
	return fmt.Errorf("%w until %s", ErrStepUpLocked, until.Format(time.RFC3339))
}
