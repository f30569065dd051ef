package web

import (
	"net/http"
	"runtime"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// admission lets at most cap(slots) requests work at once; the others
// wait for a slot in the order they arrived.
//
// Why: without it, every request in flight competes for the CPU and the
// database pool at once, and database/sql hands a freed connection to a
// random waiter, so under load a few requests wait many turns while most
// wait none: the 99th percentile grows far beyond the median. A FIFO
// queue in front serves requests in turn, keeps the same throughput and
// bounds the tail near the average. Requests that last as long as their
// client (uploads, event streams, downloads) or run for seconds (audit
// verification) pass without a slot (route.long), so a slow client can
// never hold one.
type admission struct {
	slots   chan struct{}
	long    map[string]bool // "METHOD /path" of routes that pass
	waiting atomic.Int64    // requests in the queue
}

// defaultInFlightPerCPU leaves enough requests in flight that those
// waiting on the database (PostgreSQL round trips, SQLite fsyncs) leave
// work for the CPU, and few enough that each finishes quickly: measured
// with tresorbench on two cores, 2 per CPU kept the 99th percentile of
// the pages lower than 4 or 8 per CPU on SQLite, and about even with 4
// on PostgreSQL.
const defaultInFlightPerCPU = 2

func newAdmission(n int, routes []route) *admission {
	if n <= 0 {
		n = defaultInFlightPerCPU * runtime.GOMAXPROCS(0)
	}
	a := &admission{slots: make(chan struct{}, n), long: map[string]bool{}}
	for _, r := range routes {
		if r.long || r.upload {
			a.long[r.method+" "+r.path] = true
		}
	}
	return a
}

// admit is the middleware. Blocked senders on a channel are woken in the
// order they blocked, which makes the queue first-in, first-out.
func (a *admission) admit(c *gin.Context) {
	if a.long[c.Request.Method+" "+c.FullPath()] {
		c.Next()
		return
	}
	a.waiting.Add(1)
	select {
	case a.slots <- struct{}{}:
		a.waiting.Add(-1)
	case <-c.Request.Context().Done():
		a.waiting.Add(-1)
		// The client gave up while waiting; nothing was done for it.
		c.AbortWithStatus(http.StatusServiceUnavailable)
		return
	}
	defer func() { <-a.slots }()
	c.Next()
}
