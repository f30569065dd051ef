package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

type rewrapIntentRow struct {
	BundleID            string `gorm:"primaryKey"`
	NewCiphertextSHA256 string `gorm:"primaryKey;column:new_ciphertext_sha256"`
	IncidentID          string
	OldCiphertextSHA256 string `gorm:"column:old_ciphertext_sha256"`
	NewCiphertextSize   int64
	ManifestSHA256      string `gorm:"column:manifest_sha256"`
	Recipients          string
	CreatedAt           int64 `gorm:"autoCreateTime:false"`
	FinishedAt          *int64
}

func (rewrapIntentRow) TableName() string { return "rewrap_intents" }

// CreateRewrapIntent implements incident.Tx.
func (t *tx) CreateRewrapIntent(ctx context.Context, in incident.RewrapIntent) error {
	r := rewrapIntentRow{BundleID: in.BundleID, NewCiphertextSHA256: in.NewCiphertextSHA256, IncidentID: in.IncidentID,
		OldCiphertextSHA256: in.OldCiphertextSHA256, NewCiphertextSize: in.NewCiphertextSize, ManifestSHA256: in.ManifestSHA256,
		Recipients: strings.Join(in.Recipients, ","), CreatedAt: us(in.CreatedAt)}
	if err := t.q(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("failed to create rewrap intent for bundle %s: %w", in.BundleID, translate(err))
	}
	return nil
}

// PendingRewrapIntent implements incident.Tx.
func (t *tx) PendingRewrapIntent(ctx context.Context, bundleID, newSHA256 string) (incident.RewrapIntent, error) {
	var r rewrapIntentRow
	err := t.q(ctx).Where("bundle_id = ? AND new_ciphertext_sha256 = ? AND finished_at IS NULL", bundleID, newSHA256).Take(&r).Error
	if err != nil {
		return incident.RewrapIntent{}, notFound("rewrap intent", bundleID, err)
	}
	var recipients []string
	if r.Recipients != "" {
		recipients = strings.Split(r.Recipients, ",")
	}
	return incident.RewrapIntent{IncidentID: r.IncidentID, CreatedAt: fromUS(r.CreatedAt), Rewrap: incident.Rewrap{
		BundleID: r.BundleID, OldCiphertextSHA256: r.OldCiphertextSHA256, NewCiphertextSHA256: r.NewCiphertextSHA256,
		NewCiphertextSize: r.NewCiphertextSize, ManifestSHA256: r.ManifestSHA256, Recipients: recipients}}, nil
}

// FinishRewrapIntents implements incident.Tx.
func (t *tx) FinishRewrapIntents(ctx context.Context, bundleID string, at time.Time) error {
	err := t.q(ctx).Model(&rewrapIntentRow{}).Where("bundle_id = ? AND finished_at IS NULL", bundleID).
		Update("finished_at", us(at)).Error
	if err != nil {
		return fmt.Errorf("failed to finish rewrap intents of bundle %s: %w", bundleID, translate(err))
	}
	return nil
}
