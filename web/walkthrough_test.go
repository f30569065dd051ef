package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// tabletPolicy adds a platform in YAML alone.
const tabletPolicy = `walkthrough:
  tablet:
    name: {de: Tablet der Einrichtung, en: The centre's tablet}
    steps:
      - id: chat
        title: {de: Auf dem Tablet löschen, en: Delete on the tablet}
        body: {de: Nachricht auf dem Tablet gedrückt halten und löschen., en: Press and hold the message on the tablet and delete it.}
      - id: ask_recipient
        title: {de: Jugendliche*n fragen, en: Ask the young person}
        body: {de: Um Löschen bitten., en: Ask them to delete it.}
        with_young_person: true
        together: {de: Gemeinsam am Tablet löschen., en: Delete it together on the tablet.}
`

// A platform a provider adds in the policy shows up in the form, passes
// the API's validation and gets its walkthrough, with no code changed.
func TestPolicyPlatformWithoutCode(t *testing.T) {
	pol, err := policies.Parse("tablet.yaml", []byte(tabletPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvPolicy(t, false, pol)
	wanda := e.as("wanda")
	wantBody(t, wanda.get("/incidents/new/details"), `id="pl-tablet" name="platform" value="tablet"`, "Tablet der Einrichtung",
		`id="up-pl-tablet"`, "Android-Telefon")

	api := e.bearerClient(e.apiToken("wanda"))
	w := api.api(http.MethodPost, "/api/v1/incidents", `{"category":"violence","platform":"fairphone","message_id":"wamidfp"}`, nil)
	wantAPIError(t, w, http.StatusBadRequest, "invalid_input")
	var inc apiIncident
	wantStatus(t, api.api(http.MethodPost, "/api/v1/incidents", `{"category":"violence","platform":"tablet","message_id":"wamidapitab"}`, &inc), http.StatusCreated)
	if inc.Platform != "tablet" {
		t.Fatalf("API incident platform %q", inc.Platform)
	}

	id := e.flagOn(wanda, "wamidtab", "violence", "tablet")
	if _, err := e.svc.Decide(e.ctx, e.users["susi"].Actor(), e.pending(id).ID, true, "sichern", e.stepUpCode("susi")); err != nil {
		t.Fatal(err)
	}
	e.runJobs()
	page := wanda.get("/incidents/" + id)
	wantBody(t, page, "Tablet der Einrichtung", "Auf dem Tablet löschen", "Nachricht auf dem Tablet gedrückt halten und löschen.",
		"Gemeinsam mit der*dem Jugendlichen löschen", "Gemeinsam am Tablet löschen.")
	// The practical help offers every platform's together-wording.
	wantBody(t, page, "iPhone", "Android-Telefon")
	wanda.cookies[e.srv.cookieName("tresor-lang")] = "en"
	wantBody(t, wanda.get("/incidents/"+id), "The centre&#39;s tablet", "Press and hold the message on the tablet and delete it.")
}

// flagOn is flag on a given platform, by the message's id.
func (e *env) flagOn(c *client, msgID, category, platform string) string {
	e.t.Helper()
	loc := wantRedirect(e.t, c.post("/incidents", "category", category, "platform", platform, "message_id", msgID), "/incidents/")
	id, _, _ := strings.Cut(strings.TrimPrefix(loc, "/incidents/"), "?")
	return id
}

// Every step shows its instructions for the worker's platform; the first
// open one unfolded. Suspected CSAM leads with what not to do.
func TestIncidentPageTeaches(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	wanda := e.as("wanda")
	for _, pl := range e.srv.policy.Platforms() {
		id := e.flagOn(wanda, "wamid"+string(pl.ID), "csam", string(pl.ID))
		if _, err := e.svc.Decide(e.ctx, e.users["susi"].Actor(), e.pending(id).ID, true, "melden", e.stepUpCode("susi")); err != nil {
			t.Fatal(err)
		}
		e.runJobs()
		page := wanda.get("/incidents/" + id)
		body := page.Body.String()
		for _, st := range pl.Steps {
			wantBody(t, page, htmlText(st.Title.DE), htmlText(st.Body.DE))
		}
		wantBody(t, page, "Die wichtigste Regel:", "Für alle löschen", "Das tun Sie nicht", "Keinen Screenshot",
			"Nicht weiterleiten", "bevor Sie die Polizei gefragt haben")
		if n := strings.Count(body, `<details class="howto" open>`); n != 1 {
			t.Errorf("%s: %d unfolded instructions, want the current step's only", pl.ID, n)
		}
		if strings.Index(body, `id="csam-rules"`) > strings.Index(body, `id="steps"`) {
			t.Errorf("%s: the CSAM rules come after the steps", pl.ID)
		}
		if inc := e.incident(id); inc.Revocation == nil || inc.Revocation.Outcome != incident.RevokeLeftToWorker {
			t.Fatalf("%s: revocation %+v", pl.ID, inc.Revocation)
		}
		wantBody(t, page, "Tresor löscht hier nicht selbst")
	}
	// Other categories do not show the CSAM rules.
	id := e.flagOn(wanda, "wamidthreat", "threat", "android")
	wantNotBody(t, wanda.get("/incidents/"+id), `id="csam-rules"`)
}

// htmlText is s as html/template writes it in text.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Without a linked device the worker describes the message as WhatsApp
// shows it; the description is kept on the incident and never enters
// the audit log.
func TestDescribedMessage(t *testing.T) {
	e := newEnv(t)
	e.enroll("anna")
	wanda := e.as("wanda")
	loc := wantRedirect(t, wanda.post("/incidents", "category", "csam", "platform", "android",
		"chat_name", "Lena K. 0151 23456789", "received_at", "2026-11-27T08:45", "kind", "photo"), "/incidents/")
	id, _, _ := strings.Cut(strings.TrimPrefix(loc, "/incidents/"), "?")
	inc := e.incident(id)
	seen := inc.Message.Seen
	// 08:45 in Berlin is 07:45 UTC in November.
	if seen.Chat != "Lena K. 0151 23456789" || seen.Kind != incident.KindPhoto || seen.ReceivedAt.UTC().Format("15:04") != "07:45" ||
		!strings.HasPrefix(inc.Message.ID, "described-") {
		t.Fatalf("message %+v", inc.Message)
	}
	page := wanda.get("/incidents/" + id)
	wantBody(t, page, "Lena K. 0151 23456789", "Foto", "27.11.2026 08:45 CET")
	wantNotBody(t, page, inc.Message.ID)
	entries, err := e.svc.Trail(e.ctx, e.users["anna"].Actor(), incident.AuditFilter{IncidentID: id})
	if err != nil || len(entries) == 0 {
		t.Fatalf("trail %v, %v", entries, err)
	}
	for _, en := range entries {
		for k, v := range en.Details {
			if strings.Contains(v, "Lena") || strings.Contains(v, "0151") {
				t.Errorf("audit entry %s detail %s = %q carries the description", en.Action, k, v)
			}
		}
	}
	// Incomplete or wrong descriptions are refused with what to do.
	for _, kv := range [][]string{
		{"chat_name", "Lena", "kind", "photo"},
		{"chat_name", "", "received_at", "2026-11-27T08:45"},
		{"chat_name", "Lena", "received_at", "gestern"},
		{"chat_name", "Lena", "received_at", "2026-11-28T08:45"},
		{"chat_name", "Lena", "received_at", "2026-11-27T08:45", "kind", "hologram"},
	} {
		args := append([]string{"category", "violence", "platform", "android"}, kv...)
		wantStatus(t, wanda.post("/incidents", args...), http.StatusBadRequest)
	}
}
