package sqlstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tresor-evidence/tresor/incident"
)

var _ incident.CaptureStore = (*Store)(nil)

type captureRow struct {
	WorkerID   string `gorm:"primaryKey"`
	MessageID  string `gorm:"primaryKey"`
	Sealed     string
	CapturedAt int64
	ExpiresAt  int64
}

func (captureRow) TableName() string { return "wa_captures" }

func (r captureRow) capture() (incident.CapturedMessage, error) {
	sealed, err := base64.StdEncoding.DecodeString(r.Sealed)
	if err != nil {
		return incident.CapturedMessage{}, fmt.Errorf("failed to decode capture %s: %w", r.MessageID, err)
	}
	return incident.CapturedMessage{WorkerID: r.WorkerID, MessageID: r.MessageID, Sealed: sealed,
		CapturedAt: fromUS(r.CapturedAt), ExpiresAt: fromUS(r.ExpiresAt)}, nil
}

type deviceRow struct {
	WorkerID     string `gorm:"primaryKey"`
	JID          string `gorm:"column:jid"`
	LID          string `gorm:"column:lid"`
	Status       string
	Detail       string
	FlagLabelID  string
	PhoneSeenAt  *int64
	LinkedAt     *int64
	UpdatedAt    int64 `gorm:"autoUpdateTime:false"`
	LostCaptures int
	LostAt       *int64
}

func (deviceRow) TableName() string { return "wa_devices" }

// optUS stores a zero time as NULL.
func optUS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := us(t)
	return &v
}

func fromOptUS(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromUS(*v)
}

func (r deviceRow) device() incident.LinkedDevice {
	return incident.LinkedDevice{WorkerID: r.WorkerID, JID: r.JID, LID: r.LID, Status: incident.DeviceStatus(r.Status),
		Detail: r.Detail, FlagLabelID: r.FlagLabelID, PhoneSeenAt: fromOptUS(r.PhoneSeenAt), LinkedAt: fromOptUS(r.LinkedAt),
		UpdatedAt: fromUS(r.UpdatedAt), LostCaptures: r.LostCaptures, LostAt: fromOptUS(r.LostAt)}
}

// PutCapture stores a capture unless it is stored already.
func (s *Store) PutCapture(ctx context.Context, c incident.CapturedMessage) error {
	if c.WorkerID == "" || c.MessageID == "" {
		return fmt.Errorf("%w: a capture needs a worker and a message id", incident.ErrInvalidInput)
	}
	r := captureRow{WorkerID: c.WorkerID, MessageID: c.MessageID, Sealed: base64.StdEncoding.EncodeToString(c.Sealed),
		CapturedAt: us(c.CapturedAt), ExpiresAt: us(c.ExpiresAt)}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r).Error; err != nil {
		return fmt.Errorf("failed to store capture: %w", translate(err))
	}
	return nil
}

// ResealCapture replaces an existing capture's sealed record.
func (s *Store) ResealCapture(ctx context.Context, workerID, messageID string, sealed []byte) error {
	res := s.db.WithContext(ctx).Model(&captureRow{}).Where("worker_id = ? AND message_id = ?", workerID, messageID).
		Update("sealed", base64.StdEncoding.EncodeToString(sealed))
	if res.Error != nil {
		return fmt.Errorf("failed to update capture: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("capture of message %s: %w", messageID, incident.ErrNotFound)
	}
	return nil
}

// Capture returns one capture.
func (s *Store) Capture(ctx context.Context, workerID, messageID string) (incident.CapturedMessage, error) {
	var r captureRow
	if err := s.db.WithContext(ctx).Where("worker_id = ? AND message_id = ?", workerID, messageID).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return incident.CapturedMessage{}, fmt.Errorf("capture of message %s: %w", messageID, incident.ErrNotFound)
		}
		return incident.CapturedMessage{}, fmt.Errorf("failed to read capture: %w", translate(err))
	}
	return r.capture()
}

// Captures lists a worker's unexpired captures, newest first.
func (s *Store) Captures(ctx context.Context, workerID string, now time.Time, limit int) ([]incident.CapturedMessage, error) {
	q := s.db.WithContext(ctx).Where("worker_id = ? AND expires_at > ?", workerID, us(now)).
		Order("captured_at DESC").Order("message_id")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var rows []captureRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list captures: %w", translate(err))
	}
	out := make([]incident.CapturedMessage, 0, len(rows))
	for _, r := range rows {
		c, err := r.capture()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ExtendCapture moves a capture's expiry later.
func (s *Store) ExtendCapture(ctx context.Context, workerID, messageID string, until time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		var r captureRow
		if err := db.Where("worker_id = ? AND message_id = ?", workerID, messageID).Take(&r).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("capture of message %s: %w", messageID, incident.ErrNotFound)
			}
			return fmt.Errorf("failed to read capture: %w", translate(err))
		}
		if us(until) <= r.ExpiresAt {
			return nil
		}
		if err := db.Model(&captureRow{}).Where("worker_id = ? AND message_id = ?", workerID, messageID).
			Update("expires_at", us(until)).Error; err != nil {
			return fmt.Errorf("failed to extend capture: %w", translate(err))
		}
		return nil
	})
	return translate(err)
}

// DeleteCapture removes one capture.
func (s *Store) DeleteCapture(ctx context.Context, workerID, messageID string) error {
	if err := s.db.WithContext(ctx).Where("worker_id = ? AND message_id = ?", workerID, messageID).Delete(&captureRow{}).Error; err != nil {
		return fmt.Errorf("failed to delete capture: %w", translate(err))
	}
	return nil
}

// DeleteCaptures removes every capture of a worker.
func (s *Store) DeleteCaptures(ctx context.Context, workerID string) (int64, error) {
	res := s.db.WithContext(ctx).Where("worker_id = ?", workerID).Delete(&captureRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("failed to delete captures: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

// PurgeCaptures removes expired captures.
func (s *Store) PurgeCaptures(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at <= ?", us(now)).Delete(&captureRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("failed to purge captures: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

// PutDevice stores (inserts or replaces) a worker's device.
func (s *Store) PutDevice(ctx context.Context, d incident.LinkedDevice) error {
	if d.WorkerID == "" {
		return fmt.Errorf("%w: a device needs a worker", incident.ErrInvalidInput)
	}
	r := deviceRow{WorkerID: d.WorkerID, JID: d.JID, LID: d.LID, Status: string(d.Status), Detail: d.Detail,
		FlagLabelID: d.FlagLabelID, PhoneSeenAt: optUS(d.PhoneSeenAt), LinkedAt: optUS(d.LinkedAt), UpdatedAt: us(d.UpdatedAt),
		LostCaptures: d.LostCaptures, LostAt: optUS(d.LostAt)}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "worker_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"jid", "lid", "status", "detail", "flag_label_id", "phone_seen_at", "linked_at", "updated_at",
			"lost_captures", "lost_at"}),
	}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("failed to store device of worker %s: %w", d.WorkerID, translate(err))
	}
	return nil
}

// Device returns a worker's device.
func (s *Store) Device(ctx context.Context, workerID string) (incident.LinkedDevice, error) {
	var r deviceRow
	if err := s.db.WithContext(ctx).Where("worker_id = ?", workerID).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return incident.LinkedDevice{}, fmt.Errorf("device of worker %s: %w", workerID, incident.ErrNotFound)
		}
		return incident.LinkedDevice{}, fmt.Errorf("failed to read device: %w", translate(err))
	}
	return r.device(), nil
}

// Devices lists every device by worker id.
func (s *Store) Devices(ctx context.Context) ([]incident.LinkedDevice, error) {
	var rows []deviceRow
	if err := s.db.WithContext(ctx).Order("worker_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list devices: %w", translate(err))
	}
	out := make([]incident.LinkedDevice, len(rows))
	for i, r := range rows {
		out[i] = r.device()
	}
	return out, nil
}

// NoteCaptureLost counts one lost capture on the worker's device row.
func (t *tx) NoteCaptureLost(ctx context.Context, workerID string, at time.Time) error {
	res := t.q(ctx).Model(&deviceRow{}).Where("worker_id = ?", workerID).
		Updates(map[string]any{"lost_captures": gorm.Expr("lost_captures + 1"), "lost_at": us(at)})
	if res.Error != nil {
		return fmt.Errorf("failed to note a lost capture of worker %s: %w", workerID, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("device of worker %s: %w", workerID, incident.ErrNotFound)
	}
	return nil
}
