package web

import (
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tresor-evidence/tresor/incident/audit"
)

// TestBrowserAuditCheckpoints shows the auditor page's checkpoint block at
// phone and desktop size: before any checkpoint, with one not yet
// cosigned, and with a cosigned one.
func TestBrowserAuditCheckpoints(t *testing.T) {
	exe, shots := browserTest(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			e := newEnv(t)
			server, dpo := newNoteKeys(t, "tresor-audit"), newNoteKeys(t, "dpo")
			e.withWitness(dpo.v)
			e.enroll("anna")
			ts := httptest.NewServer(e.h)
			t.Cleanup(ts.Close)
			f := &flow{t: t, e: e, browser: newBrowser(t, exe), base: ts.URL, vp: vp, shots: shots}
			anna := f.open("anna")
			anna.visit("/login")
			anna.fill("#username", "anna")
			anna.fill("#password", "correct horse anna")
			anna.press(`main form button[type=submit]`)
			anna.see("Zweiter Faktor", "Code aus der App")
			anna.fill("#code", e.code("anna"))
			anna.press(`main form button[type=submit]`)
			anna.visit("/audit")
			anna.see("Prüfung", "Gegengezeichnete Prüfpunkte", "Es gibt noch keinen signierten Prüfpunkt.")
			anna.checkLayout()

			cp, err := e.svc.SignCheckpoint(e.ctx, server.s, server.v, true)
			if err != nil {
				t.Fatal(err)
			}
			anna.visit("/audit")
			anna.see("Prüfung", "Letzter signierter Prüfpunkt: Stand mit", "Noch kein Prüfpunkt ist gegengezeichnet.")
			anna.checkLayout()
			anna.shot("checkpoint-not-cosigned")

			cosigned, _, err := audit.Cosign([]byte(cp.Note), server.v, dpo.s, tlog.Tree{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.AddCosignature(e.ctx, e.users["anna"].Actor(), cosigned); err != nil {
				t.Fatal(err)
			}
			anna.visit("/audit")
			anna.see("Prüfung", "Zuletzt von Ihrem Zeugenschlüssel gegengezeichnet: Stand mit")
			anna.do(chromedp.Click(chromedp.CSS(`main details summary`), chromedp.NodeVisible))
			anna.checkLayout()
			anna.shot("checkpoint-cosigned")
		})
	}
}
