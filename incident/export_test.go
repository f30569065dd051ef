package incident_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

func TestRecordExport(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("wamidexport", "violence")
		if err := w.svc.RecordExport(w.ctx, w.audit, incident.AuditFilter{IncidentID: inc.ID}, "csv", 3); err != nil {
			t.Fatal(err)
		}
		from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		if err := w.svc.RecordExport(w.ctx, w.audit, incident.AuditFilter{From: from}, "jsonl", 7); err != nil {
			t.Fatal(err)
		}
		entries, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]string
		for _, e := range entries {
			if e.Action == "audit.exported" {
				if e.Actor != w.audit.ID {
					t.Errorf("export recorded for actor %q", e.Actor)
				}
				got = append(got, e.Details)
			}
		}
		if len(got) != 2 || got[0]["format"] != "csv" || got[0]["entries"] != "3" || got[1]["from"] != from.Format(time.RFC3339Nano) || got[1]["to"] != "" {
			t.Fatalf("export entries: %v", got)
		}
		if acts := w.actions(inc.ID); acts[len(acts)-1] != "audit.exported" {
			t.Fatalf("incident trail does not end with the export: %v", acts)
		}
		for _, a := range []incident.Actor{w.worker, w.sup1, w.admin} {
			if err := w.svc.RecordExport(w.ctx, a, incident.AuditFilter{}, "csv", 1); !errors.Is(err, incident.ErrForbidden) {
				t.Errorf("%s recording an export: %v, want ErrForbidden", a.Role, err)
			}
		}
		if err := w.svc.RecordExport(w.ctx, w.audit, incident.AuditFilter{}, "xml", 1); !errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("format xml: %v, want ErrInvalidInput", err)
		}
		if err := w.svc.RecordExport(w.ctx, w.audit, incident.AuditFilter{IncidentID: "ffff"}, "csv", 0); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("unknown incident: %v, want ErrNotFound", err)
		}
		w.verify()
	})
}
