package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// TestAdmissionOrder: with one slot taken, waiting requests are let in in
// the order they arrived, and a long route passes without a slot.
func TestAdmissionOrder(t *testing.T) {
	a := newAdmission(1, []route{{method: http.MethodGet, path: "/stream", long: true}})
	e := gin.New()
	e.Use(a.admit)
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	e.GET("/hold", func(c *gin.Context) { <-release })
	e.GET("/stream", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	e.GET("/q/:n", func(c *gin.Context) {
		mu.Lock()
		order = append(order, c.Param("n"))
		mu.Unlock()
	})

	var wg sync.WaitGroup
	serve := func(path string) {
		defer wg.Done()
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	wg.Add(1)
	go serve("/hold")
	waitFor(t, func() bool { return len(a.slots) == 1 })

	// A long route is not held up by the full queue.
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/stream", nil))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("long route: %d", rec.Code)
	}

	want := []string{"1", "2", "3", "4", "5"}
	for i, n := range want {
		wg.Add(1)
		go serve("/q/" + n)
		// Wait until this one is queued before the next arrives.
		waitFor(t, func() bool { return waiting(a) == i+1 })
	}
	close(release)
	wg.Wait()
	if len(order) != len(want) {
		t.Fatalf("served %v", order)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("served in order %v, want %v", order, want)
		}
	}
}

// TestAdmissionGivesUp: a client that leaves while waiting is answered
// without its handler ever running.
func TestAdmissionGivesUp(t *testing.T) {
	a := newAdmission(1, nil)
	a.slots <- struct{}{} // the only slot is busy
	e := gin.New()
	e.Use(a.admit)
	ran := false
	e.GET("/", func(c *gin.Context) { ran = true })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if ran || rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("ran %v, status %d", ran, rec.Code)
	}
}

// waiting reports how many requests are queued, once the newest has had
// time to block: between counting itself and blocking, a request runs a
// few instructions, far less than the pause.
func waiting(a *admission) int {
	n := int(a.waiting.Load())
	time.Sleep(5 * time.Millisecond)
	return n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
