// Package testclock is a settable clock for tests: code under test takes
// its Now where it takes a clock, and the test moves time with Advance.
// It is safe for concurrent use.
package testclock

import (
	"sync"
	"time"
)

// Clock reads a time that only Advance changes.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock that reads t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
