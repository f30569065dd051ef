package incident

import (
	"context"
	"time"
)

// Throttle counts failed attempts of one kind for one key (an account's
// step-up, for example) in a window, and the lock they led to. It lives
// in the store, so that a restart or a second process does not reset it.
type Throttle struct {
	Key string
	// Failures counted since WindowStart.
	Failures    int
	WindowStart time.Time
	// LockedUntil is zero when the key is not locked.
	LockedUntil time.Time
}

// Locked reports whether the key is locked at now.
func (t Throttle) Locked(now time.Time) bool { return now.Before(t.LockedUntil) }

// ThrottleKeep is how long a throttle is kept after its window started
// and its lock ended. Every window and lock is an hour at most
// (SignInLockDuration), so a throttle older than this counts nothing any
// more: deleting it changes no answer, and keeps the table from growing
// with every name a guesser tries.
const ThrottleKeep = 24 * time.Hour

// throttleSweepEvery is how often Work deletes stale throttles.
const throttleSweepEvery = time.Hour

// SweepThrottles deletes the throttles that ended more than ThrottleKeep
// ago and returns how many.
func (s *Service) SweepThrottles(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.Tx(ctx, func(tx Tx) (err error) {
		n, err = tx.DeleteStaleThrottles(ctx, s.now().Add(-ThrottleKeep))
		return err
	})
	return n, err
}

// sweepThrottlesIfDue runs SweepThrottles when Work starts and every
// throttleSweepEvery after, by the injected clock.
func (s *Service) sweepThrottlesIfDue(ctx context.Context) {
	if !s.throttleSweep.due(s.now(), throttleSweepEvery) {
		return
	}
	if _, err := s.SweepThrottles(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("throttle sweep failed", "error_class", ErrorClass(err))
	}
}
