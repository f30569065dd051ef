package sqlstore

import (
	"context"
	"fmt"

	"github.com/tresor-evidence/tresor/incident"
)

type accountRequestRow struct {
	ID           string `gorm:"primaryKey"`
	Kind         string
	SubjectID    string
	RequesterID  string
	Role         string
	PasswordHash string
	State        string
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
	ExpiresAt    int64
	DeciderID    string
	Reason       string
	DecidedAt    *int64
	Version      int
}

func (accountRequestRow) TableName() string { return "account_requests" }

func toAccountRequestRow(r *incident.AccountRequest) accountRequestRow {
	return accountRequestRow{ID: r.ID, Kind: string(r.Kind), SubjectID: r.SubjectID, RequesterID: r.RequesterID, Role: string(r.Role),
		PasswordHash: r.PasswordHash, State: string(r.State), CreatedAt: us(r.CreatedAt), ExpiresAt: us(r.ExpiresAt),
		DeciderID: r.DeciderID, Reason: r.Reason, DecidedAt: optUS(r.DecidedAt), Version: r.Version}
}

func (r accountRequestRow) request() incident.AccountRequest {
	return incident.AccountRequest{ID: r.ID, Kind: incident.AccountRequestKind(r.Kind), SubjectID: r.SubjectID, RequesterID: r.RequesterID,
		Role: incident.Role(r.Role), PasswordHash: r.PasswordHash, State: incident.RequestState(r.State), CreatedAt: fromUS(r.CreatedAt),
		ExpiresAt: fromUS(r.ExpiresAt), DeciderID: r.DeciderID, Reason: r.Reason, DecidedAt: fromOptUS(r.DecidedAt), Version: r.Version}
}

func (t *tx) AccountRequest(ctx context.Context, id string) (incident.AccountRequest, error) {
	var r accountRequestRow
	if err := t.q(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return incident.AccountRequest{}, notFound("account request", id, err)
	}
	return r.request(), nil
}

func (t *tx) AccountRequests(ctx context.Context, f incident.AccountRequestFilter) ([]incident.AccountRequest, error) {
	q := t.q(ctx).Order("created_at DESC, id")
	if f.State != "" {
		q = q.Where("state = ?", string(f.State))
	}
	if f.SubjectID != "" {
		q = q.Where("subject_id = ?", f.SubjectID)
	}
	if !f.ExpiredBy.IsZero() {
		q = q.Where("state = ? AND expires_at <= ?", string(incident.RequestPending), us(f.ExpiredBy))
	}
	var rows []accountRequestRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list account requests: %w", translate(err))
	}
	out := make([]incident.AccountRequest, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

func (t *tx) CreateAccountRequest(ctx context.Context, r *incident.AccountRequest) error {
	r.Version = 1
	row := toAccountRequestRow(r)
	if err := t.q(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("failed to create account request: %w", translate(err))
	}
	return nil
}

func (t *tx) UpdateAccountRequest(ctx context.Context, r *incident.AccountRequest) error {
	row := toAccountRequestRow(r)
	row.Version = r.Version + 1
	res := t.q(ctx).Model(&accountRequestRow{}).Where("id = ? AND version = ?", r.ID, r.Version).
		Select("state", "decider_id", "reason", "decided_at", "version").Updates(&row)
	if err := updated(res, "account request", r.ID); err != nil {
		return err
	}
	r.Version = row.Version
	return nil
}
