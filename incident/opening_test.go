package incident_test

import (
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

func TestRecordOpening(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, _ := approvedRelease(t, w)
		bundle := inc.Receipt.BundleID
		holders := []string{"holder 1 of 3 (2 needed), set AAAAAAAAAAA", "holder 3 of 3 (2 needed), set AAAAAAAAAAA"}
		at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
		for _, tc := range []struct {
			name string
			o    incident.Opening
			err  error
		}{
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
		} {
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
