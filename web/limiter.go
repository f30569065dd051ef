package web

import (
	"sync"
	"time"
)

// Second-factor throttling: after maxFailures wrong codes within window
// for one key (a user id whose password was right) the key is locked for
// lockout. Passwords are throttled by the domain (Service.SignIn), in the
// database, per account and per address.
const (
	maxFailures = 5
	window      = 15 * time.Minute
	lockout     = 15 * time.Minute
)

// limiter counts failed sign-in attempts in memory. With several server
// instances each keeps its own count.
type limiter struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*attempts
}

type attempts struct {
	first       time.Time
	n           int
	lockedUntil time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, keys: map[string]*attempts{}}
}

// locked reports whether any of keys is locked now.
func (l *limiter) locked(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		if a, ok := l.keys[k]; ok && now.Before(a.lockedUntil) {
			return true
		}
	}
	return false
}

// fail counts a failure for each key and reports whether one became locked.
func (l *limiter) fail(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now)
	lockedNow := false
	for _, k := range keys {
		a, ok := l.keys[k]
		if !ok || now.Sub(a.first) > window {
			a = &attempts{first: now}
			l.keys[k] = a
		}
		a.n++
		if a.n >= maxFailures && !now.Before(a.lockedUntil) {
			a.lockedUntil, a.n, a.first = now.Add(lockout), 0, now
			lockedNow = true
		}
	}
	return lockedNow
}

// reset forgets a key after a successful sign-in.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

// sweep drops entries that no longer matter, keeping memory bounded.
func (l *limiter) sweep(now time.Time) {
	if len(l.keys) < 10000 {
		return
	}
	for k, a := range l.keys {
		if now.Sub(a.first) > window && !now.Before(a.lockedUntil) {
			delete(l.keys, k)
		}
	}
}
