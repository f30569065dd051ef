package incident

import (
	"sync"
	"time"
)

// schedule is when a periodic chore of Work is next due; the zero value
// is due at once.
type schedule struct {
	mu   sync.Mutex
	next time.Time
}

// due reports whether the chore is due at now and, if it is, schedules
// the next run every later.
func (c *schedule) due(now time.Time, every time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.next) {
		return false
	}
	c.next = now.Add(every)
	return true
}
