package incident

import (
	"context"
	"fmt"

	"github.com/tresor-evidence/tresor/account"
)

// AuthEvent is a sign-in or account event recorded in the audit log.
type AuthEvent string

const (
	AuthSecondFactorFailed    AuthEvent = "auth.second_factor_failed"
	AuthSecondFactorSucceeded AuthEvent = "auth.second_factor_succeeded"
	AuthRecoveryCodeUsed      AuthEvent = "auth.recovery_code_used"
	AuthSecondFactorEnabled   AuthEvent = "auth.second_factor_enabled"
	AuthSecondFactorReset     AuthEvent = "auth.second_factor_reset"
	AuthStepUpFailed          AuthEvent = "auth.step_up_failed"
	AuthStepUpLocked          AuthEvent = "auth.step_up_locked"
	AuthLockedOut             AuthEvent = "auth.locked_out"
	AuthSignedOut             AuthEvent = "auth.signed_out"
	// AuthTokenCreated: a user created an API token.
	AuthTokenCreated AuthEvent = "auth.api_token_created"
	// AuthTokenRevoked: a user revoked one of their API tokens.
	AuthTokenRevoked AuthEvent = "auth.api_token_revoked"
)

// RecordAuthEvent appends a sign-in event to the audit log. a is who acts
// (the user, or System for a lockout); subjectID is the user the event is
// about. Only user ids enter the log, never names, codes or addresses.
func (s *Service) RecordAuthEvent(ctx context.Context, a Actor, ev AuthEvent, subjectID string) error {
	return s.RecordAuthChange(ctx, a, ev, subjectID, nil)
}

// RecordAuthChange makes a user's change to their own sign-in and appends
// its event to the audit log in one transaction: change runs first, with
// the transaction's account store — enrolling a second factor, creating
// or revoking an API token, ending a session. If either fails, neither is
// kept. A nil change records the event alone. An admin's reset of
// another account's second factor is ResetSecondFactor.
func (s *Service) RecordAuthChange(ctx context.Context, a Actor, ev AuthEvent, subjectID string, change func(ctx context.Context, st account.Store) error) error {
	switch ev {
	case AuthSecondFactorFailed, AuthSecondFactorSucceeded, AuthRecoveryCodeUsed, AuthSecondFactorEnabled,
		AuthLockedOut, AuthSignedOut, AuthTokenCreated, AuthTokenRevoked:
	default:
		return fmt.Errorf("%w: auth event %q is not recorded by RecordAuthChange", ErrInvalidInput, ev)
	}
	if a.ID != System.ID && a.ID != subjectID {
		return fmt.Errorf("%w: an account's sign-in events are its own", ErrForbidden)
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		if change != nil {
			if err := change(ctx, tx.Accounts()); err != nil {
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
