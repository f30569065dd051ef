package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident/password"
)

// ErrWrongPassword: the current password given to change it was wrong.
var ErrWrongPassword = errors.New("the current password is wrong")

// ChangePassword sets the actor's own password to next after checking
// current, and ends every session and API token of the account in the
// transaction of its audit entry (user.password_changed): whoever knew
// the old password is signed out everywhere. The caller starts a fresh
// session for the person who changed it. A wrong current password gives
// ErrWrongPassword; a next password too short or too long ErrInvalidInput.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, next string) (User, error) {
	if err := knownID("user", a.ID); err != nil {
		return User{}, err
	}
	if err := password.Check(next); err != nil {
		return User{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	// Guesses of the current password through a stolen session are
	// counted like step-up codes: from the StepUpMaxFailures-th wrong one
	// within StepUpLockout, changing is locked for StepUpLockout. Each
	// attempt is counted before it is checked.
	key := "password-change:" + a.ID
	var u User
	var locked time.Time
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.User(ctx, a.ID); err != nil {
			return err
		}
		now := s.now()
		t, err := tx.Throttle(ctx, key)
		if err != nil {
			return err
		}
		if t.Locked(now) {
			locked = t.LockedUntil
			return nil
		}
		if now.Sub(t.WindowStart) >= StepUpLockout {
			t = Throttle{Key: key, WindowStart: now}
		}
		t.Failures++
		if t.Failures >= StepUpMaxFailures {
			t.LockedUntil = now.Add(StepUpLockout)
		}
		return tx.SetThrottle(ctx, t)
	})
	if err != nil {
		return User{}, err
	}
	if !locked.IsZero() {
		return User{}, fmt.Errorf("%w: too many wrong passwords; try again after %s", ErrWrongPassword, locked.Format(time.RFC3339))
	}
	// argon2id runs outside any transaction (see Authenticate).
	if err := s.verify(current, u.PasswordHash); err != nil || u.Disabled {
		return User{}, ErrWrongPassword
	}
	hash, err := password.Hash(next, s.passwordParams(), s.rand)
	if err != nil {
		return User{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	old := u.PasswordHash
	err = s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.User(ctx, a.ID); err != nil {
			return err
		}
		if u.PasswordHash != old {
			return fmt.Errorf("the password was changed meanwhile: %w", ErrConflict)
		}
		u.PasswordHash, u.MustChangePassword, u.UpdatedAt = hash, false, s.now()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return fmt.Errorf("failed to update user: %w", err)
		}
		if err := account.EndAccess(ctx, tx.Accounts(), u.ID, u.UpdatedAt); err != nil {
			return err
		}
		if err := tx.SetThrottle(ctx, Throttle{Key: key, WindowStart: u.UpdatedAt}); err != nil {
			return err
		}
		return s.record(ctx, tx, a, ActionUserPasswordChanged, "", map[string]string{"user_id": u.ID})
	})
	return u, err
}
