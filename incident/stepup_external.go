package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Step-up by re-authentication at the identity provider.
//
// Under the policy's oidc.step_up: provider, an account linked to the
// identity provider proves itself for an approval by signing in there
// again (prompt=login, max_age) instead of typing a TOTP code. The
// adapter checks the ID token as for a sign-in; this file holds the
// rules for the rest (ConfirmStepUpExternal): the same person as the
// account's link, auth_time present, not before the re-authentication was
// asked for and within oidc.step_up_max_age, and acr/amr as the policy
// requires. A confirmation is a one-time step-up for the account's next
// decision, usable until auth_time + step_up_max_age. Failures count
// toward the step-up lock like wrong codes. Local accounts and the API
// keep TOTP: a decision with a code is always checked as a code.

// StepUpClockSkew is how much earlier than the re-authentication was asked
// for an auth_time may be, for clocks that differ a little.
const StepUpClockSkew = 30 * time.Second

var (
	// ErrStepUpConfirmAgain: the decision needs a confirmation at the
	// identity provider and there is none, or it has been used or has
	// expired. It wraps into ErrStepUpFailed.
	ErrStepUpConfirmAgain = errors.New("confirm at the identity provider again")
	// ErrStepUpNotFresh: the identity provider's answer does not prove
	// a fresh sign-in of the account's person as the policy requires.
	// Its text names the rule with a code (StepUpRefusal), never the
	// provider's values.
	ErrStepUpNotFresh = errors.New("the identity provider did not confirm a fresh sign-in")
)

// ActionStepUpConfirmed: the account's person signed in again at the
// identity provider for an approval; the next decision may use it.
const ActionStepUpConfirmed Action = "auth.step_up_confirmed_by_provider"

// StepUpRefusal names which rule a re-authentication failed.
type StepUpRefusal string

// Refusals of ConfirmStepUpExternal.
const (
	RefusalNotEnabled  StepUpRefusal = "not_enabled"  // the policy has no step-up at the provider
	RefusalNotLinked   StepUpRefusal = "not_linked"   // a local account, or disabled
	RefusalOtherPerson StepUpRefusal = "other_person" // another issuer or subject than the link
	RefusalNoAuthTime  StepUpRefusal = "no_auth_time" // the token does not say when
	RefusalBeforeFlow  StepUpRefusal = "before_flow"  // an older sign-in, not this re-authentication
	RefusalTooOld      StepUpRefusal = "too_old"      // older than step_up_max_age
	RefusalACR         StepUpRefusal = "acr"          // acr not among step_up_acr
	RefusalAMR         StepUpRefusal = "amr"          // none of step_up_amr
	RefusalFuture      StepUpRefusal = "auth_time_future"
)

// stepUpRefusalError carries the refusal code.
type stepUpRefusalError struct{ code StepUpRefusal }

func (e *stepUpRefusalError) Error() string {
	return fmt.Sprintf("%v (%s)", ErrStepUpNotFresh, e.code)
}

func (e *stepUpRefusalError) Unwrap() []error { return []error{ErrStepUpNotFresh, ErrStepUpFailed} }

// RefusalOf returns the refusal code in err, or "".
func RefusalOf(err error) StepUpRefusal {
	var e *stepUpRefusalError
	if errors.As(err, &e) {
		return e.code
	}
	return ""
}

// StepUpStatus is how an account steps up for decisions, for the pages.
type StepUpStatus struct {
	// AtProvider: the account confirms at the identity provider instead
	// of typing a code.
	AtProvider bool
	// ConfirmedUntil is until when a confirmation at the provider serves
	// the next decision; zero when there is none.
	ConfirmedUntil time.Time
	// MaxAge and ACR are what to ask the provider for: max_age and
	// acr_values (none when empty).
	MaxAge time.Duration
	ACR    []string
}

// StepUpStatusOf tells how a steps up now.
func (s *Service) StepUpStatusOf(ctx context.Context, a Actor) (StepUpStatus, error) {
	if !s.policy.OIDC.StepUpAtProvider() {
		return StepUpStatus{}, nil
	}
	var st StepUpStatus
	err := s.store.View(ctx, func(tx Tx) error {
		id, err := tx.ExternalIdentityOf(ctx, a.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		st.AtProvider, st.MaxAge, st.ACR = true, s.policy.OIDC.StepUpAge(), slices.Clone(s.policy.OIDC.StepUpACR)
		if s.now().Before(id.StepUpUntil) {
			st.ConfirmedUntil = id.StepUpUntil
		}
		return nil
	})
	return st, err
}

// checkReauth applies the freshness rule to a verified ID token's
// claims: asked is when the re-authentication was asked for.
func (s *Service) checkReauth(id ExternalIdentity, asked time.Time, in ExternalSignIn, now time.Time) StepUpRefusal {
	o := s.policy.OIDC
	switch {
	case in.Issuer != id.Issuer || in.Subject != id.Subject:
		return RefusalOtherPerson
	case in.AuthTime.IsZero():
		return RefusalNoAuthTime
	case in.AuthTime.Before(asked.Add(-StepUpClockSkew)):
		return RefusalBeforeFlow
	case in.AuthTime.After(now.Add(StepUpClockSkew)):
		return RefusalFuture
	case now.Sub(in.AuthTime) >= o.StepUpAge(): // a step-up that would end at once
		return RefusalTooOld
	case len(o.StepUpACR) > 0 && !slices.Contains(o.StepUpACR, in.ACR):
		return RefusalACR
	case len(o.StepUpAMR) > 0 && !slices.ContainsFunc(in.AMR, func(m string) bool { return slices.Contains(o.StepUpAMR, m) }):
		return RefusalAMR
	}
	return ""
}

// ConfirmStepUpExternal takes a verified re-authentication at the
// identity provider for the account userID, asked for at asked, and
// records it as a one-time step-up for the account's next decision,
// valid until auth_time + oidc.step_up_max_age, which it returns. A
// refused one (an error wrapping ErrStepUpFailed and ErrStepUpNotFresh;
// RefusalOf names the rule) counts toward the step-up lock like a wrong
// code when the token was the account's own person's; one of another
// person (or for an account that cannot confirm there) does not, since
// the account named by the browser's flow cookie may have been swapped.
// While the lock holds, ErrStepUpLocked. The confirmation, each refusal
// and the lock are audit entries.
func (s *Service) ConfirmStepUpExternal(ctx context.Context, userID string, asked time.Time, in ExternalSignIn) (time.Time, error) {
	if err := knownID("user", userID); err != nil {
		return time.Time{}, err
	}
	var until, locked time.Time
	var refusal StepUpRefusal
	err := s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		a := u.Actor()
		t, lockEnd, err := stepUpThrottle(ctx, tx, u.ID, now)
		if locked = lockEnd; err != nil || !locked.IsZero() {
			return err
		}
		id, err := tx.ExternalIdentityOf(ctx, u.ID)
		switch {
		case !s.policy.OIDC.StepUpAtProvider():
			refusal = RefusalNotEnabled
		case errors.Is(err, ErrNotFound) || err == nil && u.Disabled:
			refusal = RefusalNotLinked
		case err != nil:
			return err
		default:
			refusal = s.checkReauth(id, asked, in, now)
		}
		fields := map[string]string{"user_id": u.ID, "via": "provider", "reason": string(refusal)}
		switch refusal {
		case "":
		case RefusalOtherPerson, RefusalNotLinked, RefusalNotEnabled:
			// Not this account's person at the provider: the flow's
			// account may have been swapped in the browser's cookie. It
			// must not let anyone lock another's approvals, so it is
			// recorded but not counted.
			return s.record(ctx, tx, System, Action(AuthStepUpFailed), "", fields)
		default:
			return s.countStepUpFailure(ctx, tx, a, t, now, fields)
		}
		until = in.AuthTime.Add(s.policy.OIDC.StepUpAge())
		if err := tx.GrantExternalStepUp(ctx, u.ID, until); err != nil {
			return err
		}
		if err := tx.SetThrottle(ctx, Throttle{Key: t.Key, WindowStart: now}); err != nil {
			return err
		}
		return s.record(ctx, tx, a, ActionStepUpConfirmed, "", map[string]string{"user_id": u.ID, "until": until.Format(time.RFC3339)})
	})
	switch {
	case err != nil:
		return time.Time{}, err
	case !locked.IsZero():
		return time.Time{}, stepUpLocked(locked)
	case refusal != "":
		return time.Time{}, &stepUpRefusalError{code: refusal}
	}
	return until, nil
}

// countStepUpFailure counts one failed step-up in t (the account's
// step-up throttle, read in tx), locks at the limit, and records the
// failure and the lock.
func (s *Service) countStepUpFailure(ctx context.Context, tx Tx, a Actor, t Throttle, now time.Time, fields map[string]string) error {
	t = countStepUpAttempt(t, now)
	if err := tx.SetThrottle(ctx, t); err != nil {
		return err
	}
	if err := s.record(ctx, tx, a, Action(AuthStepUpFailed), "", fields); err != nil {
		return err
	}
	if !t.Locked(now) {
		return nil
	}
	return s.record(ctx, tx, a, Action(AuthStepUpLocked), "", map[string]string{"user_id": a.ID, "until": t.LockedUntil.Format(time.RFC3339)})
}

// stepUpForDecision checks the step-up of a decision: a code is checked
// as a TOTP code (StepUp); without one, an account that steps up at the
// identity provider uses its confirmation there, once. Without either,
// ErrStepUpFailed wrapping ErrStepUpConfirmAgain for such an account,
// and the code rule for others.
func (s *Service) stepUpForDecision(ctx context.Context, a Actor, code string) error {
	if code != "" || !s.policy.OIDC.StepUpAtProvider() {
		return s.StepUp(ctx, a, code)
	}
	linked, used := false, false
	var locked time.Time
	err := s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		if _, err := tx.ExternalIdentityOf(ctx, a.ID); errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		linked = true
		_, lockEnd, err := stepUpThrottle(ctx, tx, a.ID, now)
		if locked = lockEnd; err != nil || !locked.IsZero() {
			return err
		}
		used, err = tx.ConsumeExternalStepUp(ctx, a.ID, now)
		return err
	})
	switch {
	case err != nil:
		return err
	case !linked:
		return s.StepUp(ctx, a, code)
	case !locked.IsZero():
		return stepUpLocked(locked)
	case !used:
		return fmt.Errorf("%w: %w", ErrStepUpFailed, ErrStepUpConfirmAgain)
	}
	return nil
}
