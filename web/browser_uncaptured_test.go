package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tresor-evidence/tresor/incident"
)

// TestBrowserUncapturedChoice: in a real Chromium, on a 390x844 phone and
// a desktop window, a worker opens three incidents starred on the phone
// whose content Tresor never had (view-once, outside the window, before
// linking), sees why, and makes each of the three choices; the supervisor
// sees the same on the approval page and approves the metadata, which is
// then sealed.
func TestBrowserUncapturedChoice(t *testing.T) {
	exe, shots := browserTest(t)
	for _, vp := range []viewport{{name: "phone390", width: 390, height: 844, mobile: true}, {name: "desktop", width: 1280, height: 900}} {
		t.Run(vp.name, func(t *testing.T) { browserUncaptured(t, exe, shots, vp) })
	}
}

func browserUncaptured(t *testing.T, exe, shots string, vp viewport) {
	ve := newVaultEnv(t)
	e := ve.env
	e.enroll("susi")
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	f := &flow{t: t, e: e, browser: newBrowser(t, exe), base: ts.URL, vp: vp, shots: shots}
	viewOnce := e.flagUncaptured("wanda", "3A0000000000000V01", incident.GapViewOnce)
	old := e.flagUncaptured("wanda", "3A0000000000000O01", incident.GapOutsideWindow)
	early := e.flagUncaptured("wanda", "3A0000000000000B01", incident.GapBeforeLinking)

	wanda := f.open("wanda")
	wanda.visit("/login")
	wanda.fill("#username", "wanda")
	wanda.fill("#password", "correct horse wanda")
	wanda.press(`main form button[type=submit]`)

	// View-once: the metadata is all there is; she keeps the preselected choice.
	wanda.visit("/incidents/" + viewOnce)
	wanda.see("Meldung", "Tresor hat von dieser Nachricht nur die Metadaten, nicht den Inhalt.", "zum einmaligen Ansehen", "Was soll gesichert werden?")
	wanda.shot("uncaptured-choice")
	wanda.do(chromedp.SetValue(chromedp.CSS("#category"), "violence"))
	wanda.press(`main form[action$="/choose"] button[type=submit]`)
	wanda.see("Meldung", "wartet auf Freigabe", "Entscheidung der Fachkraft", "Nur die Metadaten sichern")
	wanda.shot("uncaptured-metadata")

	// Outside the window: the young person's mother sent a screenshot by e-mail.
	wanda.visit("/incidents/" + old)
	wanda.see("Meldung", "älter als die Zeit, in der Tresor Nachrichten aufbewahrt")
	wanda.do(chromedp.SetValue(chromedp.CSS("#category"), "threat"))
	wanda.do(chromedp.Click(chromedp.CSS("#choice-upload"), chromedp.NodeVisible))
	file := filepath.Join(t.TempDir(), "screenshot.jpg")
	if err := os.WriteFile(file, jpegBytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	wanda.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}))
	wanda.press(`main form[action$="/choose"] button[type=submit]`)
	wanda.see("Meldung", "wartet auf Freigabe", "Inhalt von einem anderen Weg hochgeladen")
	if inc := e.incident(old); inc.Receipt == nil || inc.Choice != incident.ChoiceUpload {
		t.Fatalf("after the upload: %+v", inc)
	}

	// Before linking: nothing can be had any more.
	wanda.visit("/incidents/" + early)
	wanda.see("Meldung", "bevor WhatsApp mit Tresor verknüpft wurde")
	wanda.do(chromedp.SetValue(chromedp.CSS("#category"), "threat"))
	wanda.do(chromedp.Click(chromedp.CSS("#choice-not_securable"), chromedp.NodeVisible))
	// Sent without a reason, the page comes back saying what to do, with the choice kept.
	wanda.do(chromedp.Click(chromedp.CSS(`main form[action$="/choose"] button[type=submit]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#choice-error")))
	wanda.see("Meldung", "kurz, warum nichts gesichert werden kann")
	if checked := run(wanda, chromedp.Evaluate[bool](`document.querySelector("#choice-not_securable").checked`)); !checked {
		t.Fatal("the refused choice was not kept")
	}
	wanda.shot("uncaptured-error")
	wanda.fill("#reason", "Auf dem Handy schon gelöscht, kein Screenshot vorhanden")
	wanda.press(`main form[action$="/choose"] button[type=submit]`)
	wanda.see("Meldung", "wartet auf Freigabe", "Nicht sicherbar", "Auf dem Handy schon gelöscht, kein Screenshot vorhanden")

	// The supervisor sees the same and approves the metadata.
	susi := f.open("susi")
	susi.visit("/login")
	susi.fill("#username", "susi")
	susi.fill("#password", "correct horse susi")
	susi.press(`main form button[type=submit]`)
	susi.fill("#code", e.code("susi"))
	susi.press(`main form button[type=submit]`)
	susi.see("Freigaben", "Tresor hat von dieser Nachricht nur die Metadaten, nicht den Inhalt.", "zum einmaligen Ansehen",
		"Nur die Metadaten sichern", "Inhalt von einem anderen Weg hochgeladen", "Freigeben bestätigt", "Auf dem Handy schon gelöscht, kein Screenshot vorhanden")
	susi.shot("uncaptured-inbox")
	e.clock.Advance(30 * time.Second)
	req := e.pending(viewOnce)
	susi.do(chromedp.Click(chromedp.CSS("#approve-"+req.ID), chromedp.NodeVisible))
	susi.fill("#reason-"+req.ID, "Metadaten genügen für die Anzeige")
	susi.fill("#code-"+req.ID, e.code("susi"))
	susi.press(`main form[action="/requests/` + req.ID + `/decide"] button[type=submit]`)
	susi.see("Meldung", "Die Entscheidung ist gespeichert.")
	e.runJobs()
	inc := e.incident(viewOnce)
	if inc.State != incident.StateWalkthrough || inc.Receipt == nil || !inc.Receipt.MetadataOnly {
		t.Fatalf("after the jobs: state %s, receipt %+v", inc.State, inc.Receipt)
	}
	wanda.visit("/incidents/" + viewOnce)
	wanda.see("Meldung", "Löschschritte offen", "Sicherungsbeleg")
	if folded := run(wanda, chromedp.TextContent("details.tech")); !strings.Contains(folded, inc.Receipt.CiphertextSHA256) {
		t.Errorf("the folded check values lack the sealed bundle's hash: %q", folded)
	}
	wanda.shot("uncaptured-secured")
}
