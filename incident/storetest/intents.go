package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// testBundleIntents: an intent comes back as stored, at microsecond
// precision; a second one with the same bundle id is ErrDuplicate; the
// filters select by incident, state, age and due retry, oldest first;
// updates are optimistic (a stale Version is ErrConflict, so a commit and
// the sweeper's claim cannot both move a pending intent); a rolled-back
// transaction leaves nothing.
func testBundleIntents(t *testing.T, s incident.Store) {
	ctx := context.Background()
	a := incident.BundleIntent{BundleID: "b0000000000000000000000000000001", IncidentID: "inc-a", Kind: incident.IntentUpload,
		State: incident.IntentPending, CreatedAt: t0}
	b := incident.BundleIntent{BundleID: "b0000000000000000000000000000002", IncidentID: "inc-b", Kind: incident.IntentSecure,
		State: incident.IntentPending, CreatedAt: t0.Add(time.Hour)}
	c := incident.BundleIntent{BundleID: "b0000000000000000000000000000003", IncidentID: "inc-a", Kind: incident.IntentUpload,
		State: incident.IntentOrphaned, CreatedAt: t0.Add(-time.Hour), RetryAt: t0.Add(30 * time.Minute)}
	tx(t, s, func(tx incident.Tx) error {
		for _, in := range []incident.BundleIntent{a, b, c} {
			if err := tx.CreateBundleIntent(ctx, in); err != nil {
				return err
			}
		}
		return nil
	})
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.CreateBundleIntent(ctx, a) }); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("second intent for one bundle id: %v, want ErrDuplicate", err)
	}
	read := func(id string) incident.BundleIntent {
		t.Helper()
		var got incident.BundleIntent
		must(t, s.View(ctx, func(tx incident.Tx) (err error) { got, err = tx.BundleIntent(ctx, id); return }))
		return got
	}
	if got := read(c.BundleID); got != c {
		t.Errorf("stored %+v, read %+v", c, got)
	}
	if err := s.View(ctx, func(tx incident.Tx) error {
		_, err := tx.BundleIntent(ctx, "b0000000000000000000000000000009")
		return err
	}); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("unknown bundle id: %v, want ErrNotFound", err)
	}
	list := func(f incident.BundleIntentFilter) []string {
		t.Helper()
		var got []incident.BundleIntent
		must(t, s.View(ctx, func(tx incident.Tx) (err error) { got, err = tx.BundleIntents(ctx, f); return }))
		ids := []string{}
		for _, in := range got {
			ids = append(ids, in.BundleID[len(in.BundleID)-1:])
		}
		return ids
	}
	for _, tc := range []struct {
		name string
		f    incident.BundleIntentFilter
		want string
	}{
		{"all, oldest first", incident.BundleIntentFilter{}, "[3 1 2]"},
		{"incident", incident.BundleIntentFilter{IncidentID: "inc-a"}, "[3 1]"},
		{"pending", incident.BundleIntentFilter{State: incident.IntentPending}, "[1 2]"},
		{"pending created before", incident.BundleIntentFilter{State: incident.IntentPending, CreatedBefore: t0.Add(time.Hour)}, "[1]"},
		{"created before is exclusive", incident.BundleIntentFilter{CreatedBefore: t0}, "[3]"},
		{"retry due", incident.BundleIntentFilter{RetryBy: t0.Add(30 * time.Minute)}, "[3]"},
		{"retry not yet due", incident.BundleIntentFilter{RetryBy: t0.Add(29 * time.Minute)}, "[]"},
		{"limit", incident.BundleIntentFilter{Limit: 1}, "[3]"},
	} {
		if got := fmtList(list(tc.f)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	// A commit and a claim read the same version; the second loses.
	first, second := read(a.BundleID), read(a.BundleID)
	first.State = incident.IntentCommitted
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateBundleIntent(ctx, &first) })
	if first.Version != second.Version+1 {
		t.Errorf("version after update = %d, want %d", first.Version, second.Version+1)
	}
	second.State, second.RetryAt = incident.IntentOrphaned, t0.Add(time.Hour)
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.UpdateBundleIntent(ctx, &second) }); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	if got := read(a.BundleID); got.State != incident.IntentCommitted || !got.RetryAt.IsZero() {
		t.Errorf("after the stale update: %+v", got)
	}
	// Clearing RetryAt and moving CreatedAt are stored.
	cc := read(c.BundleID)
	cc.State, cc.RetryAt, cc.CreatedAt = incident.IntentDestroyed, time.Time{}, t0.Add(2*time.Hour)
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateBundleIntent(ctx, &cc) })
	if got := read(c.BundleID); got != cc {
		t.Errorf("updated to %+v, read %+v", cc, got)
	}
	boom := errors.New("injected failure")
	if err := s.Tx(ctx, func(tx incident.Tx) error {
		must(t, tx.CreateBundleIntent(ctx, incident.BundleIntent{BundleID: "b0000000000000000000000000000004",
			IncidentID: "inc-c", Kind: incident.IntentUpload, State: incident.IntentPending, CreatedAt: t0}))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want the injected error", err)
	}
	if got := list(incident.BundleIntentFilter{IncidentID: "inc-c"}); len(got) != 0 {
		t.Errorf("rolled back intent kept: %v", got)
	}
}

func fmtList(ids []string) string {
	out := "["
	for i, id := range ids {
		if i > 0 {
			out += " "
		}
		out += id
	}
	return out + "]"
}
