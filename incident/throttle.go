package incident

import "time"

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
