package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tresor-evidence/tresor/incident"
)

// In Chromium at phone and desktop size: a worker guesses wrong until
// their account locks; a colleague in the same browser (the same client
// address) signs in at once; the locked worker's page says whom to ask
// and keeps the name; the admin sees the lock and unlocks it.
func TestBrowserLockout(t *testing.T) {
	exe, shots := browserTest(t)
	axe := axeScript(t)
	for _, vp := range pageViewports {
		t.Run(vp.name, func(t *testing.T) {
			e := newEnv(t)
			e.enroll("adam")
			e.restart(&slowDowns{})
			ts := httptest.NewServer(e.h)
			t.Cleanup(ts.Close)
			pe := &pagesEnv{env: e, base: ts.URL}
			b := newBrowser(t, exe)
			n := 0

			otto := pe.tab(t, b, vp, shots, "", &n)
			otto.who = "otto"
			otto.visit("/login")
			checked := 0
			for status := int64(0); status != http.StatusLocked; {
				if checked > incident.SignInLockFailures {
					t.Fatalf("not locked after %d failures", checked)
				}
				status = otto.signIn("otto", "wrong", func(retryAfter string) {
					secs, err := strconv.Atoi(retryAfter)
					if err != nil || secs < 1 {
						t.Fatalf("Retry-After %q", retryAfter)
					}
					if checked == incident.SignInSlowAfter { // the first refusal, as a worker sees it
						want := "Bitte warten Sie " + retryAfter + " Sekunden"
						if retryAfter == "1" {
							want = "Bitte warten Sie eine Sekunde"
						}
						otto.see("Anmelden", want)
						if focused := run(otto, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "password" {
							t.Fatalf("after a refusal the focus is on %q, not the password", focused)
						}
						otto.shot("refusal-window")
					}
					e.clock.Advance(time.Duration(secs) * time.Second)
				})
				if status == http.StatusUnauthorized {
					checked++
				}
			}
			if checked != incident.SignInLockFailures {
				t.Fatalf("locked after %d failures", checked)
			}
			if got := otto.signIn("otto", "correct horse otto", nil); got != http.StatusLocked {
				t.Fatalf("right password of the locked account: %d", got)
			}
			otto.see("Anmelden", "vorübergehend gesperrt", "Ihre IT")
			if got := run(otto, chromedp.Value(chromedp.CSS("#username"))); got != "otto" {
				t.Fatalf("the name typed is not kept: %q", got)
			}
			otto.checkWidth()
			otto.checkAxe(axe)
			otto.shot("locked")

			// The colleague, same browser, same address: signed in.
			wanda := pe.tab(t, b, vp, shots, "", &n)
			wanda.who = "wanda"
			wanda.visit("/login")
			if got := wanda.signIn("wanda", "correct horse wanda", nil); got != http.StatusOK {
				t.Fatalf("colleague at the same address: %d", got)
			}
			wanda.see("Meine Meldungen")

			adam := pe.tab(t, b, vp, shots, "adam", &n)
			adam.visit("/admin/users")
			adam.see("Konten", "Gesperrt bis")
			adam.checkWidth()
			adam.checkAxe(axe)
			adam.shot("accounts-locked")
			adam.press(`main form[action="/admin/users/otto/unlock"] button[type=submit]`)
			adam.see("Konten", "Das Konto ist geändert.")
			if adam.count(`form[action$="/unlock"]`) != 0 {
				t.Fatal("still offers to unlock")
			}
			otto.visit("/login")
			if got := otto.signIn("otto", "correct horse otto", nil); got != http.StatusOK {
				t.Fatalf("after unlock: %d", got)
			}
			otto.see("Meine Meldungen")
		})
	}
}

// signIn fills the sign-in form (replacing what it holds), sends it and
// returns the status of the page it ends on; refused (429) calls wait
// with Retry-After before returning.
func (p *page) signIn(name, pw string, wait func(retryAfter string)) int64 {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.CSS("#username"), name, chromedp.NodeVisible),
		chromedp.SetValue(chromedp.CSS("#password"), pw, chromedp.NodeVisible))
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`), chromedp.NodeVisible))
	if err != nil {
		p.t.Fatalf("%s (%s): %v", p.who, p.vp.name, err)
	}
	if resp.Status == http.StatusTooManyRequests {
		ra, _ := resp.Headers["Retry-After"].(string)
		if wait == nil {
			p.t.Fatalf("%s (%s): refused for %s s; page:\n%s", p.who, p.vp.name, ra, p.mainText())
		}
		wait(strings.TrimSpace(ra))
	}
	return resp.Status
}
