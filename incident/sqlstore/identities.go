package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// externalIdentityRow is a row of external_identities (migrations 17, 18).
type externalIdentityRow struct {
	Issuer        string `gorm:"primaryKey"`
	Subject       string `gorm:"primaryKey"`
	UserID        string
	CreatedAt     int64 `gorm:"autoCreateTime:false"`
	LastSignInAt  int64
	RefreshSealed string
	IDTokenSealed string `gorm:"column:id_token_sealed"`
	CheckedAt     int64
	StepUpUntil   *int64 // migration 19
}

func (externalIdentityRow) TableName() string { return "external_identities" }

func (r externalIdentityRow) identity() incident.ExternalIdentity {
	id := incident.ExternalIdentity{Issuer: r.Issuer, Subject: r.Subject, UserID: r.UserID,
		CreatedAt: fromUS(r.CreatedAt), LastSignInAt: fromUS(r.LastSignInAt),
		Tokens: incident.ExternalTokens{RefreshSealed: r.RefreshSealed, IDTokenSealed: r.IDTokenSealed}}
	if r.CheckedAt != 0 {
		id.Tokens.CheckedAt = fromUS(r.CheckedAt)
	}
	if r.StepUpUntil != nil {
		id.StepUpUntil = fromUS(*r.StepUpUntil)
	}
	return id
}

// usOrZero is us, with the zero time as 0.
func usOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return us(t)
}

func (t *tx) ExternalIdentity(ctx context.Context, issuer, subject string) (incident.ExternalIdentity, error) {
	var r externalIdentityRow
	if err := t.q(ctx).Where("issuer = ? AND subject = ?", issuer, subject).Take(&r).Error; err != nil {
		// The subject is the provider's id of a person: not in messages.
		return incident.ExternalIdentity{}, notFound("external identity at", issuer, err)
	}
	return r.identity(), nil
}

func (t *tx) ExternalIdentityOf(ctx context.Context, userID string) (incident.ExternalIdentity, error) {
	var r externalIdentityRow
	if err := t.q(ctx).Where("user_id = ?", userID).Take(&r).Error; err != nil {
		return incident.ExternalIdentity{}, notFound("external identity of user", userID, err)
	}
	return r.identity(), nil
}

func (t *tx) CreateExternalIdentity(ctx context.Context, id incident.ExternalIdentity) error {
	r := externalIdentityRow{Issuer: id.Issuer, Subject: id.Subject, UserID: id.UserID, CreatedAt: us(id.CreatedAt), LastSignInAt: us(id.LastSignInAt),
		RefreshSealed: id.Tokens.RefreshSealed, IDTokenSealed: id.Tokens.IDTokenSealed, CheckedAt: usOrZero(id.Tokens.CheckedAt)}
	if err := t.q(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("failed to create external identity: %w", translate(err))
	}
	return nil
}

func (t *tx) TouchExternalIdentity(ctx context.Context, issuer, subject string, at time.Time) error {
	res := t.q(ctx).Model(&externalIdentityRow{}).Where("issuer = ? AND subject = ?", issuer, subject).Update("last_sign_in_at", us(at))
	if res.Error != nil {
		return fmt.Errorf("failed to update external identity: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("external identity at %s: %w", issuer, incident.ErrNotFound)
	}
	return nil
}

func (t *tx) SetExternalTokens(ctx context.Context, issuer, subject string, tok incident.ExternalTokens) error {
	res := t.q(ctx).Model(&externalIdentityRow{}).Where("issuer = ? AND subject = ?", issuer, subject).
		Updates(map[string]any{"refresh_sealed": tok.RefreshSealed, "id_token_sealed": tok.IDTokenSealed, "checked_at": usOrZero(tok.CheckedAt)})
	if res.Error != nil {
		return fmt.Errorf("failed to store the identity provider's tokens: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("external identity at %s: %w", issuer, incident.ErrNotFound)
	}
	return nil
}

// GrantExternalStepUp implements incident.Tx.
func (t *tx) GrantExternalStepUp(ctx context.Context, userID string, until time.Time) error {
	res := t.q(ctx).Model(&externalIdentityRow{}).Where("user_id = ?", userID).Update("step_up_until", us(until))
	if res.Error != nil {
		return fmt.Errorf("failed to store the step-up: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("external identity of user %s: %w", userID, incident.ErrNotFound)
	}
	return nil
}

func (t *tx) SwapExternalTokens(ctx context.Context, issuer, subject string, old, tok incident.ExternalTokens) error {
	// One conditional UPDATE: under READ COMMITTED PostgreSQL checks the
	// condition again on the row a concurrent writer committed.
	res := t.q(ctx).Model(&externalIdentityRow{}).
		Where("issuer = ? AND subject = ? AND refresh_sealed = ? AND id_token_sealed = ? AND checked_at = ?",
			issuer, subject, old.RefreshSealed, old.IDTokenSealed, usOrZero(old.CheckedAt)).
		Updates(map[string]any{"refresh_sealed": tok.RefreshSealed, "id_token_sealed": tok.IDTokenSealed, "checked_at": usOrZero(tok.CheckedAt)})
	if res.Error != nil {
		return fmt.Errorf("failed to store the identity provider's tokens: %w", translate(res.Error))
	}
	if res.RowsAffected == 1 {
		return nil
	}
	if _, err := t.ExternalIdentity(ctx, issuer, subject); err != nil {
		return err
	}
	return fmt.Errorf("tokens of the external identity at %s changed meanwhile: %w", issuer, incident.ErrConflict)
}

func (t *tx) ExternalIdentitiesToCheck(ctx context.Context, now, checkedBefore time.Time, limit int) ([]incident.ExternalIdentity, error) {
	var rows []externalIdentityRow
	err := t.q(ctx).Where("checked_at < ?", us(checkedBefore)).
		Where("(EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = external_identities.user_id) OR "+
			"EXISTS (SELECT 1 FROM api_tokens a WHERE a.user_id = external_identities.user_id AND a.revoked_at IS NULL AND a.expires_at > ?))", us(now)).
		Order("checked_at, issuer, subject").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("failed to list external identities to check: %w", translate(err))
	}
	out := make([]incident.ExternalIdentity, len(rows))
	for i, r := range rows {
		out[i] = r.identity()
	}
	return out, nil
}

// logoutTokenRow is a row of logout_tokens (migration 20).
type logoutTokenRow struct {
	Issuer    string `gorm:"primaryKey"`
	JTI       string `gorm:"primaryKey;column:jti"`
	ExpiresAt int64
}

func (logoutTokenRow) TableName() string { return "logout_tokens" }

func (t *tx) UseLogoutToken(ctx context.Context, issuer, jti string, expiresAt time.Time) error {
	if err := t.q(ctx).Create(&logoutTokenRow{Issuer: issuer, JTI: jti, ExpiresAt: us(expiresAt)}).Error; err != nil {
		// The jti is the provider's: not in messages.
		return fmt.Errorf("failed to record a logout token of %s: %w", issuer, translate(err))
	}
	return nil
}

func (t *tx) DeleteExpiredLogoutTokens(ctx context.Context, before time.Time) (int64, error) {
	res := t.q(ctx).Where("expires_at < ?", us(before)).Delete(&logoutTokenRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("failed to forget expired logout tokens: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

// ConsumeExternalStepUp implements incident.Tx.
func (t *tx) ConsumeExternalStepUp(ctx context.Context, userID string, now time.Time) (bool, error) {
	// One statement: of two approvals racing for one step-up, one
	// clears it and the other finds none. An expired one stays, unused.
	res := t.q(ctx).Model(&externalIdentityRow{}).Where("user_id = ? AND step_up_until > ?", userID, us(now)).
		Update("step_up_until", nil)
	if res.Error != nil {
		return false, fmt.Errorf("failed to use the step-up: %w", translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	return true, nil
}
