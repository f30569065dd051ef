package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// OperationalStats reads the counts behind the metrics: a handful of
// aggregate queries, no rows of people or incidents.
func (s *Store) OperationalStats(ctx context.Context, now time.Time) (incident.OperationalStats, error) {
	db := s.db.WithContext(ctx)
	st := incident.OperationalStats{JobsByState: map[incident.JobState]int64{}, DevicesByState: map[incident.DeviceStatus]int64{}}
	var jobs []struct {
		State string
		N     int64
	}
	if err := db.Raw(`SELECT state, COUNT(*) AS n FROM jobs GROUP BY state`).Scan(&jobs).Error; err != nil {
		return st, fmt.Errorf("failed to count jobs: %w", translate(err))
	}
	for _, j := range jobs {
		st.JobsByState[incident.JobState(j.State)] = j.N
	}
	var oldest *int64
	if err := db.Raw(`SELECT MIN(run_at) FROM jobs WHERE state = ? AND run_at <= ?`, string(incident.JobPending), us(now)).
		Scan(&oldest).Error; err != nil {
		return st, fmt.Errorf("failed to read the oldest due job: %w", translate(err))
	}
	if oldest != nil {
		st.OldestDueJob = now.Sub(fromUS(*oldest))
	}
	if err := db.Raw(`SELECT seq FROM audit_head WHERE id = 1`).Scan(&st.AuditEntries).Error; err != nil {
		return st, fmt.Errorf("failed to read the audit head: %w", translate(err))
	}
	var sealed *int64
	if err := db.Raw(`SELECT SUM(receipt_ciphertext_size) FROM incidents`).Scan(&sealed).Error; err != nil {
		return st, fmt.Errorf("failed to sum sealed bytes: %w", translate(err))
	}
	if sealed != nil {
		st.BytesSealed = *sealed
	}
	var devices []struct {
		Status string
		N      int64
	}
	if err := db.Raw(`SELECT status, COUNT(*) AS n FROM wa_devices GROUP BY status`).Scan(&devices).Error; err != nil {
		return st, fmt.Errorf("failed to count WhatsApp devices: %w", translate(err))
	}
	for _, d := range devices {
		st.DevicesByState[incident.DeviceStatus(d.Status)] = d.N
	}
	return st, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	db, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("failed to reach the database: %w", translate(err))
	}
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("failed to reach the database: %w", translate(err))
	}
	return nil
}
