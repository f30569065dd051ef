package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// externalIdentityRow is a row of external_identities (migration 17).
type externalIdentityRow struct {
	Issuer       string `gorm:"primaryKey"`
	Subject      string `gorm:"primaryKey"`
	UserID       string
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
	LastSignInAt int64
}

func (externalIdentityRow) TableName() string { return "external_identities" }

func (r externalIdentityRow) identity() incident.ExternalIdentity {
	return incident.ExternalIdentity{Issuer: r.Issuer, Subject: r.Subject, UserID: r.UserID,
		CreatedAt: fromUS(r.CreatedAt), LastSignInAt: fromUS(r.LastSignInAt)}
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
	r := externalIdentityRow{Issuer: id.Issuer, Subject: id.Subject, UserID: id.UserID, CreatedAt: us(id.CreatedAt), LastSignInAt: us(id.LastSignInAt)}
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
