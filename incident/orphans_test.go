package incident_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// retentionVault is the fake vault with a storage retention: Destroy of a
// held bundle fails with ErrRetention and keeps it, as S3 Object Lock does.
type retentionVault struct {
	*fakeVault
	mu   sync.Mutex
	held map[string]bool
}

func (v *retentionVault) Destroy(ctx context.Context, id string) (incident.Destruction, error) {
	v.mu.Lock()
	held := v.held[id]
	v.mu.Unlock()
	if held {
		return incident.Destruction{}, fmt.Errorf("bundle %s: %w", id, incident.ErrRetention)
	}
	return v.fakeVault.Destroy(ctx, id)
}

func (v *retentionVault) release(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.held, id)
}

// orphanWorld is a world whose service sweeps through a retentionVault.
type orphanWorld struct {
	*world
	rv  *retentionVault
	svc *incident.Service
}

func newOrphanWorld(t *testing.T, w *world) *orphanWorld {
	rv := &retentionVault{fakeVault: w.vault, held: map[string]bool{}}
	return &orphanWorld{world: w, rv: rv, svc: incident.NewService(w.store, w.pol, rv, w.msgr,
		incident.WithClock(w.clock.Now), incident.WithPasswordParams(cheap), incident.WithOrphanGrace(time.Hour))}
}

// crashedUpload leaves what a process killed between publication and the
// incident commit leaves: a pending intent and, if published, its bundle.
func (w *orphanWorld) crashedUpload(incidentID string, published bool) string {
	w.t.Helper()
	id := strings.Repeat("0", 32-len(incidentID)) + incidentID
	in := incident.BundleIntent{BundleID: id, IncidentID: incidentID, Kind: incident.IntentUpload,
		State: incident.IntentPending, CreatedAt: w.clock.Now()}
	if err := w.store.Tx(w.ctx, func(tx incident.Tx) error { return tx.CreateBundleIntent(w.ctx, in) }); err != nil {
		w.t.Fatal(err)
	}
	if published {
		if _, err := w.vault.Seal(w.ctx, id, incident.Manifest{IncidentID: incidentID}, []incident.Part{{Name: "a.png",
			Content: bytes.NewReader([]byte("PNG"))}}); err != nil {
			w.t.Fatal(err)
		}
	}
	return id
}

func (w *orphanWorld) intent(id string) incident.BundleIntent {
	w.t.Helper()
	var in incident.BundleIntent
	if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) { in, err = tx.BundleIntent(w.ctx, id); return }); err != nil {
		w.t.Fatal(err)
	}
	return in
}

// entries reads the audit entries of an incident id straight from the
// store: a crashed upload's incident never existed.
func (w *orphanWorld) entries(incidentID string) []audit.Entry {
	w.t.Helper()
	var es []audit.Entry
	if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) {
		es, err = tx.AuditEntries(w.ctx, incident.AuditFilter{IncidentID: incidentID})
		return
	}); err != nil {
		w.t.Fatal(err)
	}
	return es
}

func (w *orphanWorld) sweep() incident.OrphanSweep {
	w.t.Helper()
	rep, err := w.svc.SweepOrphans(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return rep
}

func (w *orphanWorld) inVault(id string) bool {
	w.vault.mu.Lock()
	defer w.vault.mu.Unlock()
	_, ok := w.vault.sealed[id]
	return ok
}

// TestOrphanSweepRules: what the sweeper destroys, when, and what it
// never touches.
func TestOrphanSweepRules(t *testing.T) {
	type setup struct {
		id       string // bundle id
		incident string // the incident id the audit entry carries
	}
	for _, tc := range []struct {
		name string
		// arrange leaves a bundle and, perhaps, its intent.
		arrange func(w *orphanWorld) setup
		// after is how long after arranging the sweep runs.
		after time.Duration
		want  incident.OrphanSweep
		// kept: the bundle is still in the vault afterwards.
		kept   bool
		action string // the audit entry the sweep writes, "" for none
		state  incident.IntentState
	}{
		{
			name:    "crashed upload within the grace period is kept",
			arrange: func(w *orphanWorld) setup { return setup{w.crashedUpload("a1", true), "a1"} },
			after:   59 * time.Minute, kept: true, state: incident.IntentPending,
		},
		{
			name:    "crashed upload past the grace period is destroyed",
			arrange: func(w *orphanWorld) setup { return setup{w.crashedUpload("a2", true), "a2"} },
			after:   61 * time.Minute, want: incident.OrphanSweep{Destroyed: 1},
			action: "evidence.orphan_destroyed", state: incident.IntentDestroyed,
		},
		{
			name:    "intent without a published bundle is discarded",
			arrange: func(w *orphanWorld) setup { return setup{w.crashedUpload("a3", false), "a3"} },
			after:   2 * time.Hour, want: incident.OrphanSweep{Absent: 1},
			action: "evidence.orphan_discarded", state: incident.IntentDestroyed,
		},
		{
			name: "committed upload is never swept",
			arrange: func(w *orphanWorld) setup {
				inc, err := w.svc.FlagUpload(w.ctx, w.worker, incident.FlagInput{Category: "threat", Platform: "iphone"},
					incident.Part{Name: "a.png", MediaType: "image/png", Size: int64(len(pngMagic)) + 3, Content: bytes.NewReader([]byte(pngMagic + "PNG"))})
				if err != nil {
					w.t.Fatal(err)
				}
				return setup{inc.Receipt.BundleID, inc.ID}
			},
			after: 1000 * time.Hour, kept: true, state: incident.IntentCommitted,
		},
		{
			name: "bundle sealed without an incident (vault seal) is never swept",
			arrange: func(w *orphanWorld) setup {
				id := strings.Repeat("5", 32)
				if _, err := w.vault.Seal(w.ctx, id, incident.Manifest{IncidentID: "cli"}, nil); err != nil {
					w.t.Fatal(err)
				}
				return setup{id, "cli"}
			},
			after: 1000 * time.Hour, kept: true,
		},
		{
			name: "orphan under retention is kept, listed and not yet audited",
			arrange: func(w *orphanWorld) setup {
				id := w.crashedUpload("a6", true)
				w.rv.held[id] = true
				return setup{id, "a6"}
			},
			after: 2 * time.Hour, want: incident.OrphanSweep{Held: 1}, kept: true, state: incident.IntentOrphaned,
		},
	} {
		for _, d := range sqltest.Dialects() {
			t.Run(string(d)+"/"+tc.name, func(t *testing.T) {
				w := newOrphanWorld(t, newWorld(t, d))
				s := tc.arrange(w)
				w.clock.Advance(tc.after)
				if got := w.sweep(); got != tc.want {
					t.Errorf("sweep = %+v, want %+v", got, tc.want)
				}
				if w.inVault(s.id) != tc.kept {
					t.Errorf("bundle in the vault = %v, want %v", !tc.kept, tc.kept)
				}
				var orphanEntries []audit.Entry
				for _, e := range w.entries(s.incident) {
					if strings.HasPrefix(e.Action, "evidence.orphan_") {
						orphanEntries = append(orphanEntries, e)
					}
				}
				switch {
				case tc.action == "" && len(orphanEntries) != 0:
					t.Errorf("unexpected audit entries %+v", orphanEntries)
				case tc.action != "" && (len(orphanEntries) != 1 || orphanEntries[0].Action != tc.action):
					t.Errorf("audit entries %+v, want one %s", orphanEntries, tc.action)
				case tc.action == "evidence.orphan_destroyed":
					d := orphanEntries[0].Details
					if d["bundle_id"] != s.id || d["ciphertext_sha256"] == "" || d["ciphertext_size"] == "" || d["reason"] != "not_committed" {
						t.Errorf("certificate details %v", d)
					}
				}
				if tc.state != "" {
					if got := w.intent(s.id).State; got != tc.state {
						t.Errorf("intent state %s, want %s", got, tc.state)
					}
				}
				// A second sweep right after changes nothing.
				if got := w.sweep(); got != (incident.OrphanSweep{}) {
					t.Errorf("second sweep = %+v", got)
				}
				w.verify()
			})
		}
	}
}

// TestOrphanUnderRetentionDestroyedLater: an orphan the storage keeps is
// tried again a day later, destroyed once retention allows, and audited
// exactly once.
func TestOrphanUnderRetentionDestroyedLater(t *testing.T) {
	eachDB(t, func(t *testing.T, ww *world) {
		w := newOrphanWorld(t, ww)
		id := w.crashedUpload("r1", true)
		w.rv.held[id] = true
		w.clock.Advance(2 * time.Hour)
		if got := w.sweep(); got.Held != 1 {
			t.Fatalf("first sweep = %+v", got)
		}
		w.clock.Advance(23 * time.Hour)
		if got := w.sweep(); got != (incident.OrphanSweep{}) {
			t.Fatalf("sweep before the retry = %+v", got)
		}
		w.clock.Advance(time.Hour)
		if got := w.sweep(); got.Held != 1 || !w.inVault(id) {
			t.Fatalf("retry still under retention = %+v", got)
		}
		w.rv.release(id)
		w.clock.Advance(24 * time.Hour)
		if got := w.sweep(); got.Destroyed != 1 || w.inVault(id) {
			t.Fatalf("sweep after retention = %+v", got)
		}
		n := 0
		for _, e := range w.entries("r1") {
			if e.Action == "evidence.orphan_destroyed" {
				n++
			}
		}
		if n != 1 || w.intent(id).State != incident.IntentDestroyed {
			t.Fatalf("%d orphan_destroyed entries, intent %+v", n, w.intent(id))
		}
		w.verify()
	})
}

// TestOrphanClaimBeatsLateCommit: once the sweeper claimed an intent, the
// commit that would refer to its bundle fails, and the upload removes what
// it published: no incident refers to a destroyed bundle.
func TestOrphanClaimBeatsLateCommit(t *testing.T) {
	eachDB(t, func(t *testing.T, ww *world) {
		w := newOrphanWorld(t, ww)
		// The vault claims the intent for the sweeper while "sealing",
		// as a seal slower than the grace period would let it.
		slow := &claimingVault{retentionVault: w.rv, w: w}
		svc := incident.NewService(w.store, w.pol, slow, w.msgr, incident.WithClock(w.clock.Now),
			incident.WithPasswordParams(cheap), incident.WithOrphanGrace(time.Hour))
		slow.svc = svc
		_, err := svc.FlagUpload(w.ctx, w.worker, incident.FlagInput{Category: "threat", Platform: "iphone"},
			incident.Part{Name: "a.png", MediaType: "image/png", Size: int64(len(pngMagic)) + 3, Content: bytes.NewReader([]byte(pngMagic + "PNG"))})
		wantErr(t, err, incident.ErrConflict)
		if len(w.vault.sealed) != 0 {
			t.Fatalf("%d bundles left", len(w.vault.sealed))
		}
		list, err := w.svc.Incidents(w.ctx, w.worker, incident.IncidentFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("incidents %v %v", list, err)
		}
		w.verify()
	})
}

// claimingVault seals, then lets the grace period pass and the sweeper
// run before returning: the bundle is absent at the sweep (not yet
// published for it), published afterwards.
type claimingVault struct {
	*retentionVault
	w   *orphanWorld
	svc *incident.Service
}

func (v *claimingVault) Seal(ctx context.Context, id string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
	v.w.clock.Advance(2 * time.Hour)
	if rep, err := v.svc.SweepOrphans(ctx); err != nil || rep.Absent != 1 {
		return incident.Receipt{}, fmt.Errorf("sweep during the seal: %+v %v", rep, err)
	}
	return v.retentionVault.Seal(ctx, id, m, parts)
}

// TestRetriedSecureJobReusesItsIntent: a secure job that died after its
// seal re-uses its pending intent when retried, so its seal replaces the
// bundle of the dead attempt; one bundle, one committed intent.
func TestRetriedSecureJobReusesItsIntent(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGR", "violence")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "sichern", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.vault.failSeal = errors.New("vault unreachable")
		for { // the notifications run first, then the secure job fails
			ran, err := w.svc.RunDue(w.ctx)
			if err != nil {
				break
			}
			if !ran {
				t.Fatal("the secure job never ran")
			}
		}
		var first []incident.BundleIntent
		if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) {
			first, err = tx.BundleIntents(w.ctx, incident.BundleIntentFilter{IncidentID: inc.ID})
			return
		}); err != nil || len(first) != 1 || first[0].State != incident.IntentPending {
			t.Fatalf("intents after the failed attempt: %+v %v", first, err)
		}
		w.vault.failSeal = nil
		w.clock.Advance(time.Hour)
		w.runJobs()
		got := w.get(inc.ID)
		if got.Receipt == nil || got.Receipt.BundleID != first[0].BundleID {
			t.Fatalf("receipt %+v, want bundle %s", got.Receipt, first[0].BundleID)
		}
		var after []incident.BundleIntent
		if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) {
			after, err = tx.BundleIntents(w.ctx, incident.BundleIntentFilter{IncidentID: inc.ID})
			return
		}); err != nil || len(after) != 1 || after[0].State != incident.IntentCommitted {
			t.Fatalf("intents after the retry: %+v %v", after, err)
		}
		if len(w.vault.sealed) != 1 {
			t.Fatalf("%d bundles, want 1", len(w.vault.sealed))
		}
	})
}

// TestWorkSweepsAtStart: the job loop sweeps when it starts, so that a
// restart after a crash removes orphans older than the grace period.
func TestWorkSweepsAtStart(t *testing.T) {
	eachDB(t, func(t *testing.T, ww *world) {
		w := newOrphanWorld(t, ww)
		id := w.crashedUpload("w1", true)
		w.clock.Advance(2 * time.Hour)
		ctx, cancel := context.WithCancel(w.ctx)
		defer cancel()
		var logged []string                                                                 // Work returns before the test reads it
		first := &lineHandler{out: func(l string) { logged = append(logged, l); cancel() }} // the first line is the sweep's
		svc := incident.NewService(w.store, w.pol, w.rv, w.msgr, incident.WithClock(w.clock.Now),
			incident.WithPasswordParams(cheap), incident.WithOrphanGrace(time.Hour), incident.WithLogger(slog.New(first)))
		svc.Work(ctx, time.Hour)
		if w.inVault(id) || len(logged) == 0 || logged[0] != "orphan sweep destroyed=1 absent=0 held_by_retention=0" {
			t.Fatalf("after Work: in vault %v, log %q", w.inVault(id), logged)
		}
	})
}

// TestAbortedUploadIsNotAnOrphan: an upload the client breaks off (its
// context cancelled while sealing) publishes nothing; its intent is
// abandoned at once, so no sweep writes an entry about it later.
func TestAbortedUploadIsNotAnOrphan(t *testing.T) {
	eachDB(t, func(t *testing.T, ww *world) {
		w := newOrphanWorld(t, ww)
		ctx, cancel := context.WithCancel(w.ctx)
		_, err := w.svc.FlagUpload(ctx, w.worker, incident.FlagInput{Category: "threat", Platform: "iphone"},
			incident.Part{Name: "a.png", MediaType: "image/png", Size: -1, Content: &cancellingReader{cancel: cancel, head: incident.SniffLen}})
		if err == nil {
			t.Fatal("a broken-off upload opened an incident")
		}
		var intents []incident.BundleIntent
		if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) {
			intents, err = tx.BundleIntents(w.ctx, incident.BundleIntentFilter{})
			return
		}); err != nil || len(intents) != 1 || intents[0].State != incident.IntentAbandoned {
			t.Fatalf("intents %+v %v", intents, err)
		}
		w.clock.Advance(2 * time.Hour)
		if got := w.sweep(); got != (incident.OrphanSweep{}) {
			t.Fatalf("sweep = %+v", got)
		}
		if es := w.entries(intents[0].IncidentID); len(es) != 0 {
			t.Fatalf("entries %+v", es)
		}
	})
}

// cancellingReader is a client that breaks off: it cancels the request's
// context and fails the read.
type cancellingReader struct {
	cancel context.CancelFunc
	head   int // bytes of a PNG still to give before breaking off
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.head > 0 {
		n := copy(p[:min(len(p), r.head)], pngMagic+strings.Repeat("x", r.head))
		r.head -= n
		return n, nil
	}
	r.cancel()
	return 0, context.Canceled
}
