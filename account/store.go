package account

import (
	"context"
	"time"
)

// Store persists sessions, API tokens and second factors. Implementations
// must pass accounttest.Run. Lookups return an error wrapping ErrNotFound
// when nothing matches.
//
// A Store obtained from a transaction (incident.Tx.Accounts) reads and
// writes inside it and must not be kept after the transaction ends; one
// obtained from the store itself runs each call on its own.
type Store interface {
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, tokenHash string) (Session, error)
	// UpdateSession stores LastSeenAt, Stage and CSRF of an existing session.
	UpdateSession(ctx context.Context, s Session) error
	// DeleteSession revokes one session; deleting a missing one is no error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions revokes every session of a user except those
	// whose token hash is listed in keep.
	DeleteUserSessions(ctx context.Context, userID string, keep ...string) error
	// DeleteUserSessionsBefore revokes the user's sessions created
	// before createdBefore; later ones stay.
	DeleteUserSessionsBefore(ctx context.Context, userID string, createdBefore time.Time) error
	// DeleteStaleSessions removes sessions idle since before idleBefore or
	// created before createdBefore and returns how many.
	DeleteStaleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error)

	SecondFactor(ctx context.Context, userID string) (SecondFactor, error)
	// EnableSecondFactor stores f and replaces the user's recovery codes
	// with recoveryHashes, together. An existing factor gives
	// ErrDuplicate.
	EnableSecondFactor(ctx context.Context, f SecondFactor, recoveryHashes []string) error
	// UseTOTPStep records that the code of step was accepted. It fails
	// with ErrConflict unless step is later than the stored LastStep, so
	// two concurrent uses of one code cannot both succeed.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// UseRecoveryCode removes one recovery code by its hash; a code not
	// (or no longer) stored gives ErrNotFound.
	UseRecoveryCode(ctx context.Context, userID, codeHash string) error
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	// DeleteSecondFactor removes the factor and recovery codes (an admin
	// reset); a user without one is no error.
	DeleteSecondFactor(ctx context.Context, userID string) error

	// CreateAPIToken stores a new token; an existing ID or TokenHash
	// gives ErrDuplicate.
	CreateAPIToken(ctx context.Context, t APIToken) error
	// APITokenByHash returns the token with the hash, revoked and expired
	// ones included (the caller checks Active).
	APITokenByHash(ctx context.Context, tokenHash string) (APIToken, error)
	// APITokens lists a user's tokens, newest first.
	APITokens(ctx context.Context, userID string) ([]APIToken, error)
	// RevokeAPIToken revokes one of the user's tokens at at. A token that
	// is missing, another user's or already revoked gives ErrNotFound.
	RevokeAPIToken(ctx context.Context, userID, id string, at time.Time) error
	// RevokeUserAPITokens revokes every active token of a user.
	RevokeUserAPITokens(ctx context.Context, userID string, at time.Time) error
	// RevokeUserAPITokensBefore revokes, at at, the user's active tokens
	// created before createdBefore; later ones stay.
	RevokeUserAPITokensBefore(ctx context.Context, userID string, createdBefore, at time.Time) error
	// TouchAPIToken records the token's last use.
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
}

// EndAccess ends every session of the user but those listed in keep, and
// revokes every API token of the user at now. Call it with the Store of
// the transaction that also writes the change's audit entry, so that both
// are kept or neither.
func EndAccess(ctx context.Context, st Store, userID string, now time.Time, keep ...string) error {
	if err := st.DeleteUserSessions(ctx, userID, keep...); err != nil {
		return err
	}
	return st.RevokeUserAPITokens(ctx, userID, now)
}

// EndAccessBefore ends the user's sessions and revokes (at now) the
// user's API tokens that were created before createdBefore; those created
// since stay. It is EndAccess for a message about the past — the identity
// provider's logout token says who signed out at its iat, which must not
// end a sign-in that came after it. Same transaction rule as EndAccess.
func EndAccessBefore(ctx context.Context, st Store, userID string, createdBefore, now time.Time) error {
	if err := st.DeleteUserSessionsBefore(ctx, userID, createdBefore); err != nil {
		return err
	}
	return st.RevokeUserAPITokensBefore(ctx, userID, createdBefore, now)
}
