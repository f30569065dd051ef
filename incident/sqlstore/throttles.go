package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tresor-evidence/tresor/incident"
)

type throttleRow struct {
	Key         string `gorm:"primaryKey"`
	Failures    int
	WindowStart int64
	LockedUntil int64
}

func (throttleRow) TableName() string { return "throttles" }

// throttleLockClass is the first half of the two-integer advisory lock
// key space the throttles use; device locks use the one-bigint space, so
// the two never meet.
const throttleLockClass = 7411

// Throttle implements incident.Tx. On PostgreSQL it first takes a
// transaction advisory lock on the key, held until the transaction ends:
// concurrent transactions that read, count and store the same throttle
// then run one after the other, and none counts from a stale read. (On
// SQLite a write transaction holds the only writer already.)
func (t *tx) Throttle(ctx context.Context, key string) (incident.Throttle, error) {
	if t.dialect == Postgres {
		if err := t.q(ctx).Exec(`SELECT pg_advisory_xact_lock(?, hashtext(?))`, throttleLockClass, key).Error; err != nil {
			return incident.Throttle{}, fmt.Errorf("failed to lock throttle: %w", translate(err))
		}
	}
	var r throttleRow
	err := t.q(ctx).Where("key = ?", key).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return incident.Throttle{Key: key}, nil
	}
	if err != nil {
		return incident.Throttle{}, fmt.Errorf("failed to read throttle: %w", translate(err))
	}
	out := incident.Throttle{Key: r.Key, Failures: r.Failures, WindowStart: fromUS(r.WindowStart)}
	if r.LockedUntil != 0 {
		out.LockedUntil = fromUS(r.LockedUntil)
	}
	return out, nil
}

// SetThrottle implements incident.Tx.
func (t *tx) SetThrottle(ctx context.Context, th incident.Throttle) error {
	r := throttleRow{Key: th.Key, Failures: th.Failures, WindowStart: us(th.WindowStart)}
	if !th.LockedUntil.IsZero() {
		r.LockedUntil = us(th.LockedUntil)
	}
	err := t.q(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, UpdateAll: true}).Create(&r).Error
	if err != nil {
		return fmt.Errorf("failed to store throttle: %w", translate(err))
	}
	return nil
}

// DeleteStaleThrottles implements incident.Tx.
func (t *tx) DeleteStaleThrottles(ctx context.Context, before time.Time) (int64, error) {
	res := t.q(ctx).Where("window_start < ? AND locked_until < ?", us(before), us(before)).Delete(&throttleRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("failed to delete stale throttles: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}
