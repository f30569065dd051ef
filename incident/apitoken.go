package incident

import (
	"context"
	"time"
)

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

// TokenStore persists API tokens. Implementations must pass
// storetest.RunAPITokens. Lookups return an error wrapping ErrNotFound
// when nothing matches.
type TokenStore interface {
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
	// TouchAPIToken records the token's last use.
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
}

const (
	// AuthTokenCreated: a user created an API token.
	AuthTokenCreated AuthEvent = "auth.api_token_created"
	// AuthTokenRevoked: a user revoked one of their API tokens.
	AuthTokenRevoked AuthEvent = "auth.api_token_revoked"
)
