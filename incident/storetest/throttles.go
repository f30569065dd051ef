package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// testThrottles: an unknown key reads as a zero throttle with that key;
// a stored one comes back as stored, at microsecond precision, replaced
// by the next store, and keys do not mix. A rolled-back store leaves
// nothing.
func testThrottles(t *testing.T, s incident.Store) {
	ctx := context.Background()
	tx(t, s, func(tx incident.Tx) error {
		got, err := tx.Throttle(ctx, "step-up:a")
		if err != nil {
			return err
		}
		if got != (incident.Throttle{Key: "step-up:a"}) {
			t.Errorf("unknown key: %+v", got)
		}
		return nil
	})
	want := incident.Throttle{Key: "step-up:a", Failures: 3, WindowStart: t0, LockedUntil: t0.Add(15 * time.Minute)}
	tx(t, s, func(tx incident.Tx) error { return tx.SetThrottle(ctx, want) })
	tx(t, s, func(tx incident.Tx) error {
		return tx.SetThrottle(ctx, incident.Throttle{Key: "step-up:b", Failures: 1, WindowStart: t0})
	})
	read := func(key string) incident.Throttle {
		t.Helper()
		var got incident.Throttle
		must(t, s.View(ctx, func(tx incident.Tx) (err error) { got, err = tx.Throttle(ctx, key); return }))
		return got
	}
	if got := read("step-up:a"); !got.WindowStart.Equal(want.WindowStart) || !got.LockedUntil.Equal(want.LockedUntil) || got.Failures != 3 {
		t.Errorf("stored %+v, read %+v", want, got)
	}
	cleared := incident.Throttle{Key: "step-up:a", WindowStart: t0.Add(time.Hour)}
	tx(t, s, func(tx incident.Tx) error { return tx.SetThrottle(ctx, cleared) })
	if got := read("step-up:a"); got.Failures != 0 || !got.LockedUntil.IsZero() || !got.WindowStart.Equal(cleared.WindowStart) {
		t.Errorf("replaced by %+v, read %+v", cleared, got)
	}
	if got := read("step-up:b"); got.Failures != 1 {
		t.Errorf("other key: %+v", got)
	}
	boom := errors.New("injected failure")
	if err := s.Tx(ctx, func(tx incident.Tx) error {
		must(t, tx.SetThrottle(ctx, incident.Throttle{Key: "step-up:c", Failures: 9, WindowStart: t0}))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want the injected error", err)
	}
	if got := read("step-up:c"); got.Failures != 0 {
		t.Errorf("rolled back store kept: %+v", got)
	}
}

// testDeleteStaleThrottles: only throttles whose window started and whose
// lock ended before the cut-off are deleted, and the count says so.
func testDeleteStaleThrottles(t *testing.T, s incident.Store) {
	ctx := context.Background()
	cut := t0.Add(48 * time.Hour)
	rows := map[string]incident.Throttle{
		"old":             {Key: "old", Failures: 3, WindowStart: t0},
		"old-lock-ended":  {Key: "old-lock-ended", Failures: 20, WindowStart: t0, LockedUntil: t0.Add(time.Hour)},
		"old-still-locks": {Key: "old-still-locks", Failures: 20, WindowStart: t0, LockedUntil: cut.Add(time.Minute)},
		"at-cut":          {Key: "at-cut", Failures: 1, WindowStart: cut},
		"recent":          {Key: "recent", Failures: 1, WindowStart: cut.Add(time.Hour)},
	}
	for _, r := range rows {
		tx(t, s, func(tx incident.Tx) error { return tx.SetThrottle(ctx, r) })
	}
	var n int64
	tx(t, s, func(tx incident.Tx) (err error) { n, err = tx.DeleteStaleThrottles(ctx, cut); return err })
	if n != 2 {
		t.Errorf("deleted %d, want 2 (old, old-lock-ended)", n)
	}
	for key, want := range map[string]int{"old": 0, "old-lock-ended": 0, "old-still-locks": 20, "at-cut": 1, "recent": 1} {
		var got incident.Throttle
		must(t, s.View(ctx, func(tx incident.Tx) (err error) { got, err = tx.Throttle(ctx, key); return }))
		if got.Failures != want {
			t.Errorf("%s: %d failures after the sweep, want %d", key, got.Failures, want)
		}
	}
}
