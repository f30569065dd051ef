package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// mediaTypeOnPage finds a media type such as image/jpeg in a page's text.
var mediaTypeOnPage = regexp.MustCompile(`\b(image|video|audio|application|text)/[a-z0-9.+-]+`)

// TestDecideWrongCodeKeepsInput: a wrong step-up code shows the form
// again, on the page it was sent from, with the decision and the reason
// as typed and the error beside the code field; nothing is decided. The
// API names the field.
func TestDecideWrongCodeKeepsInput(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	wanda, susi := e.as("wanda"), e.as("susi")
	id := e.flag(wanda, "MSGCODE", "violence")
	req := e.pending(id)
	reason := "Beweis sichern & <Anzeige> prüfen"
	for name, c := range map[string]struct{ page, heading string }{
		"from the inbox":         {"/approvals", "Freigaben"},
		"from the incident page": {"/incidents/" + id, "Meldung"},
		"from no page":           {"", "Freigaben"},
	} {
		t.Run(name, func(t *testing.T) {
			w := susi.post("/requests/"+req.ID+"/decide", "decision", "reject", "reason", reason, "code", "000000", "page", c.page)
			wantStatus(t, w, http.StatusUnprocessableEntity)
			body := w.Body.String()
			for _, want := range []string{
				"<h1>" + c.heading,
				`id="reject-` + req.ID + `" name="decision" value="reject" checked`,
				`>Beweis sichern &amp; &lt;Anzeige&gt; prüfen</textarea>`,
				`id="code-err-` + req.ID + `" class="field-error">Der Code war falsch`,
				`aria-describedby="code-err-` + req.ID + ` code-help-` + req.ID + `" aria-invalid="true" autofocus`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
			if strings.Contains(body, `value="approve" required checked`) {
				t.Error("the other decision is checked")
			}
			if strings.Contains(body, `name="next" value="/requests/`) {
				t.Error("the page's own links point at the form's action")
			}
		})
	}
	if got := e.pending(id); len(got.Decisions) != 0 {
		t.Fatalf("a wrong code decided: %+v", got.Decisions)
	}

	w := e.bearerClient(e.apiToken("susi")).api(http.MethodPost, "/api/v1/requests/"+req.ID+"/decide", `{"decision":"approve","reason":"sichern","code":"000000"}`, nil)
	var got apiError
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusForbidden || got.Error.Code != "step_up_failed" || got.Error.Field != "code" {
		t.Fatalf("API: status %d body %s, want 403 step_up_failed on field code", w.Code, w.Body.String())
	}
}

// TestRefusedUploadSaysWhatFits: a refused type lists the allowed kinds of
// file in words, never as media types; a file too large names the limit.
func TestRefusedUploadSaysWhatFits(t *testing.T) {
	ve := newVaultEnv(t)
	wanda := ve.as("wanda")
	w := wanda.upload("threat", "bild.png", strings.NewReader("just text, whatever its name says"))
	wantStatus(t, w, http.StatusUnsupportedMediaType)
	body := mainOf(w.Body.String())
	for _, want := range []string{"Erlaubte Dateiarten: Foto (JPEG), Bild (PNG)", "iPhone-Foto (HEIC)", "WhatsApp-Sprachnachricht (OGG)", "oder PDF-Dokument.",
		"Ihre Datei wurde erkannt als: Textdatei (TXT).", `href="/incidents/new/details"`} {
		if !strings.Contains(body, want) {
			t.Errorf("415 page lacks %q:\n%s", want, body)
		}
	}
	if m := mediaTypeOnPage.FindString(body); m != "" {
		t.Errorf("415 page shows the media type %q", m)
	}
	for name, extra := range map[string]int64{"file over the limit": testUploadMax, "body far over the limit": 3 * testUploadMax} {
		big := io.MultiReader(bytes.NewReader(pngWith(nil)), io.LimitReader(zeros{}, extra))
		w := wanda.upload("threat", "big.png", big)
		wantStatus(t, w, http.StatusRequestEntityTooLarge)
		if body := mainOf(w.Body.String()); !strings.Contains(body, "Die Grenze liegt bei 1 MB") {
			t.Errorf("%s: 413 page does not name the limit:\n%s", name, body)
		}
	}
	ve.noIncidents()
}

// TestFormExpiredIsNotForbidden: a form whose token no longer matches the
// session says the form expired and links back to its page; a refusal by
// role says "not allowed".
func TestFormExpiredIsNotForbidden(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	id := e.flag(wanda, "MSGEXP", "violence")
	stale := wanda.csrf
	for target, back := range map[string]string{
		"/incidents/" + id + "/submit":             "/incidents/" + id,
		"/incidents/" + id + "/steps/chat/confirm": "/incidents/" + id,
		"/incidents":               "/incidents/new/details",
		"/account/tokens/x/revoke": "/account/tokens",
		"/logout":                  "/",
	} {
		wanda.csrf = "a-token-of-an-ended-session-000000000000"
		w := wanda.post(target)
		wantStatus(t, w, http.StatusForbidden)
		body := mainOf(w.Body.String())
		for _, want := range []string{"<h1>Formular abgelaufen</h1>", "Das Formular ist abgelaufen, bitte laden Sie die Seite neu",
			`<a class="button" href="` + back + `">Zurück zum Formular</a>`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: page lacks %q:\n%s", target, want, body)
			}
		}
		if !strings.Contains(w.Body.String(), `name="next" value="`+back+`"`) {
			t.Errorf("%s: the language form does not return to %s", target, back)
		}
	}
	wanda.csrf = stale
	w := wanda.post("/admin/users", "username", "x")
	wantStatus(t, w, http.StatusForbidden)
	if body := mainOf(w.Body.String()); !strings.Contains(body, "<h1>Nicht erlaubt</h1>") || strings.Contains(body, "abgelaufen") {
		t.Errorf("a refusal by role:\n%s", body)
	}
}

// mainOf is the main part of a page.
func mainOf(page string) string {
	if _, after, ok := strings.Cut(page, `<main id="main">`); ok {
		page, _, _ = strings.Cut(after, "</main>")
	}
	return page
}

// TestConfirmStepTwiceAPI: the API answers a repeated confirmation like
// the first, with the step as recorded.
func TestConfirmStepTwiceAPI(t *testing.T) {
	e := newEnv(t)
	id := e.flag(e.as("wanda"), "MSGAPITWICE", "violence")
	if _, err := e.svc.Decide(e.ctx, e.users["sven"].Actor(), e.pending(id).ID, true, "sichern", e.stepUpCode("sven")); err != nil {
		t.Fatal(err)
	}
	e.runJobs()
	steps, err := e.svc.Steps(e.ctx, incident.System, id)
	if err != nil {
		t.Fatal(err)
	}
	wanda := e.bearerClient(e.apiToken("wanda"))
	var first, again apiStep
	wantStatus(t, wanda.api(http.MethodPost, "/api/v1/incidents/"+id+"/steps/"+steps[0].Key+"/confirm", "", &first), http.StatusOK)
	wantStatus(t, wanda.api(http.MethodPost, "/api/v1/incidents/"+id+"/steps/"+steps[0].Key+"/confirm", "", &again), http.StatusOK)
	if first.State != "done" || first.DoneAt == nil || again.DoneAt == nil || !again.DoneAt.Equal(*first.DoneAt) || again.State != first.State {
		t.Fatalf("first %+v, again %+v", first, again)
	}
}
