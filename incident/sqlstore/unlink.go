package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// RequestUnlink records an unlink for the process holding the worker's
// device (see incident.CaptureStore).
func (s *Store) RequestUnlink(ctx context.Context, workerID string, at time.Time) error {
	err := s.db.WithContext(ctx).Exec(
		`INSERT INTO wa_unlink_requests (worker_id, requested_at) VALUES (?, ?) ON CONFLICT (worker_id) DO NOTHING`,
		workerID, us(at)).Error
	if err != nil {
		return fmt.Errorf("failed to request the unlink of worker %s's device: %w", workerID, translate(err))
	}
	return nil
}

// UnlinkRequested reports whether an unlink of the worker's device waits.
func (s *Store) UnlinkRequested(ctx context.Context, workerID string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Table("wa_unlink_requests").Where("worker_id = ?", workerID).Count(&n).Error; err != nil {
		return false, fmt.Errorf("failed to read unlink requests: %w", translate(err))
	}
	return n > 0, nil
}

// ClearUnlinkRequest removes a served unlink request.
func (s *Store) ClearUnlinkRequest(ctx context.Context, workerID string) error {
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM wa_unlink_requests WHERE worker_id = ?`, workerID).Error; err != nil {
		return fmt.Errorf("failed to clear the unlink request of worker %s: %w", workerID, translate(err))
	}
	return nil
}
