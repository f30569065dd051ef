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
	return s.RecordAuthChange(ctx, a, ev, subjectID, nil)
}

// RecordAuthChange makes an account change and appends its event to the
// audit log in one transaction: change runs first, with a context bound to
// the transaction (Tx.Bind), and calls the store's SessionStore and
// TokenStore methods with it — enrolling or resetting a second factor,
// creating or revoking an API token, ending sessions. If either fails,
// neither is kept. A nil change records the event alone.
func (s *Service) RecordAuthChange(ctx context.Context, a Actor, ev AuthEvent, subjectID string, change func(ctx context.Context) error) error {
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
		if change != nil {
			if err := change(tx.Bind(ctx)); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, Action(ev), "", map[string]string{"user_id": subjectID})
	})
}

// User returns one account by id, for the signed-in session (any role
// may read their own account; admins any).
func (s *Service) User(ctx context.Context, a Actor, id string) (User, error) {
	if err := knownID("user", id); err != nil {
		return User{}, err
	}
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
