package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// flagUncaptured opens an incident as the WhatsApp adapter does for a
// star on a message it holds no content of.
func (e *env) flagUncaptured(who, msgID string, gap incident.CaptureGap) string {
	e.t.Helper()
	inc, err := e.svc.Flag(e.ctx, e.users[who].Actor(), incident.FlagInput{Channel: incident.ChannelWhatsApp, NotCaptured: gap,
		Message: incident.MessageRef{ID: msgID, Chat: "4917012345678@s.whatsapp.net", Sender: "4917012345678@s.whatsapp.net"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return inc.ID
}

// choose posts the choice form as the page sends it: csrf first, the
// fields, the file part last (empty when no file was chosen).
func (c *client) choose(id string, fields [][2]string, fileName string, file []byte) *httptest.ResponseRecorder {
	parts := []part{field("csrf", c.csrf)}
	for _, f := range fields {
		parts = append(parts, field(f[0], f[1]))
	}
	parts = append(parts, part{name: "file", file: fileName, body: bytes.NewReader(file)})
	body, ctype := multipartStream(parts...)
	return c.raw(http.MethodPost, "/incidents/"+id+"/choose", ctype, body)
}

func choiceFields(category, choice, reason string) [][2]string {
	return [][2]string{{"category", category}, {"description", "Drohung im Chat"}, {"platform", "android"}, {"choice", choice}, {"reason", reason}}
}

// TestUncapturedIncidentPage: the worker sees at once that Tresor has
// only the metadata, and why, and the choice; a captured message shows
// the ordinary form.
func TestUncapturedIncidentPage(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	for gap, want := range map[incident.CaptureGap]string{
		incident.GapViewOnce:      "zum einmaligen Ansehen",
		incident.GapOutsideWindow: "älter als die Zeit, in der Tresor Nachrichten aufbewahrt",
		incident.GapBeforeLinking: "bevor WhatsApp mit Tresor verknüpft wurde",
		incident.GapLost:          "kann ihren Inhalt aber nicht mehr abrufen",
	} {
		id := e.flagUncaptured("wanda", "MSG"+strings.ReplaceAll(string(gap), "_", ""), gap)
		page := wanda.get("/incidents/" + id).Body.String()
		for _, s := range []string{"Tresor hat von dieser Nachricht nur die Metadaten, nicht den Inhalt.", want, `action="/incidents/` + id + `/choose"`,
			`enctype="multipart/form-data"`, "Nur die Metadaten sichern", "Als nicht sicherbar markieren", "Inhalt von einem anderen Weg hochladen"} {
			if !strings.Contains(page, s) {
				t.Fatalf("%s: page lacks %q", gap, s)
			}
		}
		if strings.Contains(page, `/submit"`) {
			t.Fatalf("%s: the ordinary submit form is offered too", gap)
		}
	}
	id, err := e.svc.Flag(e.ctx, e.users["wanda"].Actor(), incident.FlagInput{Channel: incident.ChannelWhatsApp, Message: incident.MessageRef{ID: "CAPTURED"}})
	if err != nil {
		t.Fatal(err)
	}
	page := wanda.get("/incidents/" + id.ID).Body.String()
	if strings.Contains(page, "nur die Metadaten, nicht") || strings.Contains(page, "/choose") || !strings.Contains(page, `/submit"`) {
		t.Fatal("a captured message's page offers the choice")
	}
}

// TestUncapturedChoices: each choice through the page's form, what the
// supervisor's approval page shows of it, and the refusals.
func TestUncapturedChoices(t *testing.T) {
	ve := newVaultEnv(t)
	e := ve.env
	wanda := e.as("wanda")
	e.enroll("susi")

	// Metadata.
	meta := e.flagUncaptured("wanda", "OLD1", incident.GapOutsideWindow)
	wantRedirect(t, wanda.choose(meta, choiceFields("violence", "metadata", ""), "", nil), "/incidents/"+meta)
	if inc := e.incident(meta); inc.State != incident.StateAwaitingApproval || inc.Choice != incident.ChoiceMetadata || inc.Securing != "metadata" {
		t.Fatalf("after choosing metadata: %+v", inc)
	}

	// Not securable: a reason is required, and what was refused stores nothing.
	nosec := e.flagUncaptured("wanda", "VO1", incident.GapViewOnce)
	w := wanda.choose(nosec, choiceFields("threat", "not_securable", ""), "", nil)
	wantStatus(t, w, http.StatusBadRequest)
	// The page comes back with what to do and what was typed.
	for _, s := range []string{"kurz, warum nichts gesichert werden kann", `<option value="threat" selected>`, "Drohung im Chat</textarea>",
		`value="not_securable" checked`, `<option value="android" selected>`} {
		if !strings.Contains(w.Body.String(), s) {
			t.Fatalf("refused choice: page lacks %q", s)
		}
	}
	if inc := e.incident(nosec); inc.State != incident.StateFlagged || inc.Choice != "" {
		t.Fatalf("after a refused choice: %+v", inc)
	}
	reason := "Einmal-Ansicht, auf dem Handy nicht mehr zu öffnen"
	wantRedirect(t, wanda.choose(nosec, choiceFields("threat", "not_securable", reason), "", nil), "/incidents/"+nosec)

	// Upload: refused unread where the category forbids content, sealed otherwise.
	up := e.flagUncaptured("wanda", "BEFORE1", incident.GapBeforeLinking)
	tw := &tripwire{t: t}
	parts := []part{field("csrf", wanda.csrf)}
	for _, f := range choiceFields("csam", "upload", "") {
		parts = append(parts, field(f[0], f[1]))
	}
	body, ctype := multipartStream(append(parts, part{name: "file", file: "x.png", body: tw})...)
	w = wanda.raw(http.MethodPost, "/incidents/"+up+"/choose", ctype, body)
	wantStatus(t, w, http.StatusUnprocessableEntity)
	tw.check()
	if !strings.Contains(w.Body.String(), "darf kein Inhalt kopiert werden") || !strings.Contains(w.Body.String(), "Datei bitte noch einmal") {
		t.Fatal("refused upload: the page does not say what to do")
	}
	w = wanda.choose(up, choiceFields("violence", "upload", ""), "", nil)
	wantStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), "die Sie auf dem anderen Weg bekommen haben.") {
		t.Fatal("upload without a file: the page does not say what to do")
	}
	if files := ve.vaultFiles(); len(files) != 0 {
		t.Fatalf("vault files after refused uploads: %v", files)
	}
	wantRedirect(t, wanda.choose(up, choiceFields("violence", "upload", ""), "screenshot.png", pngWith([]byte("from the mother's e-mail"))), "/incidents/"+up)
	if inc := e.incident(up); inc.State != incident.StateAwaitingApproval || inc.Choice != incident.ChoiceUpload || inc.Receipt == nil {
		t.Fatalf("after the upload: %+v", inc)
	}
	if files := ve.vaultFiles(); len(files) != 1 {
		t.Fatalf("vault files after the upload: %v", files)
	}

	// Another worker cannot choose for wanda's incident.
	otto := e.as("otto")
	wantStatus(t, otto.choose(meta, choiceFields("violence", "metadata", ""), "", nil), http.StatusNotFound)

	// The supervisor sees what Tresor has and what the worker chose.
	inbox := e.as("susi").get("/approvals").Body.String()
	for _, s := range []string{"Tresor hat von dieser Nachricht nur die Metadaten, nicht den Inhalt.", "älter als die Zeit", "zum einmaligen Ansehen",
		"bevor WhatsApp mit Tresor verknüpft wurde", "Entscheidung der Fachkraft", "Nur die Metadaten sichern",
		"Nicht sicherbar", "Begründung der Fachkraft", reason, "Freigeben bestätigt, dass nichts gesichert wird", "Inhalt von einem anderen Weg hochgeladen"} {
		if !strings.Contains(inbox, s) {
			t.Fatalf("approval page lacks %q", s)
		}
	}
}

// TestAPISubmitChoice: the JSON API takes the metadata and not-securable
// choices and shows the gap and the choice on the incident.
func TestAPISubmitChoice(t *testing.T) {
	e := newEnv(t)
	c := e.bearerClient(e.apiToken("wanda"))
	id := e.flagUncaptured("wanda", "OLDAPI", incident.GapOutsideWindow)
	w := c.api(http.MethodPost, "/api/v1/incidents/"+id+"/submit", `{"category":"violence","platform":"android"}`, nil)
	wantAPIError(t, w, http.StatusBadRequest, "invalid_input")
	var got apiIncident
	w = c.api(http.MethodPost, "/api/v1/incidents/"+id+"/submit", `{"category":"violence","platform":"android","choice":"metadata"}`, &got)
	wantStatus(t, w, http.StatusOK)
	if got.NotCaptured != "outside_window" || got.Choice != "metadata" || got.Securing != "metadata" || got.State != "awaiting_approval" {
		t.Fatalf("incident = %+v", got)
	}
	id = e.flagUncaptured("wanda", "VOAPI", incident.GapViewOnce)
	w = c.api(http.MethodPost, "/api/v1/incidents/"+id+"/submit", `{"category":"violence","platform":"android","choice":"upload"}`, nil)
	wantAPIError(t, w, http.StatusBadRequest, "invalid_input")
}
