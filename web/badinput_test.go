package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// Each bad request gets its status and a clear page, and changes nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	wanda := e.as("wanda")
	id := e.flag(wanda, "wamid1", "violence")
	req := e.pending(id)
	unchanged := func(t *testing.T) {
		t.Helper()
		if r := e.pending(id); r.State != incident.RequestPending || len(r.Decisions) != 0 {
			t.Fatalf("request changed: %+v", r)
		}
	}
	page := func(t *testing.T, body string, want ...string) {
		t.Helper()
		for _, s := range append(want, "Es wurde nichts geändert.") {
			if !strings.Contains(body, s) {
				t.Fatalf("page lacks %q:\n%s", s, body)
			}
		}
	}

	t.Run("missing CSRF token", func(t *testing.T) {
		c := e.as("susi")
		c.csrf = ""
		w := c.post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "ok", "code", e.code("susi"))
		wantStatus(t, w, http.StatusForbidden)
		page(t, w.Body.String(), "Formular abgelaufen")
		unchanged(t)
	})
	t.Run("wrong CSRF token", func(t *testing.T) {
		c := e.as("susi")
		c.csrf = "x" + c.csrf
		wantStatus(t, c.post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "ok", "code", e.code("susi")), http.StatusForbidden)
		unchanged(t)
	})
	t.Run("cross-origin", func(t *testing.T) {
		for h, v := range map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"} {
			c := e.as("susi")
			c.header.Set(h, v)
			wantStatus(t, c.post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "ok", "code", e.code("susi")), http.StatusForbidden)
		}
		c := e.as("wanda")
		c.header.Set("Origin", "http://example.com") // httptest's own host
		wantStatus(t, c.get("/incidents"), http.StatusOK)
		unchanged(t)
	})
	t.Run("wrong step-up code", func(t *testing.T) {
		w := e.as("susi").post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "ok", "code", "000000")
		wantStatus(t, w, http.StatusUnprocessableEntity)
		if !strings.Contains(w.Body.String(), "noch ist nichts entschieden") {
			t.Fatalf("page does not say nothing was decided:\n%s", w.Body.String())
		}
		unchanged(t)
	})
	t.Run("reused step-up code", func(t *testing.T) {
		e.clock.Advance(30 * time.Second)
		code := e.code("susi")
		if _, err := e.srv.checkSecondFactor(e.ctx, e.users["susi"].ID, code, false); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, e.as("susi").post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "ok", "code", code), http.StatusUnprocessableEntity)
		unchanged(t)
	})
	t.Run("missing reason", func(t *testing.T) {
		e.clock.Advance(30 * time.Second)
		w := e.as("susi").post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "", "code", e.code("susi"))
		wantStatus(t, w, http.StatusBadRequest)
		page(t, w.Body.String(), "Begründung")
		unchanged(t)
	})
	t.Run("self-approval", func(t *testing.T) {
		e.clock.Advance(30 * time.Second)
		own := e.flag(e.as("susi"), "wamidown", "violence")
		r := e.pending(own)
		w := e.as("susi").post("/requests/"+r.ID+"/decide", "decision", "approve", "reason", "ok", "code", e.code("susi"))
		wantStatus(t, w, http.StatusForbidden)
		page(t, w.Body.String(), "Vier-Augen-Prinzip")
		if r2 := e.pending(own); len(r2.Decisions) != 0 {
			t.Fatalf("self-approval recorded: %+v", r2)
		}
	})
	t.Run("unknown ids", func(t *testing.T) {
		e.clock.Advance(30 * time.Second)
		wantStatus(t, wanda.get("/incidents/ffffffffffffffffffffffffffffffff"), http.StatusNotFound)
		wantStatus(t, wanda.get("/no/such/page"), http.StatusNotFound)
		w := e.as("susi").post("/requests/ffff/decide", "decision", "approve", "reason", "ok", "code", e.code("susi"))
		wantStatus(t, w, http.StatusNotFound)
		page(t, w.Body.String(), "Nicht gefunden")
		wantStatus(t, wanda.post("/incidents/ffff/steps/chat/confirm"), http.StatusNotFound)
		unchanged(t)
	})
	t.Run("another worker's incident", func(t *testing.T) {
		otto := e.as("otto")
		wantStatus(t, otto.get("/incidents/"+id), http.StatusNotFound)
		wantStatus(t, otto.post("/incidents/"+id+"/release", "purpose", "p", "recipient", "r", "legal_basis", "l", "reason", "x"), http.StatusNotFound)
		if strings.Contains(otto.get("/incidents").Body.String(), id) {
			t.Fatal("another worker's incident is listed")
		}
		unchanged(t)
	})
	t.Run("bad flag form", func(t *testing.T) {
		for _, kv := range [][]string{
			{"category", "violence", "platform", "nokia", "message_id", "m"},
			{"category", "nope", "platform", "android", "message_id", "m"},
			{"category", "violence", "platform", "android", "message_id", ""},
			{"category", "violence", "platform", "android", "message_id", "m", "file_sha256", "xyz"},
			{"category", "violence", "platform", "android", "message_id", "m", "media_type", "application/x-msdownload"},
		} {
			wantStatus(t, wanda.post("/incidents", kv...), http.StatusBadRequest)
		}
		if incs, err := e.svc.Incidents(e.ctx, wanda.e.users["wanda"].Actor(), incident.IncidentFilter{}); err != nil || len(incs) != 1 {
			t.Fatalf("incidents after bad forms: %d, %v", len(incs), err)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		w := wanda.post("/incidents", "description", strings.Repeat("x", maxFormBytes+1))
		if w.Code != http.StatusRequestEntityTooLarge && w.Code != http.StatusForbidden {
			t.Fatalf("status %d, want 413 (or 403 when the token could not be read)", w.Code)
		}
	})
	t.Run("expired request", func(t *testing.T) {
		e.clock.Advance(25 * time.Hour)
		w := e.as("susi").post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "ok", "code", e.code("susi"))
		wantStatus(t, w, http.StatusConflict)
		page(t, w.Body.String(), "abgelaufen")
		unchanged(t)
	})
}
