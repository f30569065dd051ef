package incident_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// The printable report names the people of the trail and is itself
// recorded as an export; only auditors may have it. The incident page's
// detail names them too, for supervisors and auditors.
func TestIncidentReport(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("mreport", "violence")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "Beweis nötig", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		for _, a := range []incident.Actor{w.worker, w.sup1, w.admin} {
			if _, err := w.svc.IncidentReport(w.ctx, a, inc.ID); !errors.Is(err, incident.ErrForbidden) {
				t.Errorf("report for %s: error %v, want ErrForbidden", a.Role, err)
			}
		}
		before := w.actions(inc.ID)
		d, err := w.svc.IncidentReport(w.ctx, w.audit, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Trail) != len(before) || len(d.Steps) == 0 || len(d.Requests) != 1 {
			t.Fatalf("report has %d entries (trail %d), %d steps, %d requests", len(d.Trail), len(before), len(d.Steps), len(d.Requests))
		}
		want := map[string]incident.Person{
			w.worker.ID: {ID: w.worker.ID, Name: "wanda", Role: incident.RoleWorker},
			w.sup1.ID:   {ID: w.sup1.ID, Name: "susi", Role: incident.RoleSupervisor},
		}
		if len(d.People) != len(want) {
			t.Errorf("people %v, want %v (the system actor is nobody)", d.People, want)
		}
		for id, p := range want {
			if d.People[id] != p {
				t.Errorf("person %s = %+v, want %+v", id, d.People[id], p)
			}
		}
		after := w.actions(inc.ID)
		if len(after) != len(before)+1 || after[len(after)-1] != string(incident.ActionAuditExported) {
			t.Fatalf("actions after the report %v, want one more, %s", after, incident.ActionAuditExported)
		}
		es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{IncidentID: inc.ID})
		if err != nil {
			t.Fatal(err)
		}
		if last := es[len(es)-1]; last.Actor != w.audit.ID || last.Details["format"] != "report" {
			t.Errorf("export entry %+v, want the auditor's, format report", last)
		}
		if _, err := w.svc.IncidentReport(w.ctx, w.audit, "nosuch"); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("report of an unknown incident: %v, want ErrNotFound", err)
		}
		sd, err := w.svc.IncidentDetail(w.ctx, w.sup2, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sd.People[w.sup1.ID].Name != "susi" || !slices.Equal(w.actions(inc.ID), after) {
			t.Errorf("supervisor's detail: people %v; reading it must record nothing", sd.People)
		}
	})
}
