package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident/password"
)

// ErrWrongPassword: the current password given to change it was wrong.
var ErrWrongPassword = errors.New("the current password is wrong")

// ResetSecondFactor removes an account's second factor and recovery
// codes (admins only; the user enrols again at their next sign-in) and
// ends the account's sessions and API tokens, in the transaction of its
// audit entry (auth.second_factor_reset).
func (s *Service) ResetSecondFactor(ctx context.Context, a Actor, username string) (User, error) {
	if err := requireRole(a, RoleAdmin); err != nil {
		return User{}, err
	}
	if err := knownUsername(username); err != nil {
		return User{}, err
	}
	var u User
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.UserByName(ctx, strings.ToLower(strings.TrimSpace(username))); err != nil {
			return err
		}
		st := tx.Accounts()
		if err := st.DeleteSecondFactor(ctx, u.ID); err != nil {
			return err
		}
		if err := account.EndAccess(ctx, st, u.ID, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, a, Action(AuthSecondFactorReset), "", map[string]string{"user_id": u.ID})
	})
	return u, err
}

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
	var u User
	if err := s.store.View(ctx, func(tx Tx) (err error) { u, err = tx.User(ctx, a.ID); return }); err != nil {
		return User{}, err
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
		u.PasswordHash, u.UpdatedAt = hash, s.now()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return fmt.Errorf("failed to update user: %w", err)
		}
		if err := account.EndAccess(ctx, tx.Accounts(), u.ID, u.UpdatedAt); err != nil {
			return err
		}
		return s.record(ctx, tx, a, ActionUserPasswordChanged, "", map[string]string{"user_id": u.ID})
	})
	return u, err
}
