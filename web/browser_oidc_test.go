package web

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
	"github.com/tresor-evidence/tresor/policies"
)

// browserOIDCEnv serves Tresor on localhost with a real OpenID provider
// on 127.0.0.1 (another site) whose login page is a form, under the oidc
// test policy with extraPolicy; it returns Tresor's base URL.
func browserOIDCEnv(t *testing.T, extraPolicy string) (*env, *oidctest.Provider, string) {
	t.Helper()
	pol, err := policies.Parse("oidc.yaml", []byte(oidcTestPolicy+extraPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvPolicy(t, false, pol)
	ts := httptest.NewUnstartedServer(nil)
	base := "http://localhost:" + ts.Listener.Addr().String()[strings.LastIndex(ts.Listener.Addr().String(), ":")+1:]
	p := oidctest.Start(t, base+"/auth/oidc/callback")
	p.UseLoginForm()
	p.AllowPostLogoutRedirect(base + "/signed-out")
	rp, err := oidcrp.New(oidcrp.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: base + "/auth/oidc/callback", PostLogoutRedirectURL: base + "/signed-out", Claim: oidctest.GroupsClaim, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	e.useIdentityProvider(rp, "Träger-Login")
	ts.Config.Handler = e.h
	ts.Start()
	t.Cleanup(ts.Close)
	return e, p, base
}

// In Chromium at phone and desktop size, the whole sign-in through a real
// OpenID provider on another site (127.0.0.1 against Tresor's localhost):
// the login page's "Anmelden mit …", the provider, the way back on which
// the SameSite=Strict session cookie is not sent, and the worker's page.
// Then the sign-out: Tresor's button ends the session and sends the
// browser on to the provider's end-session endpoint — which the page's
// CSP form-action must allow, or Chromium stops at the redirect — and the
// provider sends it back to Tresor's signed-out page; the old session
// cookie no longer works.
func TestBrowserOIDCSignIn(t *testing.T) {
	exe := requireChromium(t)
	shots := screenshotDir(t)
	axe := axeScript(t)
	for _, vp := range pageViewports {
		t.Run(vp.name, func(t *testing.T) {
			e, p, base := browserOIDCEnv(t, "")
			p.SetUser(oidctest.User{Subject: "s-wiebke", Username: "wiebke@traeger.example.org", Name: "Wiebke Wagner",
				Email: "wiebke@traeger.example.org", Groups: []string{"tresor-fachkraft"}})
			p.SignInAs("s-wiebke")

			f := &flow{t: t, e: e, browser: newBrowser(t, exe), base: base, vp: vp, shots: shots}
			pg := f.open("wiebke")
			pg.visit("/login")
			pg.see("Anmelden", "Anmelden mit Träger-Login")
			pg.shot("oidc-login")
			pg.press("#oidc-sign-in")
			pg.press("#provider-sign-in") // on the provider's own page
			// The callback's page moves on by itself, as Tresor's own
			// navigation, which carries the new session cookie.
			pg.do(chromedp.WaitVisible(chromedp.CSS(`main a[href="/incidents/new"]`)))
			if path := run(pg, chromedp.Evaluate[string](`location.pathname`)); path != "/incidents" {
				t.Fatalf("after signing in at the provider the browser is at %s, want /incidents", path)
			}
			pg.checkLayout()
			pg.shot("oidc-signed-in")

			cookies, err := chromedp.Call(pg.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
			if err != nil {
				t.Fatal(err)
			}
			var session string
			for _, ck := range cookies.Cookies {
				if ck.Name == "tresor" {
					session = ck.Value
				}
			}
			if session == "" {
				t.Fatal("no session cookie after signing in")
			}
			pg.press(`form[action="/logout"] button`)
			if got := run(pg, chromedp.Location()); got != base+"/signed-out" {
				t.Fatalf("after signing out the browser is at %s, want %s/signed-out", got, base)
			}
			pg.see("Abgemeldet", "Sie sind von Tresor und bei Träger-Login abgemeldet.", "Wieder anmelden")
			pg.checkHeader()
			pg.checkAxe(axe)
			pg.shot("oidc-signed-out")
			old := e.anon()
			old.cookies["tresor"] = session
			if w := old.get("/incidents"); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
				t.Errorf("the session after signing out = %d %s, want it ended", w.Code, w.Header().Get("Location"))
			}
			pg.press("#sign-in-again")
			pg.see("Anmelden", "Anmelden mit Träger-Login")
		})
	}
}

// In Chromium at phone and desktop size, a supervisor signed in through
// the provider approves a request by signing in there again
// (oidc.step_up: provider): the approval page offers „Bei Träger-Login
// bestätigen“ instead of a code field, the provider's page, the way back
// to the approval page, which says until when the confirmation serves,
// and the decision.
func TestBrowserOIDCStepUp(t *testing.T) {
	exe := requireChromium(t)
	shots := screenshotDir(t)
	axe := axeScript(t)
	for _, vp := range pageViewports {
		t.Run(vp.name, func(t *testing.T) {
			e, p, base := browserOIDCEnv(t, stepUpPolicy)
			e.clock.Advance(time.Since(e.clock.Now())) // the provider's auth_time is real time
			p.SetUser(oidctest.User{Subject: "s-lars", Username: "lars@traeger.example.org", Name: "Lars Leitung", Groups: []string{"tresor-leitung"}})
			p.SignInAs("s-lars")
			id := e.flag(e.as("wanda"), "wamidbrowser1", "violence")

			f := &flow{t: t, e: e, browser: newBrowser(t, exe), base: base, vp: vp, shots: shots}
			pg := f.open("lars")
			pg.visit("/login")
			pg.press("#oidc-sign-in")
			pg.press("#provider-sign-in")
			pg.do(chromedp.WaitVisible(chromedp.CSS(`header form[action="/logout"]`)))

			pg.visit("/approvals")
			pg.seeText("Identität bestätigen", "Bei Träger-Login bestätigen")
			pg.checkLayout()
			pg.shot("stepup-inbox-before")

			pg.visit("/incidents/" + id)
			pg.seeText("Identität bestätigen", "Bei Träger-Login bestätigen")
			if n := pg.count(`input[name="code"]`) + pg.count(`form[action$="/decide"]`); n != 0 {
				t.Errorf("approval page before confirming shows %d code fields or decision forms", n)
			}
			pg.checkLayout()
			pg.checkAxe(axe)
			pg.shot("stepup-before")

			pg.press(`[data-testid="step-up-start"]`)
			pg.press("#provider-sign-in") // signs in again at the provider
			pg.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="step-up-confirmed"]`)))
			if path := run(pg, chromedp.Evaluate[string](`location.pathname`)); path != "/incidents/"+id {
				t.Fatalf("after confirming the browser is at %s, want the approval page", path)
			}
			pg.seeText("Identität bestätigt.", "Sie haben sich bei Träger-Login neu angemeldet", " Uhr.")
			pg.seeNo("UTC")
			if n := pg.count(`input[name="code"]`); n != 0 {
				t.Errorf("approval page after confirming shows a code field")
			}
			pg.checkLayout()
			pg.checkAxe(axe)
			pg.shot("stepup-confirmed")
			pg.visit("/approvals")
			pg.seeText("Identität bestätigt.")
			pg.checkLayout()
			pg.shot("stepup-inbox-confirmed")
			pg.visit("/incidents/" + id)

			pg.do(chromedp.Click(chromedp.CSS(`input[value="approve"]`), chromedp.NodeVisible))
			pg.fill(`textarea[name="reason"]`, "Bild geprüft, Sicherung nötig")
			pg.press(`form[action$="/decide"] button[type="submit"]`)
			if path := run(pg, chromedp.Evaluate[string](`location.pathname + location.search`)); path != "/incidents/"+id+"?done=decided" {
				t.Fatalf("after deciding the browser is at %s", path)
			}
			pg.shot("stepup-decided")
		})
	}
}
