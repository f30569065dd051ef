package incident

import (
	"context"
	"time"
)

// SessionStage is how far a sign-in has come.
type SessionStage string

const (
	// StageSecondFactor: the password was right; the second factor is due.
	StageSecondFactor SessionStage = "second_factor"
	// StageEnroll: the password was right, the role needs a second factor
	// and the user has none yet; only enrolment is allowed.
	StageEnroll SessionStage = "enroll"
	// StageActive: fully signed in.
	StageActive SessionStage = "active"
)

// Session is a server-side sign-in session. The cookie holds a random
// token; the store keeps only its SHA-256 (TokenHash), so a leaked
// database does not hand out sessions.
type Session struct {
	TokenHash  string // lowercase hex SHA-256 of the cookie token
	UserID     string
	Stage      SessionStage
	CSRF       string // synchronizer token bound to the session
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// SecondFactor is a user's TOTP (RFC 6238) enrolment. SecretSealed is the
// secret encrypted by the caller (the store never sees it in the clear);
// LastStep is the last time step whose code was accepted, so that every
// code is used once.
type SecondFactor struct {
	UserID       string
	SecretSealed string
	LastStep     int64
	EnabledAt    time.Time
}

// SessionStore persists sessions, second factors and recovery codes.
// Implementations must pass storetest.RunSessions. Lookups return an error
// wrapping ErrNotFound when nothing matches.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, tokenHash string) (Session, error)
	// UpdateSession stores LastSeenAt, Stage and CSRF of an existing session.
	UpdateSession(ctx context.Context, s Session) error
	// DeleteSession revokes one session; deleting a missing one is no error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions revokes every session of a user.
	DeleteUserSessions(ctx context.Context, userID string) error
	// DeleteStaleSessions removes sessions idle since before idleBefore or
	// created before createdBefore and returns how many.
	DeleteStaleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error)

	SecondFactor(ctx context.Context, userID string) (SecondFactor, error)
	// EnableSecondFactor stores f and replaces the user's recovery codes
	// with recoveryHashes, in one transaction. An existing factor gives
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
}

// AuthEvent is a sign-in event the web layer records in the audit log.
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
)
