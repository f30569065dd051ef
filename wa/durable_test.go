package wa

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

// flakyStore is the database failing: PutCapture and Tx (which every
// flag starts with) fail while failures is not zero; -1 fails forever.
type flakyStore struct {
	Store
	mu       sync.Mutex
	failures int
	calls    int
}

func (f *flakyStore) down() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failures == 0 {
		return nil
	}
	if f.failures > 0 {
		f.failures--
	}
	return incident.ErrUnavailable
}

func (f *flakyStore) back() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = 0
}

func (f *flakyStore) PutCapture(ctx context.Context, c incident.CapturedMessage) error {
	if err := f.down(); err != nil {
		return err
	}
	return f.Store.PutCapture(ctx, c)
}

func (f *flakyStore) Tx(ctx context.Context, fn func(tx incident.Tx) error) error {
	if err := f.down(); err != nil {
		return err
	}
	return f.Store.Tx(ctx, fn)
}

// auditActions lists the audit log's entries with the given action.
func (e *env) auditEntries(action string) []audit.Entry {
	e.t.Helper()
	var out []audit.Entry
	err := e.store.View(context.Background(), func(tx incident.Tx) error {
		all, err := tx.AuditEntries(context.Background(), incident.AuditFilter{})
		for _, en := range all {
			if en.Action == action {
				out = append(out, en)
			}
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestCaptureRetriesUntilTheStoreTakesIt(t *testing.T) {
	e := newEnv(t)
	fs := &flakyStore{Store: e.store, failures: 3}
	e.ad.store = fs
	start := e.clock.Now()
	e.handle(received("3A0000000000000003", textMessage(secretText)))

	if fs.calls != 4 {
		t.Fatalf("store called %d times, want 3 failures and 1 success", fs.calls)
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}
	if !reflect.DeepEqual(e.sleeps, want) {
		t.Fatalf("back-offs = %v, want %v", e.sleeps, want)
	}
	c, err := e.store.Capture(context.Background(), e.worker.ID, "3A0000000000000003")
	if err != nil {
		t.Fatalf("capture after retries: %v", err)
	}
	// The window counts from the message's arrival, not the commit.
	if !c.CapturedAt.Equal(start) || !c.ExpiresAt.Equal(start.Add(e.pol.CaptureWindow)) {
		t.Fatalf("captured %v, expires %v; want %v and the window after it", c.CapturedAt, c.ExpiresAt, start)
	}
	if n := len(e.auditEntries("whatsapp.capture_lost")); n != 0 {
		t.Fatalf("%d losses audited for a capture that was kept", n)
	}
}

func TestStarRetriesUntilTheStoreTakesIt(t *testing.T) {
	e := newEnv(t)
	e.handle(received("3A0000000000000005", textMessage(secretText)))
	fs := &flakyStore{Store: e.store, failures: 5}
	e.ad.store = fs
	// whatsmeow ignores the result of a star and never sends it again.
	e.handle(star(youthLID, types.EmptyJID, "3A0000000000000005", false, true))
	if list := e.incidents(); len(list) != 1 || list[0].Message.ID != "3A0000000000000005" || list[0].Message.SentAt.IsZero() {
		t.Fatalf("incidents = %+v, want the starred, captured message", list)
	}
	if len(e.sleeps) != 5 {
		t.Fatalf("back-offs = %v, want 5", e.sleeps)
	}
}

// withSpool gives the adapter a spool in a fresh folder and a manager
// that replays it.
func withSpool(t *testing.T, e *env) (*Spool, *Manager, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wa-spool")
	sp, err := OpenSpool(dir, e.ad.sealer)
	if err != nil {
		t.Fatal(err)
	}
	e.ad.opts.Spool = sp
	m, err := NewManager(Config{Store: e.store, Devices: e.devices, Sealer: e.ad.sealer, Options: Options{TempDir: e.tempDir, Clock: e.clock.Now, Spool: sp}})
	if err != nil {
		t.Fatal(err)
	}
	m.SetFlagger(e.svc)
	m.devices[e.worker.ID] = &linked{ad: e.ad} // the worker's running device
	return sp, m, dir
}

func TestDatabaseAwayBeyondTheRetryWindowLosesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sp, m, dir := withSpool(t, e)
	fs := &flakyStore{Store: e.store, failures: -1}
	e.ad.store = fs
	arrived := e.clock.Now()
	e.handle(received("3A0000000000000006", imageMessage()))
	// Each event retried for the whole window, backing off up to 15 s.
	var waited time.Duration
	for _, d := range e.sleeps {
		waited += d
		if d > maxRetryBackoff {
			t.Fatalf("back-off %v above %v", d, maxRetryBackoff)
		}
	}
	if waited != DefaultRetryWindow {
		t.Fatalf("retried for %v, want the retry window %v", waited, DefaultRetryWindow)
	}
	// While the spool holds entries, later events join it at once, in
	// order: no further retry window, and the star after its capture.
	retries := len(e.sleeps)
	e.handle(star(youthPN, types.EmptyJID, "3A0000000000000006", false, true))
	if len(e.sleeps) != retries {
		t.Fatalf("the star waited %v although the spool held entries", e.sleeps[retries:])
	}
	if !sp.Pending() {
		t.Fatal("nothing spooled while the database was away")
	}
	// The spool is sealed: neither the text nor the addresses are readable.
	e.handle(received("3A0000000000000007", textMessage(secretText)))
	scanDir(t, dir, []byte(secretText), []byte(youthPN.User), []byte(youthLID.User), []byte("3A0000000000000007"))

	// Still away: the replay keeps everything for later.
	m.cfg.Store = fs
	if err := m.ReplaySpool(ctx); err == nil {
		t.Fatal("replay succeeded while the database was away")
	}
	fs.back()
	if err := m.ReplaySpool(ctx); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if sp.Pending() {
		t.Fatal("spool not emptied by the replay")
	}
	c, err := e.store.Capture(ctx, e.worker.ID, "3A0000000000000006")
	if err != nil || !c.CapturedAt.Equal(arrived) {
		t.Fatalf("replayed capture: %+v, %v; want captured at arrival %v", c.CapturedAt, err, arrived)
	}
	if _, err := e.store.Capture(ctx, e.worker.ID, "3A0000000000000007"); err != nil {
		t.Fatalf("second replayed capture: %v", err)
	}
	list := e.incidents()
	if len(list) != 1 || list[0].Message.ID != "3A0000000000000006" || list[0].Message.MediaType != "image/jpeg" {
		t.Fatalf("incidents after replay = %+v, want the starred image", list)
	}
	if n := len(e.auditEntries("whatsapp.capture_lost")); n != 0 {
		t.Fatalf("%d losses audited although the spool kept everything", n)
	}
	// A second replay finds nothing and changes nothing.
	if err := m.ReplaySpool(ctx); err != nil || len(e.incidents()) != 1 {
		t.Fatalf("second replay: %v, %d incidents", err, len(e.incidents()))
	}
}

func TestCaptureLostIsAuditedAndShownToTheWorker(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	loseCaptures(t, e)
	lostAt := e.clock.Now().Add(DefaultRetryWindow)
	if e.ad.Handle(received("3A0000000000000008", textMessage(secretText))) {
		t.Fatal("Handle reported a lost capture as kept")
	}
	entries := e.auditEntries("whatsapp.capture_lost")
	if len(entries) != 1 {
		t.Fatalf("capture_lost entries = %d, want 1", len(entries))
	}
	want := map[string]string{"user_id": e.worker.ID, "what": "message", "message_id": "3A0000000000000008", "reason": lossFallback}
	if got := entries[0].Details; !reflect.DeepEqual(got, want) || entries[0].Actor != incident.System.ID {
		t.Fatalf("audit entry = %s %+v, want system %+v", entries[0].Actor, got, want)
	}
	d, err := e.store.Device(ctx, e.worker.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.LostCaptures != 1 || !d.LostAt.Equal(lostAt) {
		t.Fatalf("device shows %d lost at %v, want 1 at %v", d.LostCaptures, d.LostAt, lostAt)
	}
	// Without a spool configured, the same loss is recorded as such.
	e.ad.opts.Spool = nil
	e.ad.Handle(received("3A0000000000000009", textMessage(secretText)))
	entries = e.auditEntries("whatsapp.capture_lost")
	if len(entries) != 2 || entries[1].Details["reason"] != lossDatabase {
		t.Fatalf("capture_lost entries = %+v", entries)
	}
}

func TestSpoolSkipsATornLastFrameAndReportsBadOnes(t *testing.T) {
	e := newEnv(t)
	sp, _, dir := withSpool(t, e)
	for _, id := range []string{"A", "B"} {
		if err := sp.Append(spoolEntry{Worker: e.worker.ID, At: t0, Flag: &spoolFlag{ID: id, Via: "star"}}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, spoolPending)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first := len(raw) / 2
	raw[first+10] ^= 0xff               // corrupt the second frame
	raw = append(raw, 0, 0, 0, 9, 1, 2) // and a torn third one
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var applied []string
	var bad []int
	err = sp.Replay(func(e spoolEntry) error { applied = append(applied, e.Flag.ID); return nil }, func(n int, err error) { bad = append(bad, n) })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(applied, []string{"A"}) || !reflect.DeepEqual(bad, []int{1}) {
		t.Fatalf("applied %v, bad %v; want [A] and [1]", applied, bad)
	}
	if sp.Pending() {
		t.Fatal("spool kept after a complete replay")
	}
}

// loseCaptures pairs e's device and then makes every capture fail: the
// spool cannot be written (its folder is gone, a file in its place), and
// the capture table is away while the audit log is reachable.
func loseCaptures(t *testing.T, e *env) {
	t.Helper()
	storePairedDevice(t, e)
	_, _, dir := withSpool(t, e)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.ad.store = &flakyStore{Store: e.store, failures: -1}
}
