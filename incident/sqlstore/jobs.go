package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tresor-evidence/tresor/incident"
)

func (t *tx) Enqueue(ctx context.Context, j incident.Job) error {
	r := jobRow{Kind: string(j.Kind), IncidentID: j.IncidentID, RequestID: j.RequestID,
		RecipientID: j.RecipientID, Notice: string(j.Notice), JobKey: j.Key,
		State: string(incident.JobPending), RunAt: us(j.RunAt), LockedUntil: 0, CreatedAt: us(j.CreatedAt)}
	// ON CONFLICT DO NOTHING keeps the transaction usable on PostgreSQL,
	// where a failed unique insert would abort it.
	res := t.q(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "job_key"}}, DoNothing: true}).Create(&r)
	if res.Error != nil {
		return fmt.Errorf("failed to enqueue job %s: %w", j.Key, translate(res.Error))
	}
	return nil
}

func (t *tx) CompleteJob(ctx context.Context, j incident.Job) error {
	res := t.q(ctx).Model(&jobRow{}).Where("id = ? AND token = ? AND state = ?", j.ID, j.Token, string(incident.JobPending)).
		Updates(map[string]any{"state": string(incident.JobDone), "token": "", "last_error": ""})
	return updated(res, "job", fmt.Sprint(j.ID))
}

func (t *tx) Jobs(ctx context.Context, incidentID string) ([]incident.Job, error) {
	var rows []jobRow
	if err := t.q(ctx).Where("incident_id = ?", incidentID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list jobs: %w", translate(err))
	}
	out := make([]incident.Job, len(rows))
	for i, r := range rows {
		out[i] = r.job()
	}
	return out, nil
}

// ClaimJob leases the next due job. On PostgreSQL, FOR UPDATE SKIP LOCKED
// lets several processes claim side by side; SQLite has one writer anyway.
// The conditional UPDATE is what makes the lease exclusive on both.
func (s *Store) ClaimJob(ctx context.Context, now time.Time, lease time.Duration) (incident.Job, error) {
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return incident.Job{}, fmt.Errorf("failed to make lease token: %w", err)
	}
	token := hex.EncodeToString(tok[:])
	var claimed jobRow
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		q := db.Where("state = ? AND run_at <= ? AND locked_until <= ?", string(incident.JobPending), us(now), us(now)).
			Order("run_at, id").Limit(1)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var r jobRow
		if err := q.Take(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return incident.ErrNoJob
			}
			return translate(err)
		}
		res := db.Model(&jobRow{}).Where("id = ? AND locked_until = ? AND state = ?", r.ID, r.LockedUntil, string(incident.JobPending)).
			Updates(map[string]any{"token": token, "locked_until": us(now.Add(lease)), "attempts": r.Attempts + 1})
		if err := updated(res, "job", fmt.Sprint(r.ID)); err != nil {
			return err
		}
		r.Token, r.LockedUntil, r.Attempts = token, us(now.Add(lease)), r.Attempts+1
		claimed = r
		return nil
	})
	if err != nil {
		if errors.Is(err, incident.ErrNoJob) {
			return incident.Job{}, incident.ErrNoJob
		}
		return incident.Job{}, fmt.Errorf("failed to claim job: %w", translate(err))
	}
	return claimed.job(), nil
}

// RetryJob releases a failed job's lease and schedules its next attempt.
func (t *tx) RetryJob(ctx context.Context, j incident.Job, lastErr string, retryAt time.Time, dead bool) error {
	state := incident.JobPending
	if dead {
		state = incident.JobDead
	}
	if len(lastErr) > 2000 {
		lastErr = lastErr[:2000]
	}
	res := t.q(ctx).Model(&jobRow{}).Where("id = ? AND token = ? AND state = ?", j.ID, j.Token, string(incident.JobPending)).
		Updates(map[string]any{"state": string(state), "token": "", "locked_until": int64(0), "run_at": us(retryAt), "last_error": lastErr})
	return updated(res, "job", fmt.Sprint(j.ID))
}

// ExtendJob renews a job's lease.
func (s *Store) ExtendJob(ctx context.Context, j incident.Job, until time.Time) error {
	res := s.db.WithContext(ctx).Model(&jobRow{}).Where("id = ? AND token = ? AND state = ?", j.ID, j.Token, string(incident.JobPending)).
		Update("locked_until", us(until))
	return updated(res, "job", fmt.Sprint(j.ID))
}

// ReleaseJob hands a leased job back unrun (the service is shutting
// down): no lease, the claim's attempt taken back, due at runAt.
func (s *Store) ReleaseJob(ctx context.Context, j incident.Job, runAt time.Time) error {
	res := s.db.WithContext(ctx).Model(&jobRow{}).Where("id = ? AND token = ? AND state = ?", j.ID, j.Token, string(incident.JobPending)).
		Updates(map[string]any{"token": "", "locked_until": int64(0), "run_at": us(runAt), "attempts": gorm.Expr("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END")})
	return updated(res, "job", fmt.Sprint(j.ID))
}
