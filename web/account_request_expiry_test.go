package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// shownAt lists the texts of the elements with the test id.
func shownAt(body, testid string) []string {
	re := regexp.MustCompile(`data-testid="` + testid + `">([^<]*)<`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// The page of account requests shows when a pending request expires, in
// the policy's time zone (Europe/Berlin: 08:00 UTC is 09:00) and without
// a zone; once expired (swept or not yet) it shows the request as
// expired, without a decision form, for a week, under the anchor the
// requester's mail links to.
func TestAccountRequestPageShowsExpiry(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	e.enroll("sven")
	ch, err := e.svc.ResetPassword(e.ctx, e.users["adam"].Actor(), "susi")
	if err != nil || !ch.Pending() {
		t.Fatalf("%+v %v", ch, err)
	}
	id := ch.Request.ID
	body := e.as("sven").get("/account-requests").Body.String()
	if got := shownAt(body, "expires-at"); len(got) != 1 || got[0] != "28.11.2026 09:00" {
		t.Fatalf("expiry shown as %q, want the local 28.11.2026 09:00", got)
	}
	if strings.Contains(body, "UTC") || strings.Contains(body, `data-testid="expired-account-request"`) {
		t.Fatal("a zone name, or a pending request shown as expired")
	}

	for _, tc := range []struct {
		name  string
		sweep bool
	}{{"not yet swept", false}, {"swept", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sweep {
				if n, err := e.svc.SweepAccountRequests(e.ctx); err != nil || n != 1 {
					t.Fatalf("sweep = %d, %v", n, err)
				}
			} else {
				e.clock.Advance(24 * time.Hour)
			}
			for _, who := range []string{"sven", "adam"} {
				body := e.as(who).get("/account-requests").Body.String()
				if !strings.Contains(body, `id="account-request-`+id+`"`) || strings.Count(body, `data-testid="expired-account-request"`) != 1 ||
					!strings.Contains(body, "Verfallen, ohne Entscheidung") || !strings.Contains(body, `data-testid="no-account-requests"`) {
					t.Fatalf("%s does not see the request as expired:\n%s", who, body)
				}
				if got := shownAt(body, "expired-at"); len(got) != 1 || got[0] != "28.11.2026 09:00" {
					t.Fatalf("expired at %q", got)
				}
				if strings.Contains(body, `/decide"`) || strings.Contains(body, `data-testid="expires-at"`) {
					t.Fatalf("an expired request is offered for decision")
				}
			}
		})
	}
	e.clock.Advance(expiredShownFor)
	if body := e.as("sven").get("/account-requests").Body.String(); strings.Contains(body, id) {
		t.Fatal("a request expired more than a week ago is still shown")
	}
	// Deciding it late says it expired, and changes nothing.
	w := e.as("sven").post("/account-requests/"+id+"/decide", "decision", "approve", "reason", "zu spät", "code", e.code("sven"))
	wantStatus(t, w, http.StatusConflict)
	if !strings.Contains(w.Body.String(), "abgelaufen") {
		t.Errorf("the refusal does not say the request expired:\n%s", w.Body.String())
	}
	rs, err := e.svc.AccountRequests(e.ctx, e.users["sven"].Actor(), incident.AccountRequestFilter{})
	if err != nil || len(rs) != 1 || rs[0].State != incident.RequestExpired {
		t.Fatalf("requests %+v, %v", rs, err)
	}
}

// In Chromium at phone and desktop size: one account request waits (with
// its local expiry), one expired; the page shows both apart.
func TestBrowserAccountRequestExpired(t *testing.T) {
	exe := requireChromium(t)
	axe := axeScript(t)
	shots := screenshotDir(t)
	for _, vp := range pageViewports {
		t.Run(vp.name, func(t *testing.T) {
			e := newEnv(t)
			e.enroll("adam")
			e.enroll("sven")
			adam := e.users["adam"].Actor()
			if _, err := e.svc.ResetPassword(e.ctx, adam, "susi"); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(20 * time.Hour)
			if _, err := e.svc.SetUserRole(e.ctx, adam, "otto", incident.RoleSupervisor); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(5 * time.Hour)
			if n, err := e.svc.SweepAccountRequests(e.ctx); err != nil || n != 1 {
				t.Fatalf("sweep = %d, %v", n, err)
			}
			ts := httptest.NewServer(e.h)
			t.Cleanup(ts.Close)
			pe := &pagesEnv{env: e, base: ts.URL}
			b := newBrowser(t, exe)
			n := 0
			sven := pe.tab(t, b, vp, shots, "sven", &n)
			sven.visit("/account-requests")
			sven.see("Kontoänderungen", "Neue Rolle für otto", "Läuft ab am", "29.11.2026 05:00",
				"Verfallen, ohne Entscheidung", "Passwort zurücksetzen für susi", "abgelaufen", "Verfallen am", "28.11.2026 09:00")
			if got := sven.count("form.decide"); got != 1 {
				t.Fatalf("%d decision forms, want the pending request's only", got)
			}
			sven.checkWidth()
			sven.checkAxe(axe)
			sven.shot("account-requests-expired")
		})
	}
}
