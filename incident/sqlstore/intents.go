package sqlstore

import (
	"context"
	"fmt"

	"github.com/tresor-evidence/tresor/incident"
)

type bundleIntentRow struct {
	BundleID   string `gorm:"primaryKey"`
	IncidentID string
	Kind       string
	State      string
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
	RetryAt    *int64
	Version    int64
}

func (bundleIntentRow) TableName() string { return "bundle_intents" }

func (r bundleIntentRow) intent() incident.BundleIntent {
	return incident.BundleIntent{BundleID: r.BundleID, IncidentID: r.IncidentID, Kind: incident.IntentKind(r.Kind),
		State: incident.IntentState(r.State), CreatedAt: fromUS(r.CreatedAt), RetryAt: fromUSPtrValue(r.RetryAt), Version: r.Version}
}

func retryAt(in incident.BundleIntent) *int64 {
	if in.RetryAt.IsZero() {
		return nil
	}
	v := us(in.RetryAt)
	return &v
}

// CreateBundleIntent implements incident.Tx.
func (t *tx) CreateBundleIntent(ctx context.Context, in incident.BundleIntent) error {
	r := bundleIntentRow{BundleID: in.BundleID, IncidentID: in.IncidentID, Kind: string(in.Kind), State: string(in.State),
		CreatedAt: us(in.CreatedAt), RetryAt: retryAt(in), Version: in.Version}
	if err := t.q(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("failed to create bundle intent %s: %w", in.BundleID, translate(err))
	}
	return nil
}

// BundleIntent implements incident.Tx.
func (t *tx) BundleIntent(ctx context.Context, bundleID string) (incident.BundleIntent, error) {
	var r bundleIntentRow
	if err := t.q(ctx).Where("bundle_id = ?", bundleID).Take(&r).Error; err != nil {
		return incident.BundleIntent{}, notFound("bundle intent", bundleID, err)
	}
	return r.intent(), nil
}

// BundleIntents implements incident.Tx.
func (t *tx) BundleIntents(ctx context.Context, f incident.BundleIntentFilter) ([]incident.BundleIntent, error) {
	q := t.q(ctx).Order("created_at, bundle_id")
	if f.IncidentID != "" {
		q = q.Where("incident_id = ?", f.IncidentID)
	}
	if f.State != "" {
		q = q.Where("state = ?", string(f.State))
	}
	if !f.CreatedBefore.IsZero() {
		q = q.Where("created_at < ?", us(f.CreatedBefore))
	}
	if !f.RetryBy.IsZero() {
		q = q.Where("retry_at IS NOT NULL AND retry_at <= ?", us(f.RetryBy))
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []bundleIntentRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list bundle intents: %w", translate(err))
	}
	out := make([]incident.BundleIntent, len(rows))
	for i, r := range rows {
		out[i] = r.intent()
	}
	return out, nil
}

// UpdateBundleIntent implements incident.Tx.
func (t *tx) UpdateBundleIntent(ctx context.Context, in *incident.BundleIntent) error {
	res := t.q(ctx).Model(&bundleIntentRow{}).Where("bundle_id = ? AND version = ?", in.BundleID, in.Version).
		Updates(map[string]any{"state": string(in.State), "created_at": us(in.CreatedAt), "retry_at": retryAt(*in),
			"version": in.Version + 1})
	if err := updated(res, "bundle intent", in.BundleID); err != nil {
		return err
	}
	in.Version++
	return nil
}
