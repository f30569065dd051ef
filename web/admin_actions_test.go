package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

func TestAdminChangesRole(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	adam := e.as("adam")
	w := adam.get("/admin/users")
	if !strings.Contains(w.Body.String(), `action="/admin/users/otto/role"`) || strings.Contains(w.Body.String(), `action="/admin/users/adam/role"`) {
		t.Fatal("role forms missing, or offered for the admin's own account")
	}
	// Taking an approving role away is the admin's alone.
	susi := e.as("susi")
	wantRedirect(t, adam.post("/admin/users/susi/role", "role", "worker"), "/admin/users?done=role_changed")
	u, err := e.svc.User(e.ctx, incident.System, e.users["susi"].ID)
	if err != nil || u.Role != incident.RoleWorker {
		t.Fatalf("role after change: %v, %v", u.Role, err)
	}
	wantRedirect(t, susi.get("/incidents"), "/login")
	// Granting one waits for a second person; until then nothing changes.
	otto := e.as("otto")
	wantRedirect(t, adam.post("/admin/users/otto/role", "role", "auditor"), "/admin/users?done=account_approval_requested")
	if u, err := e.svc.User(e.ctx, incident.System, e.users["otto"].ID); err != nil || u.Role != incident.RoleWorker {
		t.Fatalf("role before approval: %v, %v", u.Role, err)
	}
	wantStatus(t, otto.get("/incidents"), http.StatusOK)
	wantStatus(t, adam.post("/admin/users/adam/role", "role", "worker"), http.StatusForbidden)
	wantStatus(t, adam.post("/admin/users/otto/role", "role", "king"), http.StatusBadRequest)
	wantStatus(t, adam.post("/admin/users/nobody/role", "role", "worker"), http.StatusNotFound)
}

// securedIncident takes an incident through approval into the vault.
func (e *env) securedIncident() string {
	e.t.Helper()
	id := e.flag(e.as("wanda"), "wamidhold", "violence")
	if _, err := e.svc.Decide(e.ctx, e.users["sven"].Actor(), e.pending(id).ID, true, "sichern", e.stepUpCode("sven")); err != nil {
		e.t.Fatal(err)
	}
	e.runJobs()
	return id
}

func TestSupervisorHoldAndDestroy(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	id := e.securedIncident()
	susi := e.as("susi")
	page := susi.get("/incidents/" + id).Body.String()
	if !strings.Contains(page, "/incidents/"+id+"/legal-hold") || !strings.Contains(page, "/incidents/"+id+"/destroy") {
		t.Fatal("supervisor page lacks the hold or destroy form")
	}
	if w := e.as("wanda").get("/incidents/" + id).Body.String(); strings.Contains(w, "/legal-hold") || strings.Contains(w, "/destroy\"") {
		t.Fatal("the worker is offered supervisor actions")
	}
	wantStatus(t, susi.post("/incidents/"+id+"/legal-hold", "hold", "true", "reason", ""), http.StatusBadRequest)
	wantStatus(t, susi.post("/incidents/"+id+"/legal-hold", "hold", "maybe", "reason", "x"), http.StatusBadRequest)
	wantRedirect(t, susi.post("/incidents/"+id+"/legal-hold", "hold", "true", "reason", "Ermittlungsverfahren"), "/incidents/"+id+"?done=hold_set")
	if !e.incident(id).LegalHold {
		t.Fatal("hold not set")
	}
	page = susi.get("/incidents/" + id + "?done=hold_set").Body.String()
	if !strings.Contains(page, "Löschsperre aufheben") || strings.Contains(page, "/incidents/"+id+"/destroy") {
		t.Fatal("held incident: no lift form, or a destroy form")
	}
	w := susi.post("/incidents/"+id+"/destroy", "reason", "erledigt")
	wantStatus(t, w, http.StatusConflict)
	if !strings.Contains(w.Body.String(), "Löschsperre") {
		t.Fatal("legal-hold refusal not explained")
	}
	wantRedirect(t, susi.post("/incidents/"+id+"/legal-hold", "hold", "false", "reason", "Verfahren eingestellt"), "/incidents/"+id+"?done=hold_lifted")
	wantStatus(t, susi.post("/incidents/"+id+"/destroy", "reason", ""), http.StatusBadRequest)
	wantRedirect(t, susi.post("/incidents/"+id+"/destroy", "reason", "Zweck erfüllt"), "/incidents/"+id+"?done=destroy_requested")
	r := e.pending(id)
	if r.Kind != incident.RequestDestroy || r.RequesterID != e.users["susi"].ID {
		t.Fatalf("destroy request: %+v", r)
	}
	acts := strings.Join(func() []string {
		es, _ := e.svc.Trail(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.AuditFilter{IncidentID: id})
		var out []string
		for _, en := range es {
			out = append(out, en.Action)
		}
		return out
	}(), " ")
	for _, want := range []string{"retention.hold_set", "retention.hold_lifted"} {
		if !strings.Contains(acts, want) {
			t.Errorf("trail lacks %s: %s", want, acts)
		}
	}
}

func TestAuditExportRecorded(t *testing.T) {
	e := newEnv(t)
	e.enroll("anna")
	id := e.flag(e.as("wanda"), "wamidx", "violence")
	anna := e.as("anna")
	wantStatus(t, anna.get("/audit/export?incident="+id+"&format=csv"), http.StatusOK)
	es, err := e.svc.Trail(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.AuditFilter{IncidentID: id})
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	if last.Action != "audit.exported" || last.Actor != e.users["anna"].ID || last.Details["format"] != "csv" || last.Details["entries"] == "" {
		t.Fatalf("last entry %+v", last)
	}
}

func TestStatusOfNewErrors(t *testing.T) {
	for err, want := range map[error]int{
		incident.ErrContentForbidden: http.StatusUnprocessableEntity, errUnsupportedMedia: http.StatusUnsupportedMediaType,
		incident.ErrLegalHold: http.StatusConflict, errWrongCode: http.StatusForbidden, &http.MaxBytesError{Limit: 1}: http.StatusRequestEntityTooLarge,
	} {
		if got := statusOf(err); got != want {
			t.Errorf("statusOf(%v) = %d, want %d", err, got, want)
		}
		if errorCode(err) == "internal" {
			t.Errorf("errorCode(%v) is internal", err)
		}
	}
}
