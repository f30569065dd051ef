package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// memBundles serves fixed ciphertext for any known bundle id.
type memBundles map[string][]byte

func (m memBundles) OpenBundle(ctx context.Context, id string) (io.ReadCloser, error) {
	b, ok := m[id]
	if !ok {
		return nil, fmt.Errorf("bundle %s: %w", id, incident.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func TestReleaseDownload(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	e.enroll("sven")
	wanda, susi, sven := e.as("wanda"), e.as("susi"), e.as("sven")
	id := e.flag(wanda, "wamiddl", "violence")
	wantRedirect(t, susi.post("/requests/"+e.pending(id).ID+"/decide", "decision", "approve", "reason", "sichern", "code", e.code("susi")), "/incidents/"+id)
	e.runJobs()
	inc := e.incident(id)
	ciphertext := []byte("age-encryption.org/v1 … ciphertext")
	e.srv.bundles = memBundles{inc.Receipt.BundleID: ciphertext}

	wantRedirect(t, wanda.post("/incidents/"+id+"/release", "purpose", "Strafanzeige", "recipient", "Polizei", "legal_basis", "§ 158 StPO", "reason", "Anzeige"), "/incidents/"+id)
	rel := e.pending(id)
	// Not approved yet: no link.
	wantStatus(t, susi.post("/requests/"+rel.ID+"/download-link"), http.StatusConflict)
	wantRedirect(t, sven.post("/requests/"+rel.ID+"/decide", "decision", "approve", "reason", "ok", "code", e.code("sven")), "/incidents/"+id)

	if page := susi.get("/incidents/" + id).Body.String(); !strings.Contains(page, "/requests/"+rel.ID+"/download-link") {
		t.Fatal("incident page lacks the download button")
	}
	wantStatus(t, wanda.post("/requests/"+rel.ID+"/download-link"), http.StatusForbidden)
	w := susi.post("/requests/" + rel.ID + "/download-link")
	wantStatus(t, w, http.StatusOK)
	m := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatal("no token in the download page")
	}
	token := m[1]
	wantStatus(t, susi.post("/requests/"+rel.ID+"/download", "token", "wrong"), http.StatusNotFound)
	w = susi.post("/requests/"+rel.ID+"/download", "token", token)
	wantStatus(t, w, http.StatusOK)
	if !bytes.Equal(w.Body.Bytes(), ciphertext) || !strings.Contains(w.Header().Get("Content-Disposition"), inc.Receipt.BundleID+".age") ||
		w.Header().Get("X-Tresor-Ciphertext-SHA256") != inc.Receipt.CiphertextSHA256 {
		t.Fatalf("download: %q %v", w.Body.String(), w.Header())
	}
	// Single use, and one link per release by default.
	wantStatus(t, susi.post("/requests/"+rel.ID+"/download", "token", token), http.StatusConflict)
	wantStatus(t, susi.post("/requests/"+rel.ID+"/download-link"), http.StatusConflict)
	wantStatus(t, sven.post("/requests/"+rel.ID+"/download-link"), http.StatusConflict)
	if page := susi.get("/incidents/" + id).Body.String(); strings.Contains(page, "/requests/"+rel.ID+"/download-link") {
		t.Fatal("the incident page still offers a download link after the only one was used")
	}
	trail, err := e.svc.Trail(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.AuditFilter{IncidentID: id})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range trail {
		if en.Action == "evidence.downloaded" && en.Details["ciphertext_sha256"] == inc.Receipt.CiphertextSHA256 {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d download entries in the trail, want 1", n)
	}
}

// TestSessionEndsWhenAccountChanges: a role change ends older sessions
// even when it is made without the web's own revocation (e.g. by the CLI).
func TestSessionEndsWhenAccountChanges(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	wantStatus(t, wanda.get("/incidents"), http.StatusOK)
	e.clock.Advance(time.Second)
	if _, err := e.svc.SetUserRole(e.ctx, incident.Actor{ID: e.users["adam"].ID, Role: incident.RoleAdmin}, "wanda", incident.RoleSupervisor); err != nil {
		t.Fatal(err)
	}
	w := wanda.get("/approvals")
	if w.Code == http.StatusOK {
		t.Fatal("a worker's session went on as a supervisor after the role change")
	}
}
