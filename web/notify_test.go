package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/smtpmail"
	"github.com/tresor-evidence/tresor/internal/mailpit"
)

// TestUserEmail: the admin sets and clears an address on the accounts
// page and through the API; a malformed one is refused; others may not.
func TestUserEmail(t *testing.T) {
	e := newEnv(t)
	adam := e.as("adam")
	w := adam.get("/admin/users")
	wantStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), "E-Mail-Benachrichtigungen sind nicht eingerichtet") {
		t.Error("the accounts page does not say that mail is not set up")
	}
	wantRedirect(t, adam.post("/admin/users/susi/email", "email", "susi@traeger.example"), "/admin/users?done=notify_email_set")
	if u := e.user("susi"); u.Email != "susi@traeger.example" {
		t.Fatalf("stored %q", u.Email)
	}
	if w := adam.get("/admin/users?done=notify_email_set"); !strings.Contains(w.Body.String(), `value="susi@traeger.example"`) ||
		!strings.Contains(w.Body.String(), "Die E-Mail-Adresse ist gespeichert.") {
		t.Error("the accounts page does not show the saved address")
	}
	wantStatus(t, adam.post("/admin/users/susi/email", "email", "susi@traeger.example\r\nBcc: x@example.org"), http.StatusBadRequest)
	wantStatus(t, e.as("susi").post("/admin/users/susi/email", "email", "x@example.org"), http.StatusForbidden)
	wantRedirect(t, adam.post("/admin/users", "username", "neu", "role", "worker", "password", "lang genug 123", "email", "neu@traeger.example"), "/admin/users")
	if u := e.user("neu"); u.Email != "neu@traeger.example" {
		t.Fatalf("created with %q", u.Email)
	}

	api := e.bearerClient(e.apiToken("adam"))
	var u apiUser
	wantStatus(t, api.api(http.MethodPost, "/api/v1/users/sven/email", `{"email":"sven@traeger.example"}`, &u), http.StatusOK)
	if u.Email != "sven@traeger.example" {
		t.Fatalf("API answered %+v", u)
	}
	wantStatus(t, api.api(http.MethodPost, "/api/v1/users/sven/email", `{"email":""}`, &u), http.StatusOK)
	if u.Email != "" {
		t.Fatalf("API did not clear: %+v", u)
	}
	wantAPIError(t, api.api(http.MethodPost, "/api/v1/users/sven/email", `{}`, nil), http.StatusBadRequest, "invalid_input")
	wantAPIError(t, api.api(http.MethodPost, "/api/v1/users/sven/email", `{"email":"Sven <sven@x.example>"}`, nil), http.StatusBadRequest, "invalid_input")
	wantStatus(t, api.api(http.MethodPost, "/api/v1/users", `{"username":"api","role":"worker","password":"lang genug 123","email":"api@traeger.example"}`, &u), http.StatusCreated)
	if u.Email != "api@traeger.example" {
		t.Fatalf("API created %+v", u)
	}
}

// user reads an account from the store.
func (e *env) user(name string) incident.User {
	e.t.Helper()
	us, err := e.svc.Users(e.ctx, incident.System)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range us {
		if u.Username == name {
			return u
		}
	}
	e.t.Fatalf("no user %q", name)
	return incident.User{}
}

var waitingBadge = regexp.MustCompile(`data-testid="waiting">(\d+)<`)

// TestHeaderWaitingCount: a supervisor's header counts the requests that
// wait for their decision, and no one else's header has it.
func TestHeaderWaitingCount(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	wanda, susi := e.as("wanda"), e.as("susi")
	if m := waitingBadge.FindStringSubmatch(susi.get("/incidents").Body.String()); m != nil {
		t.Fatalf("count %s with nothing waiting", m[1])
	}
	e.flag(wanda, "MSGW1", "threat")
	id2 := e.flag(wanda, "MSGW2", "threat")
	if m := waitingBadge.FindStringSubmatch(susi.get("/incidents").Body.String()); m == nil || m[1] != "2" {
		t.Fatalf("count %v, want 2", m)
	}
	wantRedirect(t, susi.post("/requests/"+e.pending(id2).ID+"/decide", "decision", "reject", "reason", "nicht nötig", "code", e.code("susi")), "/")
	body := susi.get("/incidents").Body.String()
	if m := waitingBadge.FindStringSubmatch(body); m == nil || m[1] != "1" {
		t.Fatalf("count %v after a decision, want 1", m)
	}
	if waitingBadge.MatchString(wanda.get("/incidents").Body.String()) {
		t.Error("a worker's header shows a count")
	}
}

// mailEnv is an env whose service mails through a real SMTP server.
func mailEnv(t *testing.T, mp *mailpit.Server, publicURL string) *env {
	e := newEnv(t)
	m, err := smtpmail.New("smtp://"+mp.SMTPAddr, "Tresor <tresor@traeger.example>", smtpmail.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	pol := e.svc.Policy()
	e.svc = incident.NewService(e.store, pol, fakeVault{}, fakeMessenger{}, incident.WithClock(e.clock.Now),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}), incident.WithFactors(e.factors()), incident.WithMailer(m, publicURL))
	e.serve(false)
	for _, name := range []string{"wanda", "susi", "sven"} {
		if _, err := e.svc.SetUserEmail(e.ctx, incident.System, name, name+"@traeger.example"); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// TestNotificationMailCarriesNoIncidentText is the guarantee in
// SECURITY.md: a new request mails the supervisors (not the requester)
// through a real SMTP server; the mail has the link to sign in and look,
// and nothing of the incident.
func TestNotificationMailCarriesNoIncidentText(t *testing.T) {
	mp := mailpit.Start(t)
	e := mailEnv(t, mp, "https://tresor.traeger.example")
	id := e.flag(e.as("wanda"), "MSGSECRET4711", "threat")
	e.runJobs()
	inc := e.incident(id)
	msgs := mp.Messages(t)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
		if !strings.Contains(m.Text, "https://tresor.traeger.example/approvals") {
			t.Errorf("mail to %v lacks the link:\n%s", m.To, m.Text)
		}
		for _, secret := range []string{inc.Description, "Prügelei", "MSGSECRET4711", inc.Category, "wanda", inc.ID, strings.Repeat("ab", 32)} {
			if strings.Contains(m.Raw, secret) || strings.Contains(m.Text, secret) {
				t.Errorf("mail to %v carries %q", m.To, secret)
			}
		}
	}
	if strings.Join(to, ",") != "sven@traeger.example,susi@traeger.example" && strings.Join(to, ",") != "susi@traeger.example,sven@traeger.example" {
		t.Fatalf("mails went to %v, want the two supervisors", to)
	}
}

// TestBrowserNotification: the supervisor follows the link from the mail
// and sees the count in the header; the admin keeps addresses on the
// accounts page. Phone (390x844) and desktop, with screenshots.
func TestBrowserNotification(t *testing.T) {
	exe, shots := browserTest(t)
	for _, vp := range []viewport{{name: "phone390", width: 390, height: 844, mobile: true}, {name: "desktop", width: 1280, height: 900}} {
		t.Run(vp.name, func(t *testing.T) {
			mp := mailpit.Start(t)
			// The public URL is only known once the server listens.
			var h http.Handler
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
			t.Cleanup(ts.Close)
			e := mailEnv(t, mp, ts.URL)
			h = e.h
			f := &flow{t: t, e: e, browser: newBrowser(t, exe), base: ts.URL, vp: vp, shots: shots}

			e.flag(e.as("wanda"), "MSGB1", "threat")
			e.flag(e.as("wanda"), "MSGB2", "violence")
			e.runJobs()
			var link string
			for _, m := range mp.Messages(t) {
				if len(m.To) == 1 && m.To[0] == "susi@traeger.example" {
					link = regexp.MustCompile(`https?://\S+`).FindString(m.Text)
				}
			}
			if link != ts.URL+"/approvals" {
				t.Fatalf("link in susi's mail = %q, want %q", link, ts.URL+"/approvals")
			}

			susi := f.open("susi")
			f.signIn(susi, e.as("susi"))
			susi.load(chromedp.Navigate(link))
			susi.see("Freigaben")
			if got := run(susi, chromedp.Text(chromedp.CSS(`header [data-testid=waiting]`))); !strings.HasPrefix(got, "2") {
				t.Errorf("header count %q, want 2", got)
			}
			susi.shot("header-count")

			adam := f.open("adam")
			f.signIn(adam, e.as("adam"))
			adam.visit("/admin/users")
			adam.see("Konten", "E-Mail")
			if got := run(adam, chromedp.Evaluate[string](`document.querySelector("#email-sven").value`)); got != "sven@traeger.example" {
				t.Errorf("sven's address field shows %q", got)
			}
			adam.do(chromedp.SendKeys(chromedp.CSS("#email-otto"), "otto@traeger.example", chromedp.NodeReady))
			adam.load(chromedp.Submit(chromedp.CSS(`form[action="/admin/users/otto/email"]`), chromedp.NodeReady))
			adam.see("Konten", "Die E-Mail-Adresse ist gespeichert.")
			if u := e.user("otto"); u.Email != "otto@traeger.example" {
				t.Errorf("stored %q", u.Email)
			}
			adam.shot("accounts")
		})
	}
}

// signIn gives the tab the session cookie of an existing session.
func (f *flow) signIn(p *page, c *client) {
	f.t.Helper()
	name := f.e.srv.cookieName("tresor")
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: c.cookies[name], URL: f.base}); err != nil {
		f.t.Fatalf("set cookie: %v", err)
	}
}
