package incident_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// openingCase is one opening to record and the error it should give.
type openingCase struct {
	name string
	o    incident.Opening
	err  error // nil: recorded
}

// recordOpenings records each case's opening in order, as a subtest.
func recordOpenings(t *testing.T, w *world, cases []openingCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := w.svc.RecordOpening(w.ctx, tc.o)
			if tc.err == nil && err != nil {
				t.Fatal(err)
			}
			if tc.err != nil {
				wantErr(t, err, tc.err)
			}
		})
	}
}

func TestRecordOpening(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, _ := approvedRelease(t, w)
		bundle := inc.Receipt.BundleID
		holders := []string{"holder 1 of 3 (2 needed), set AAAAAAAAAAA", "holder 3 of 3 (2 needed), set AAAAAAAAAAA"}
		at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
		recordOpenings(t, w, []openingCase{
			{"live", incident.Opening{BundleID: bundle, IncidentID: inc.ID, Keys: holders, Operator: "susi"}, nil},
			{"imported", incident.Opening{BundleID: bundle, IncidentID: inc.ID, Keys: holders, Operator: "anna", OpenedAt: at, Imported: true}, nil},
			{"no incident", incident.Opening{BundleID: "0123456789abcdef0123", Keys: []string{"identity 1"}, Operator: "anna"}, nil},
			{"worker", incident.Opening{BundleID: bundle, Keys: holders, Operator: "wanda"}, incident.ErrForbidden},
			{"admin", incident.Opening{BundleID: bundle, Keys: holders, Operator: "adam"}, incident.ErrForbidden},
			{"unknown operator", incident.Opening{BundleID: bundle, Keys: holders, Operator: "nobody"}, incident.ErrInvalidInput},
			{"other incident's bundle", incident.Opening{BundleID: "0123456789abcdef0123", IncidentID: inc.ID, Keys: holders, Operator: "susi"}, incident.ErrInvalidInput},
			{"typed key text", incident.Opening{BundleID: bundle, Keys: []string{"Max Mustermann"}, Operator: "susi"}, incident.ErrInvalidInput},
			{"no keys", incident.Opening{BundleID: bundle, Operator: "susi"}, incident.ErrInvalidInput},
			{"bad bundle", incident.Opening{BundleID: "../x", Keys: holders, Operator: "susi"}, incident.ErrInvalidInput},
			{"imported without time", incident.Opening{BundleID: bundle, Keys: holders, Operator: "susi", Imported: true}, incident.ErrInvalidInput},
		})
		entries, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{IncidentID: inc.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]string
		for _, e := range entries {
			if e.Action == string(incident.ActionEvidenceOpened) {
				got = append(got, e.Details)
				if e.Actor != w.sup1.ID && e.Actor != w.audit.ID {
					t.Errorf("opening recorded for actor %q", e.Actor)
				}
			}
		}
		if len(got) != 2 || got[0]["bundle"] != bundle || got[0]["imported"] != "false" || got[0]["keys"] != holders[0]+"; "+holders[1] ||
			got[1]["imported"] != "true" || got[1]["opened_at"] != "2026-11-20T09:30:00Z" {
			t.Fatalf("opening entries: %v", got)
		}
		w.verify()
	})
}

// TestImportOpeningOnce: an offline opening record is appended once. The
// same record again is refused with ErrAlreadyImported and appends
// nothing; another opening of the same bundle (another time, operator or
// set of keys) is a record of its own.
func TestImportOpeningOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, _ := approvedRelease(t, w)
		bundle := inc.Receipt.BundleID
		const loose = "0123456789abcdef0123" // a bundle sealed without an incident
		holders := []string{"holder 1 of 3 (2 needed), set AAAAAAAAAAA", "holder 3 of 3 (2 needed), set AAAAAAAAAAA"}
		at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
		rec := incident.Opening{BundleID: bundle, IncidentID: inc.ID, Keys: holders, Operator: "anna", OpenedAt: at, Imported: true}
		with := func(f func(o *incident.Opening)) incident.Opening {
			o := rec
			o.Keys = slices.Clone(rec.Keys)
			f(&o)
			return o
		}
		// The offline machine's clock may run ahead of the server's: the
		// entry is then older than the opening it records. (The clock
		// stands still in this test.)
		soon := w.clock.Now().Add(4 * time.Minute)
		recordOpenings(t, w, []openingCase{
			{"first import", rec, nil},
			{"same record again", rec, incident.ErrAlreadyImported},
			{"same record, given in another zone", with(func(o *incident.Opening) { o.OpenedAt = at.In(time.FixedZone("CET", 3600)) }), incident.ErrAlreadyImported},
			{"live opening of the bundle", with(func(o *incident.Opening) { o.OpenedAt, o.Imported = time.Time{}, false }), nil},
			{"another opening time", with(func(o *incident.Opening) { o.OpenedAt = at.Add(time.Hour) }), nil},
			{"another operator", with(func(o *incident.Opening) { o.Operator = "susi" }), nil},
			{"other keys", with(func(o *incident.Opening) { o.Keys = o.Keys[:1] }), nil},
			{"other keys again", with(func(o *incident.Opening) { o.Keys = o.Keys[:1] }), incident.ErrAlreadyImported},
			{"bundle without incident", incident.Opening{BundleID: loose, Keys: []string{"identity 1"}, Operator: "susi", OpenedAt: at, Imported: true}, nil},
			{"bundle without incident again", incident.Opening{BundleID: loose, Keys: []string{"identity 1"}, Operator: "susi", OpenedAt: at, Imported: true}, incident.ErrAlreadyImported},
			{"opened ahead of the clock", with(func(o *incident.Opening) { o.OpenedAt = soon }), nil},
			{"opened ahead of the clock again", with(func(o *incident.Opening) { o.OpenedAt = soon }), incident.ErrAlreadyImported},
			{"opened in the future", with(func(o *incident.Opening) { o.OpenedAt = w.clock.Now().Add(incident.OpeningClockSkew + time.Second) }), incident.ErrInvalidInput},
		})
		count := func(incidentID string) map[string]int {
			entries, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{IncidentID: incidentID})
			if err != nil {
				t.Fatal(err)
			}
			n := map[string]int{}
			for _, e := range entries {
				if e.Action == string(incident.ActionEvidenceOpened) && e.IncidentID == incidentID {
					n[e.Details["imported"]+" "+e.Details["opened_at"]+" "+e.Actor+" "+e.Details["keys"]]++
				}
			}
			return n
		}
		got := count(inc.ID)
		if len(got) != 6 {
			t.Errorf("openings of the incident's bundle: %v, want 6 different ones (one live, five imported)", got)
		}
		for k, n := range got {
			if n != 1 {
				t.Errorf("opening %q appended %d times", k, n)
			}
		}
		if got := count(""); len(got) != 1 {
			t.Errorf("openings of the bundle without incident: %v, want one", got)
		}
		w.verify()
	})
}

// TestImportOpeningConcurrently: the same record imported twice at once
// is appended once; the other import is refused.
func TestImportOpeningConcurrently(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		o := incident.Opening{BundleID: "0123456789abcdef0123", Keys: []string{"identity 1"}, Operator: "susi",
			OpenedAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC), Imported: true}
		const n = 4
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { errs <- w.svc.RecordOpening(w.ctx, o) })
		}
		wg.Wait()
		close(errs)
		var ok int
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, incident.ErrAlreadyImported):
				t.Errorf("concurrent import: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent imports succeeded, want 1", ok, n)
		}
		w.verify()
	})
}
