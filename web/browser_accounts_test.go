package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/tresor-evidence/tresor/incident"
)

// In Chromium at phone and desktop size: a worker changes their password
// (a wrong current one keeps the page and says so); an admin resets a
// supervisor's password, sees the one-time password once and that it
// waits for approval; another supervisor sees the request on the
// account approvals page and approves it with a reason and a code.
func TestBrowserAccounts(t *testing.T) {
	exe := requireChromium(t)
	axe := axeScript(t)
	shots := screenshotDir(t)
	for _, vp := range pageViewports {
		t.Run(vp.name, func(t *testing.T) {
			e := newEnv(t)
			e.enroll("adam")
			e.enroll("sven")
			ts := httptest.NewServer(e.h)
			t.Cleanup(ts.Close)
			pe := &pagesEnv{env: e, base: ts.URL}
			b := newBrowser(t, exe)
			n := 0

			wanda := pe.tab(t, b, vp, shots, "wanda", &n)
			wanda.visit("/incidents")
			wanda.press(`a[href="/account/password"]`)
			wanda.see("Passwort ändern", "Aktuelles Passwort")
			wanda.checkWidth()
			wanda.checkAxe(axe)
			wanda.shot("password-form")
			wanda.fill("#current", "falsch")
			wanda.fill("#new", "ein neues langes Passwort")
			wanda.fill("#confirm", "ein neues langes Passwort")
			wanda.submitExpect(`main form[action="/account/password"] button[type=submit]`, http.StatusUnprocessableEntity)
			wanda.see("Passwort ändern", "Das aktuelle Passwort stimmt nicht")
			wanda.shot("password-wrong")
			wanda.fill("#current", "correct horse wanda")
			wanda.fill("#new", "ein neues langes Passwort")
			wanda.fill("#confirm", "ein neues langes Passwort")
			wanda.press(`main form[action="/account/password"] button[type=submit]`)
			wanda.see("Passwort ändern", "Ihr Passwort ist geändert")
			wanda.shot("password-changed")

			adam := pe.tab(t, b, vp, shots, "adam", &n)
			adam.visit("/admin/users")
			adam.press(`main form[action="/admin/users/susi/password/reset"] button[type=submit]`)
			adam.see("Einmalpasswort", "Einmalpasswort für susi", "erst, wenn eine zweite Person")
			adam.checkWidth()
			adam.checkAxe(axe)
			adam.shot("reset-pending")

			sven := pe.tab(t, b, vp, shots, "sven", &n)
			sven.visit("/account-requests")
			sven.see("Kontoänderungen", "Passwort zurücksetzen für susi", "Beantragt von")
			sven.checkWidth()
			sven.checkAxe(axe)
			sven.shot("account-requests")
			reqs, err := e.svc.AccountRequests(e.ctx, e.users["sven"].Actor(), incident.AccountRequestFilter{State: incident.RequestPending})
			if err != nil || len(reqs) != 1 {
				t.Fatalf("pending: %+v, %v", reqs, err)
			}
			id := reqs[0].ID
			sven.do(chromedp.Click(chromedp.CSS("#approve-"+id), chromedp.NodeVisible))
			sven.fill("#reason-"+id, "telefonisch mit susi geklärt")
			sven.fill("#code-"+id, e.code("sven"))
			sven.press(`main form[action="/account-requests/` + id + `/decide"] button[type=submit]`)
			sven.see("Kontoänderungen", "Die Entscheidung ist gespeichert", "Keine Kontoänderung wartet")
			sven.shot("account-request-approved")
			if got := run(sven, chromedp.Evaluate[int](`document.querySelectorAll("form.decide").length`)); got != 0 {
				t.Fatalf("%d decision forms left", got)
			}
		})
	}
}
