package account

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Sentinel errors the store and the rules return, wrapped with context.
// Package incident uses the same values, so that callers branch on one
// sentinel whichever package answered.
var (
	// ErrNotFound: no such session, token, second factor or code.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: a unique value (token id or hash, a second factor)
	// exists already.
	ErrDuplicate = errors.New("already exists")
	// ErrConflict: a concurrent change won, or a single-use code was
	// used already.
	ErrConflict = errors.New("conflicting concurrent change")
	// ErrInvalidInput: a field is missing or malformed.
	ErrInvalidInput = errors.New("invalid input")
	// ErrWrongCode: a second-factor code is wrong or used, or the account
	// has no second factor. The three are not told apart.
	ErrWrongCode = errors.New("wrong or used code")
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
// secret sealed by [Factors] (the store never sees it in the clear);
// LastStep is the last time step whose code was accepted, so that every
// code is used once.
type SecondFactor struct {
	UserID       string
	SecretSealed string
	LastStep     int64
	EnabledAt    time.Time
}

// APIToken is a personal access token for the JSON API. The token itself
// is shown to its user once; the store keeps only its SHA-256
// (TokenHash), so a leaked database hands out no tokens.
type APIToken struct {
	ID         string
	UserID     string
	Name       string // the user's label, e.g. "Fallakte-Skript"
	TokenHash  string // lowercase hex SHA-256 of the token
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero until first used
	RevokedAt  time.Time // zero while not revoked
}

// Active reports whether the token may be used at now.
func (t APIToken) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

// HashToken is what the store keeps of a session or API token, a
// recovery code: its SHA-256 in lowercase hex.
func HashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}
