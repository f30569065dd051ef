package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tresor-evidence/tresor/account"
)

type apiTokenRow struct {
	ID         string `gorm:"primaryKey"`
	UserID     string
	Name       string
	TokenHash  string
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
	ExpiresAt  int64
	LastUsedAt *int64
	RevokedAt  *int64
}

func (apiTokenRow) TableName() string { return "api_tokens" }

func (r apiTokenRow) token() account.APIToken {
	return account.APIToken{ID: r.ID, UserID: r.UserID, Name: r.Name, TokenHash: r.TokenHash,
		CreatedAt: fromUS(r.CreatedAt), ExpiresAt: fromUS(r.ExpiresAt), LastUsedAt: fromOptUS(r.LastUsedAt), RevokedAt: fromOptUS(r.RevokedAt)}
}

// CreateAPIToken stores a new API token.
func (a accounts) CreateAPIToken(ctx context.Context, t account.APIToken) error {
	if t.ID == "" || t.UserID == "" || t.TokenHash == "" {
		return fmt.Errorf("%w: api token without id, user or hash", account.ErrInvalidInput)
	}
	r := apiTokenRow{ID: t.ID, UserID: t.UserID, Name: t.Name, TokenHash: t.TokenHash, CreatedAt: us(t.CreatedAt),
		ExpiresAt: us(t.ExpiresAt), LastUsedAt: optUS(t.LastUsedAt), RevokedAt: optUS(t.RevokedAt)}
	if err := a.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("failed to create api token: %w", translate(err))
	}
	return nil
}

// APITokenByHash returns the token with the hash.
func (a accounts) APITokenByHash(ctx context.Context, tokenHash string) (account.APIToken, error) {
	var r apiTokenRow
	if err := a.db.WithContext(ctx).Where("token_hash = ?", tokenHash).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return account.APIToken{}, fmt.Errorf("api token: %w", account.ErrNotFound)
		}
		return account.APIToken{}, fmt.Errorf("failed to read api token: %w", translate(err))
	}
	return r.token(), nil
}

// APITokens lists a user's tokens, newest first.
func (a accounts) APITokens(ctx context.Context, userID string) ([]account.APIToken, error) {
	var rows []apiTokenRow
	if err := a.db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list api tokens: %w", translate(err))
	}
	out := make([]account.APIToken, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.token())
	}
	return out, nil
}

// RevokeAPIToken revokes one active token of the user.
func (a accounts) RevokeAPIToken(ctx context.Context, userID, id string, at time.Time) error {
	res := a.db.WithContext(ctx).Model(&apiTokenRow{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).
		Update("revoked_at", us(at))
	if res.Error != nil {
		return fmt.Errorf("failed to revoke api token: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("api token %s: %w", id, account.ErrNotFound)
	}
	return nil
}

// RevokeUserAPITokens revokes every active token of a user.
func (a accounts) RevokeUserAPITokens(ctx context.Context, userID string, at time.Time) error {
	err := a.db.WithContext(ctx).Model(&apiTokenRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", us(at)).Error
	if err != nil {
		return fmt.Errorf("failed to revoke api tokens: %w", translate(err))
	}
	return nil
}

// RevokeUserAPITokensBefore revokes the user's active tokens created
// before t.
func (a accounts) RevokeUserAPITokensBefore(ctx context.Context, userID string, t, at time.Time) error {
	err := a.db.WithContext(ctx).Model(&apiTokenRow{}).Where("user_id = ? AND revoked_at IS NULL AND created_at < ?", userID, us(t)).
		Update("revoked_at", us(at)).Error
	if err != nil {
		return fmt.Errorf("failed to revoke api tokens: %w", translate(err))
	}
	return nil
}

// TouchAPIToken records a token's last use.
func (a accounts) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	res := a.db.WithContext(ctx).Model(&apiTokenRow{}).Where("id = ?", id).Update("last_used_at", us(at))
	if res.Error != nil {
		return fmt.Errorf("failed to record api token use: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("api token %s: %w", id, account.ErrNotFound)
	}
	return nil
}
