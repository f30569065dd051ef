package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// TestWorkerSupervisorFlow walks one incident from the flag form through
// approval with step-up to the closed walkthrough.
func TestWorkerSupervisorFlow(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	wanda, susi := e.as("wanda"), e.as("susi")

	w := wanda.get("/incidents/new")
	wantStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), "116 111") || !strings.Contains(w.Body.String(), `href="tel:110"`) {
		t.Fatal("safety screen lacks the policy's emergency contacts")
	}
	wantStatus(t, wanda.get("/incidents/new/details"), http.StatusOK)
	id := e.flag(wanda, "wamid1", "violence")
	w = wanda.get("/incidents/" + id + "?done=flagged")
	wantStatus(t, w, http.StatusOK)
	body := w.Body.String()
	for _, want := range []string{"Die Meldung ist eingegangen.", "wartet auf Freigabe", strings.Repeat("ab", 32)} {
		if !strings.Contains(body, want) {
			t.Fatalf("incident page lacks %q", want)
		}
	}
	list := wanda.get("/incidents")
	if !strings.Contains(list.Body.String(), id) || !strings.Contains(list.Body.String(), "Meine Meldungen") {
		t.Fatal("Meine Meldungen lacks the incident")
	}

	req := e.pending(id)
	w = susi.get("/approvals")
	if !strings.Contains(w.Body.String(), "/requests/"+req.ID+"/decide") {
		t.Fatal("inbox lacks the decide form")
	}
	w = susi.post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "Beweis sichern", "code", e.code("susi"))
	wantRedirect(t, w, "/incidents/"+id)
	if inc := e.incident(id); inc.State != incident.StateSecuring {
		t.Fatalf("state after approval = %s", inc.State)
	}
	e.runJobs()
	inc := e.incident(id)
	if inc.State != incident.StateWalkthrough || inc.Receipt == nil {
		t.Fatalf("after jobs: %s %+v", inc.State, inc.Receipt)
	}
	w = wanda.get("/incidents/" + id)
	if !strings.Contains(w.Body.String(), inc.Receipt.CiphertextSHA256) {
		t.Fatal("receipt hash not shown")
	}
	steps, err := e.svc.Steps(e.ctx, incident.System, id)
	if err != nil {
		t.Fatal(err)
	}
	// A reason is required to mark a step impossible; nothing changes without.
	wantStatus(t, wanda.post("/incidents/"+id+"/steps/"+steps[0].Key+"/impossible", "reason", " "), http.StatusBadRequest)
	wantRedirect(t, wanda.post("/incidents/"+id+"/steps/"+steps[0].Key+"/impossible", "reason", "Backup ist aus"), "/incidents/"+id)
	for _, s := range steps[1:] {
		wantRedirect(t, wanda.post("/incidents/"+id+"/steps/"+s.Key+"/confirm"), "/incidents/"+id)
	}
	if inc := e.incident(id); inc.State != incident.StateClosed {
		t.Fatalf("state after all steps = %s", inc.State)
	}
	// Confirming a done step again (a second tap) shows it as done; marking
	// the impossible one done is still refused.
	wantRedirect(t, wanda.post("/incidents/"+id+"/steps/"+steps[1].Key+"/confirm"), "/incidents/"+id)
	wantStatus(t, wanda.post("/incidents/"+id+"/steps/"+steps[0].Key+"/confirm"), http.StatusConflict)

	// Release: worker asks, the other supervisor approves, susi records the handover.
	wantRedirect(t, wanda.post("/incidents/"+id+"/release", "purpose", "Strafanzeige", "recipient", "Polizei", "legal_basis", "§ 158 StPO", "reason", "Anzeige"), "/incidents/"+id)
	rel := e.pending(id)
	e.enroll("sven")
	wantRedirect(t, e.as("sven").post("/requests/"+rel.ID+"/decide", "decision", "approve", "reason", "ok", "code", e.code("sven")), "/incidents/"+id)
	w = susi.get("/approvals")
	if !strings.Contains(w.Body.String(), "/requests/"+rel.ID+"/handover") {
		t.Fatal("inbox lacks the handover form")
	}
	wantRedirect(t, susi.post("/requests/"+rel.ID+"/handover", "note", "übergeben"), "/incidents/"+id)
}

// TestOverdueSteps: open steps past their deadline show in the inbox.
func TestOverdueSteps(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	id := e.flag(e.as("wanda"), "wamid2", "violence")
	wantRedirect(t, e.as("susi").post("/requests/"+e.pending(id).ID+"/decide", "decision", "reject", "reason", "nicht nötig", "code", e.code("susi")), "/incidents/")
	e.runJobs()
	if inc := e.incident(id); inc.State != incident.StateWalkthrough {
		t.Fatalf("state = %s", inc.State)
	}
	e.clock.Advance(49 * time.Hour)
	w := e.as("susi").get("/approvals")
	if !strings.Contains(w.Body.String(), `<a href="/incidents/`+id) || !strings.Contains(w.Body.String(), "Überfällige") {
		t.Fatal("overdue step not in the inbox")
	}
	w = e.as("wanda").get("/incidents/" + id)
	if !strings.Contains(w.Body.String(), "überfällig") {
		t.Fatal("overdue step not marked on the incident page")
	}
}
