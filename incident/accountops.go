package incident

import (
	"context"
	"errors"
	"fmt"

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
		u.PasswordHash, u.MustChangePassword, u.UpdatedAt = hash, false, s.now()
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
