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
	StepUpUntil  *int64 // migration 19
}

func (externalIdentityRow) TableName() string { return "external_identities" }

func (r externalIdentityRow) identity() incident.ExternalIdentity {
	id := incident.ExternalIdentity{Issuer: r.Issuer, Subject: r.Subject, UserID: r.UserID,
		CreatedAt: fromUS(r.CreatedAt), LastSignInAt: fromUS(r.LastSignInAt)}
	if r.StepUpUntil != nil {
		id.StepUpUntil = fromUS(*r.StepUpUntil)
	}
	return id
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
