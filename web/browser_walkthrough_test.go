package web

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tresor-evidence/tresor/policies"
)

// walkViewports are the sizes the walkthrough is read at: a phone in the
// hand and an office screen.
var walkViewports = []viewport{
	{name: "walk-phone", width: 390, height: 844, mobile: true},
	{name: "walk-desktop", width: 1280, height: 900},
}

// TestBrowserWalkthrough opens an incident of every platform in Chromium,
// at phone and desktop size, and sees every step's instructions for that
// platform: the current one unfolded, the others after a tap; the help for
// going through it with the young person per platform; "not possible"
// leaving a reminder; the CSAM rules above the steps; and a message
// described as WhatsApp shows it.
func TestBrowserWalkthrough(t *testing.T) {
	exe, shots := browserTest(t)
	for _, vp := range walkViewports {
		t.Run(vp.name, func(t *testing.T) { browserWalkthrough(t, exe, shots, vp) })
	}
}

func browserWalkthrough(t *testing.T, exe, shots string, vp viewport) {
	e := newEnv(t)
	e.enroll("susi")
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	f := &flow{t: t, e: e, browser: newBrowser(t, exe), base: ts.URL, vp: vp, shots: shots}
	approve := func(id string) {
		t.Helper()
		if _, err := e.svc.Decide(e.ctx, e.users["susi"].Actor(), e.pending(id).ID, true, "sichern", e.stepUpCode("susi")); err != nil {
			t.Fatal(err)
		}
		e.runJobs()
	}

	wanda := f.open("wanda")
	wanda.visit("/login")
	wanda.fill("#username", "wanda")
	wanda.fill("#password", "correct horse wanda")
	wanda.press(`main form button[type=submit]`)
	wanda.see("Meine Meldungen")

	c := e.as("wanda")
	for _, pl := range e.srv.policy.Platforms() {
		id := e.flagOn(c, "wamidwalk"+string(pl.ID), "threat", string(pl.ID))
		approve(id)
		wanda.visit("/incidents/" + id)
		wanda.see("Meldung", "Die wichtigste Regel:", "Für alle löschen", pl.Name.DE)
		steps, err := e.srv.policy.Steps(pl.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range steps {
			li := fmt.Sprintf(`li[id="step-%s"]`, st.ID)
			body := li + ` details.howto > p`
			// The current step is a category step; the platform's
			// steps start folded and unfold on a tap.
			if !wanda.visible(body) {
				wanda.do(chromedp.Click(chromedp.CSS(li+` details.howto > summary`), chromedp.NodeVisible))
			}
			wanda.do(chromedp.WaitVisible(chromedp.CSS(body)))
			if got := run(wanda, chromedp.Text(chromedp.CSS(body))); strings.TrimSpace(got) != st.Body.DE {
				t.Errorf("%s/%s: instructions %q, want %q", pl.ID, st.ID, got, st.Body.DE)
			}
		}
		if wanda.count(`details.howto[open]`) < len(steps) {
			t.Errorf("%s: %d instructions unfolded, want at least %d", pl.ID, wanda.count(`details.howto[open]`), len(steps))
		}
		// The help for going through it together, for each platform.
		ask := `li[id="step-ask_recipient"]`
		wanda.do(chromedp.Click(chromedp.CSS(ask+` details.together > summary`), chromedp.NodeVisible))
		for i, other := range e.srv.policy.Platforms() {
			sel := fmt.Sprintf(`%s details.together-platform:nth-of-type(%d)`, ask, i+1)
			wanda.do(chromedp.Click(chromedp.CSS(sel+` > summary`), chromedp.NodeVisible))
			wanda.do(chromedp.WaitVisible(chromedp.CSS(sel + ` ol`)))
			text := run(wanda, chromedp.Text(chromedp.CSS(sel)))
			for _, st := range other.Steps {
				if st.Together.DE != "" && !strings.Contains(text, st.Together.DE) {
					t.Errorf("%s: together help for %s lacks %q", pl.ID, other.ID, st.Together.DE)
				}
			}
		}
		wanda.checkLayout()
		wanda.shot("steps-" + string(pl.ID))
		if pl.ID != policies.Platform("android") {
			continue
		}
		// "Not possible" with the young person leaves a reminder.
		wanda.do(chromedp.Click(chromedp.CSS(ask+` .step-actions details > summary`), chromedp.NodeVisible))
		wanda.see("Meldung", "legt Tresor eine Erinnerung an")
		wanda.fill(ask+` .step-actions textarea`, "Jugendliche ist gerade nicht erreichbar")
		wanda.press(ask + ` .step-actions details button[type=submit]`)
		wanda.see("Meldung", "Später noch einmal nachfragen", "Jugendliche ist gerade nicht erreichbar")
		if wanda.count(`li[id="step-ask_recipient.follow_up"].step-open`) != 1 {
			t.Fatal("no open follow-up step after \"not possible\"")
		}
		wanda.shot("follow-up")
	}

	// Suspected CSAM: the do's and don'ts come first, above the steps.
	csam := e.flagOn(c, "wamidwalkcsam", "csam", "android")
	approve(csam)
	wanda.visit("/incidents/" + csam)
	wanda.see("Meldung", "Das tun Sie nicht", "Keinen Screenshot", "Nicht weiterleiten", "bevor Sie die Polizei gefragt haben")
	if above := run(wanda, chromedp.Evaluate[bool](`document.querySelector("#csam-rules").getBoundingClientRect().top < document.querySelector("#steps").getBoundingClientRect().top`)); !above {
		t.Error("the CSAM rules are not above the steps")
	}
	wanda.shot("csam")

	// A message described as WhatsApp shows it.
	wanda.visit("/incidents/new/details")
	wanda.see("Neue Meldung", "Nachricht beschreiben", "Empfangen am")
	wanda.do(chromedp.Click(chromedp.CSS("#cat-csam"), chromedp.NodeVisible))
	wanda.fill("#chat_name", "Lena K.")
	wanda.do(chromedp.SetValue(chromedp.CSS("#received_at"), "2026-11-27T08:30"))
	wanda.do(chromedp.SetValue(chromedp.CSS("#kind"), "photo"))
	wanda.do(chromedp.Click(chromedp.CSS("#pl-iphone"), chromedp.NodeVisible))
	wanda.shot("describe")
	wanda.press(`main form[action="/incidents"] button[type=submit]`)
	wanda.see("Meldung", "Lena K.", "Foto", "27.11.2026 08:30 CET", "Das tun Sie nicht")
	wanda.shot("described")
}

// visible reports whether the element is rendered and not folded away.
func (p *page) visible(sel string) bool {
	p.t.Helper()
	return run(p, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const el = document.querySelector(%q); return !!el && el.checkVisibility(); })()`, sel)))
}
