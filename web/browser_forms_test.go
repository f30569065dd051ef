package web

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tresor-evidence/tresor/incident"
)

// TestBrowserForms: in Chromium, on a phone and a desktop, a decision
// sent with a wrong code comes back with the decision and the reason as
// typed and the error beside the code field, and goes through with the
// next code; a second tap on "Erledigt" shows the step as done, with one
// audit entry; the worker opens an incident by tapping anywhere on its
// row in the list.
func TestBrowserForms(t *testing.T) {
	exe, shots := browserTest(t)
	axe := axeScript(t)
	for _, vp := range pageViewports {
		t.Run(vp.name, func(t *testing.T) {
			pe := newPagesEnv(t)
			b := newBrowser(t, exe)
			n := 0

			// The decision form keeps its input after a wrong code.
			susi := pe.tab(t, b, vp, shots, "susi", &n)
			req := pe.pending(pe.waiting)
			susi.visit("/incidents/" + pe.waiting)
			susi.do(chromedp.Click(chromedp.CSS("#reject-"+req.ID), chromedp.NodeVisible))
			susi.fill("#reason-"+req.ID, "Kein Beweiswert, bitte nur löschen")
			susi.fill("#code-"+req.ID, "000000")
			susi.submitExpect(`main form[action="/requests/`+req.ID+`/decide"] button[type=submit]`, http.StatusUnprocessableEntity)
			susi.shot("decide-wrong-code")
			if got := run(susi, chromedp.Location()); !strings.HasSuffix(got, "/requests/"+req.ID+"/decide") {
				t.Fatalf("after a wrong code: at %s", got)
			}
			susi.see("Meldung", "Der Code war falsch oder schon verwendet; noch ist nichts entschieden.")
			if !run(susi, chromedp.Evaluate[bool](`document.getElementById("reject-`+req.ID+`").checked`)) {
				t.Fatal("the decision is not kept")
			}
			if got := run(susi, chromedp.Value(chromedp.CSS("#reason-"+req.ID))); got != "Kein Beweiswert, bitte nur löschen" {
				t.Fatalf("reason after a wrong code: %q", got)
			}
			focused := run(susi, chromedp.Evaluate[string](`document.activeElement.id + "|" + document.activeElement.getAttribute("aria-invalid") + "|" + document.activeElement.getAttribute("aria-describedby")`))
			if focused != "code-"+req.ID+"|true|code-err-"+req.ID+" code-help-"+req.ID {
				t.Fatalf("the code field is not focused and described by its error: %s", focused)
			}
			if got := run(susi, chromedp.Value(chromedp.CSS("#code-"+req.ID))); got != "" {
				t.Fatalf("the wrong code is shown again: %q", got)
			}
			pe.clock.Advance(30 * time.Second)
			susi.fill("#code-"+req.ID, pe.code("susi"))
			susi.press(`main form[action="/requests/` + req.ID + `/decide"] button[type=submit]`)
			susi.see("Meldung", "Die Entscheidung ist gespeichert.", "Abgelehnt", "Kein Beweiswert, bitte nur löschen")

			// A second tap on "Erledigt" shows the step as done.
			wanda := pe.tab(t, b, vp, shots, "wanda", &n)
			wanda.visit("/incidents")
			wanda.press(`main table tr:has(a[href="/incidents/` + pe.walking + `"]) .state`) // the row, not its link
			wanda.see("Meldung", "Löschschritte offen")
			if got := run(wanda, chromedp.Location()); !strings.HasSuffix(got, "/incidents/"+pe.walking) {
				t.Fatalf("tapping the row opened %s", got)
			}
			key := run(wanda, chromedp.Evaluate[string](`new URL(document.querySelector("li.step-open .step-actions form.inline").action).pathname`))
			// The first tap's answer has not arrived yet when the second
			// comes: the page still offers the button.
			if !run(wanda, chromedp.Evaluate[bool](`fetch(document.querySelector("li.step-open .step-actions form.inline").action,
				{method: "POST", body: new FormData(document.querySelector("li.step-open .step-actions form.inline")), redirect: "manual"}).then(() => true)`, chromedp.EvalAwaitPromise)) {
				t.Fatal("first tap not sent")
			}
			wanda.press(`main form[action="` + key + `"] button[type=submit]`)
			wanda.see("Meldung", "Schritt als erledigt festgehalten.")
			wanda.shot("second-tap")
			stepKey := key[strings.LastIndex(strings.TrimSuffix(key, "/confirm"), "/")+1 : len(key)-len("/confirm")]
			if wanda.count(`main form[action="`+key+`"]`) != 0 {
				t.Fatal("the step is still offered after two taps")
			}
			d, err := pe.svc.IncidentDetail(pe.ctx, pe.users["anna"].Actor(), pe.walking)
			if err != nil {
				t.Fatal(err)
			}
			done := 0
			for _, en := range d.Trail {
				if en.Action == "step.done" && en.Details["step"] == stepKey {
					done++
				}
			}
			for _, st := range d.Steps {
				if st.Key == stepKey && st.State != incident.StepDone {
					t.Fatalf("step %s is %s", stepKey, st.State)
				}
			}
			if done != 1 {
				t.Fatalf("%d audit entries for step %s, want 1", done, stepKey)
			}

			// A form from before the session changed: "expired", with the
			// way back.
			if !run(wanda, chromedp.Evaluate[bool](`document.querySelectorAll("main form input[name=csrf]").forEach(i => i.value = "stale"); true`)) {
				t.Fatal("the forms' tokens were not replaced")
			}
			wanda.submitExpect(`main li.step-open .step-actions form.inline button[type=submit]`, http.StatusForbidden)
			wanda.see("Formular abgelaufen", "Das Formular ist abgelaufen, bitte laden Sie die Seite neu")
			wanda.checkWidth()
			wanda.checkAxe(axe)
			wanda.shot("form-expired")
			wanda.press(`main a.button[href="/incidents/` + pe.walking + `"]`)
			wanda.see("Meldung", "Löschschritte offen")

			// A file of a type the policy does not take: the page names the
			// kinds that are taken, in words.
			wanda.visit("/incidents/new/details")
			wanda.do(chromedp.Click(chromedp.CSS(`main a[href="#upload"]`), chromedp.NodeVisible))
			wanda.do(chromedp.Click(chromedp.CSS("#up-cat-violence"), chromedp.NodeVisible))
			wanda.do(chromedp.Click(chromedp.CSS("#up-pl-android"), chromedp.NodeVisible))
			file := filepath.Join(t.TempDir(), "notiz.jpg")
			if err := os.WriteFile(file, []byte("only text, whatever the name says"), 0o600); err != nil {
				t.Fatal(err)
			}
			wanda.do(chromedp.SetUploadFiles(chromedp.CSS("#up-file"), []string{file}))
			wanda.submitExpect(`main form[action="/incidents/upload"] button[type=submit]`, http.StatusUnsupportedMediaType)
			wanda.see("Dateityp nicht erlaubt", "Erlaubte Dateiarten: Foto (JPEG)", "Ihre Datei wurde erkannt als: Textdatei (TXT).")
			if m := mediaTypeOnPage.FindString(wanda.mainText()); m != "" {
				t.Errorf("the page shows the media type %q", m)
			}
			wanda.checkAxe(axe)
			wanda.shot("type-refused")
		})
	}
}

// submitExpect clicks a submit button and checks the status of the page
// it leads to.
func (p *page) submitExpect(sel string, status int64) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("%s (%s): %v", p.who, p.vp.name, err)
	}
	if resp.Status != status {
		p.t.Fatalf("%s (%s): %s answered %d, want %d; page:\n%s", p.who, p.vp.name, resp.URL, resp.Status, status, p.mainText())
	}
}
