package incident

import (
	"context"
	"fmt"
)

// RecordAuthEvent appends a sign-in event to the audit log. a is who acts
// (the user, an admin for AuthSecondFactorReset, or System for a lockout);
// subjectID is the user the event is about. Only user ids enter the log,
// never names, codes or addresses.
func (s *Service) RecordAuthEvent(ctx context.Context, a Actor, ev AuthEvent, subjectID string) error {
	switch ev {
	case AuthSecondFactorFailed, AuthSecondFactorSucceeded, AuthRecoveryCodeUsed, AuthSecondFactorEnabled,
		AuthStepUpFailed, AuthLockedOut, AuthSignedOut, AuthTokenCreated, AuthTokenRevoked:
	case AuthSecondFactorReset:
		if err := requireRole(a, RoleAdmin); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unknown auth event %q", ErrInvalidInput, ev)
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		return s.record(ctx, tx, a, string(ev), "", map[string]string{"user_id": subjectID})
	})
}

// User returns one account by id, for the signed-in session (any role
// may read their own account; admins any).
func (s *Service) User(ctx context.Context, a Actor, id string) (User, error) {
	if a.ID != System.ID && a.ID != id {
		if err := requireRole(a, RoleAdmin); err != nil {
			return User{}, err
		}
	}
	var u User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		u, err = tx.User(ctx, id)
		return err
	})
	return u, err
}
