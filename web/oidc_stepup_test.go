package web

import (
	"crypto/rand"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
)

const stepUpPolicy = "  provider_enforces_mfa: true\n  step_up: provider\n  step_up_max_age: 5m\n"

// stepUpAtProvider confirms c's identity at the provider from page and
// returns the page the browser is sent back to.
func stepUpAtProvider(t *testing.T, c *client, page string) string {
	t.Helper()
	return stepUpVia(t, c, page, nil)
}

// stepUpVia is stepUpAtProvider with during (if not nil) called while
// the browser is at the provider.
func stepUpVia(t *testing.T, c *client, page string, during func()) string {
	t.Helper()
	w := c.post("/auth/oidc/step-up", "page", page)
	if w.Code != http.StatusOK {
		t.Fatalf("step-up start = %d %s", w.Code, w.Body)
	}
	au, err := url.Parse(movesOnTo(t, w.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	if q := au.Query(); q.Get("prompt") != "login" || q.Get("max_age") != "300" {
		t.Errorf("step-up asks the provider %v, want prompt=login and max_age=300", q)
	}
	q := atProvider(t, au.String())
	if during != nil {
		during()
	}
	cb := c.get("/auth/oidc/callback?" + q.Encode())
	if cb.Code != http.StatusOK {
		t.Fatalf("callback = %d %s", cb.Code, cb.Body)
	}
	return movesOnTo(t, cb.Body.String())
}

// movesOnTo is where a page of Tresor's own that moves on by itself goes.
func movesOnTo(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, `content="0;url=`)
	if !ok {
		t.Fatalf("page does not move on: %s", page)
	}
	next, _, _ := strings.Cut(rest, `"`)
	return html.UnescapeString(next)
}

// TestOIDCStepUpByReauthentication: under step_up: provider a supervisor
// signed in through the provider approves by signing in there again
// instead of typing a code; the confirmation serves one decision; a local
// supervisor keeps TOTP.
func TestOIDCStepUpByReauthentication(t *testing.T) {
	e, p := newOIDCEnv(t, stepUpPolicy)
	e.clock.Advance(time.Since(e.clock.Now())) // the provider's auth_time is real time
	lars := e.anon()
	if resp, _ := oidcSignIn(t, lars, p, "s-lars"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	id := e.flag(e.as("wanda"), "wamidsu1", "violence")
	req := e.pending(id)
	other := e.pending(e.flag(e.as("wanda"), "wamidsu2", "violence"))
	page := "/incidents/" + id

	// Before: the button, no code field, no decision form yet.
	body := html.UnescapeString(lars.get(page).Body.String())
	if !strings.Contains(body, "Bei Träger-Login bestätigen") || !strings.Contains(body, `action="/auth/oidc/step-up"`) ||
		strings.Contains(body, `name="code"`) || strings.Contains(body, `action="/requests/`+req.ID+`/decide"`) {
		t.Fatalf("approval page before confirming does not offer only the confirmation:\n%s", body)
	}
	// The inbox asks once for all its requests.
	if body := html.UnescapeString(lars.get("/approvals").Body.String()); strings.Count(body, "Bei Träger-Login bestätigen") != 1 {
		t.Errorf("inbox with two requests asks %d times to confirm, want once", strings.Count(body, "Bei Träger-Login bestätigen"))
	}
	// A decision sent anyway: nothing decided, the reason kept, confirm again.
	w := lars.post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "Bild geprüft", "page", page)
	body = html.UnescapeString(w.Body.String())
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "Bitte bestätigen Sie erneut") || !strings.Contains(body, "Bild geprüft</textarea>") {
		t.Fatalf("decision without confirmation = %d:\n%s", w.Code, body)
	}
	if len(e.pending(id).Decisions) != 0 {
		t.Fatal("decided without a step-up")
	}
	// Only back to Tresor's own pages.
	wantStatus(t, lars.post("/auth/oidc/step-up", "page", "//evil.example.org/x"), http.StatusBadRequest)

	// Confirm at the provider and come back.
	if next := stepUpAtProvider(t, lars, page); next != page+"#step-up" {
		t.Fatalf("back to %q, want %q", next, page)
	}
	body = html.UnescapeString(lars.get(page).Body.String())
	until := confirmedUntil(t, e, "lars").In(e.srv.policy.TimeZone).Format("15:04")
	if !strings.Contains(body, "Identität bestätigt.") || !strings.Contains(body, "bis "+until+" Uhr") || strings.Contains(body, "UTC") ||
		strings.Contains(body, `name="code"`) || !strings.Contains(body, `action="/requests/`+req.ID+`/decide"`) {
		t.Fatalf("approval page after confirming (want until %s):\n%s", until, body)
	}
	wantRedirect(t, lars.post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "Bild geprüft", "page", page), page+"?done=decided")
	if reqs, err := e.svc.Requests(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.RequestFilter{IncidentID: id}); err != nil || len(reqs) != 1 || len(reqs[0].Decisions) != 1 {
		t.Fatalf("requests after the decision = %+v, %v", reqs, err)
	}
	// One confirmation, one decision.
	w = lars.post("/requests/"+other.ID+"/decide", "decision", "approve", "reason", "auch geprüft", "page", "/approvals")
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(w.Body.String()), "Bitte bestätigen Sie erneut") {
		t.Fatalf("second decision on one confirmation = %d", w.Code)
	}
	// An expired confirmation serves none.
	stepUpAtProvider(t, lars, "/approvals")
	// The API always takes a code; it never uses the browser's confirmation.
	larsID := ""
	if users, err := e.svc.Users(e.ctx, incident.System); err == nil {
		for _, u := range users {
			if u.Username == "lars" {
				larsID = u.ID
			}
		}
	}
	api := e.bearerClient(e.apiTokenOf(larsID))
	wantAPIError(t, api.api(http.MethodPost, "/api/v1/requests/"+other.ID+"/decide", `{"decision":"approve","reason":"per API"}`, nil),
		http.StatusBadRequest, "invalid_input")
	if body := html.UnescapeString(lars.get("/approvals").Body.String()); !strings.Contains(body, "Identität bestätigt.") {
		t.Error("an API call used the browser's confirmation")
	}
	e.clock.Advance(confirmedUntil(t, e, "lars").Sub(e.clock.Now()))
	if body := html.UnescapeString(lars.get("/approvals").Body.String()); strings.Contains(body, "Identität bestätigt.") {
		t.Error("the inbox shows an expired confirmation")
	}
	w = lars.post("/requests/"+other.ID+"/decide", "decision", "approve", "reason", "auch geprüft", "page", "/approvals")
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("decision on an expired confirmation = %d", w.Code)
	}

	// A local supervisor keeps the code field and TOTP.
	e.enroll("susi")
	susi := e.as("susi")
	body = html.UnescapeString(susi.get("/incidents/" + other.IncidentID).Body.String())
	if !strings.Contains(body, `name="code"`) || strings.Contains(body, "Bei Träger-Login bestätigen") {
		t.Fatalf("local supervisor's approval page:\n%s", body)
	}
	wantRedirect(t, susi.post("/requests/"+other.ID+"/decide", "decision", "approve", "reason", "geprüft", "code", e.code("susi"),
		"page", "/incidents/"+other.IncidentID), "/incidents/"+other.IncidentID+"?done=decided")

	// The trail names the confirmations, never the provider's values.
	trail, err := e.svc.Trail(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range trail {
		if en.Action == string(incident.ActionStepUpConfirmed) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d confirmations audited, want 2", n)
	}
}

// confirmedUntil is until when the user's confirmation at the provider
// serves a decision.
func confirmedUntil(t *testing.T, e *env, username string) time.Time {
	t.Helper()
	users, err := e.svc.Users(e.ctx, incident.System)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Username == username {
			st, err := e.svc.StepUpStatusOf(e.ctx, u.Actor())
			if err != nil || st.ConfirmedUntil.IsZero() {
				t.Fatalf("step-up status of %s = %+v, %v", username, st, err)
			}
			return st.ConfirmedUntil
		}
	}
	t.Fatalf("no user %s", username)
	return time.Time{}
}

// TestOIDCStepUpAccountRequest: an account request is decided the same
// way.
func TestOIDCStepUpAccountRequest(t *testing.T) {
	e, p := newOIDCEnv(t, stepUpPolicy)
	e.clock.Advance(time.Since(e.clock.Now()))
	lars := e.anon()
	if resp, _ := oidcSignIn(t, lars, p, "s-lars"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	e.enroll("adam")
	wantStatus(t, e.as("adam").post("/admin/users/susi/password/reset"), http.StatusOK)
	reqs, err := e.svc.AccountRequests(e.ctx, e.users["adam"].Actor(), incident.AccountRequestFilter{State: incident.RequestPending})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending: %+v, %v", reqs, err)
	}
	decide := "/account-requests/" + reqs[0].ID + "/decide"
	w := lars.get("/account-requests")
	if w.Code != http.StatusOK {
		t.Fatalf("account requests = %d %s\n%s", w.Code, w.Header().Get("Location"), e.log.String())
	}
	body := html.UnescapeString(w.Body.String())
	if !strings.Contains(body, "Bei Träger-Login bestätigen") || strings.Contains(body, `name="code"`) || strings.Contains(body, decide) {
		t.Fatalf("account requests before confirming:\n%s", body)
	}
	w = lars.post(decide, "decision", "approve", "reason", "am Telefon bestätigt")
	body = html.UnescapeString(w.Body.String())
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "Bitte bestätigen Sie erneut") || !strings.Contains(body, "am Telefon bestätigt</textarea>") {
		t.Fatalf("account decision without confirmation = %d:\n%s", w.Code, body)
	}
	if next := stepUpAtProvider(t, lars, "/account-requests"); next != "/account-requests#step-up" {
		t.Fatalf("back to %q", next)
	}
	body = html.UnescapeString(lars.get("/account-requests").Body.String())
	if !strings.Contains(body, "Identität bestätigt.") || !strings.Contains(body, decide) || strings.Contains(body, `name="code"`) {
		t.Fatalf("account requests after confirming:\n%s", body)
	}
	wantRedirect(t, lars.post(decide, "decision", "approve", "reason", "am Telefon bestätigt"), "/account-requests?done=account_request_decided")
}

// TestOIDCStepUpHostileIssuer: what does not prove a fresh sign-in of the
// account's own person is refused, counted toward the step-up lock and
// explained on the approval page; a sign-in through the same callback is
// not affected.
func TestOIDCStepUpHostileIssuer(t *testing.T) {
	e, h := newHostileEnvWith(t, stepUpPolicy+"  step_up_acr: [gold]\n  step_up_amr: [otp, hwk]\n", true)
	h.SetPerson("h-lead", []string{"tresor-leitung"})
	e.flag(e.as("wanda"), "wamidh1", "violence") // a decision waits in the inbox
	lead := e.anon()
	start := lead.get("/auth/oidc/start")
	if cb := lead.get("/auth/oidc/callback?" + atProvider(t, start.Header().Get("Location")).Encode()); cb.Code != http.StatusOK {
		t.Fatalf("sign-in without acr or amr = %d, want it unaffected by the step-up settings", cb.Code)
	}
	good := func(c, _ map[string]any) { c["acr"] = "gold"; c["amr"] = []string{"pwd", "otp"} }
	refusals := []struct {
		name   string
		tamper func(c, h map[string]any)
		during func()
		other  bool // another person signs in at the provider
	}{
		{name: "missing auth_time", tamper: func(c, h map[string]any) { good(c, h); delete(c, "auth_time") }},
		{name: "auth_time too old", tamper: good, during: func() { e.clock.Advance(5*time.Minute + time.Second) }},
		{name: "auth_time before the flow started", tamper: func(c, h map[string]any) {
			good(c, h)
			c["auth_time"] = e.clock.Now().Add(-2 * time.Minute).Unix()
		}},
		{name: "wrong acr", tamper: func(c, h map[string]any) { good(c, h); c["acr"] = "silver" }},
		{name: "missing required amr", tamper: func(c, h map[string]any) { good(c, h); c["amr"] = []string{"pwd"} }},
		{name: "another subject", tamper: good, other: true},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(incident.StepUpLockout) // each case on its own count
			h.Tamper(tc.tamper)
			if tc.other {
				h.SetPerson("h-other", []string{"tresor-leitung"})
			}
			t.Cleanup(func() { h.Tamper(nil); h.SetPerson("h-lead", []string{"tresor-leitung"}) })
			next := stepUpVia(t, lead, "/approvals", tc.during)
			if next != "/approvals?stepup=refused#step-up" {
				t.Fatalf("back to %q, want the refusal", next)
			}
			// A browser never sends the fragment.
			body := html.UnescapeString(lead.get(strings.TrimSuffix(next, "#step-up")).Body.String())
			if !strings.Contains(body, "Die Bestätigung hat nicht gereicht") || strings.Contains(body, "Identität bestätigt.") {
				t.Errorf("approval page after a refused confirmation:\n%s", body)
			}
		})
	}

	// The same confirmation, as the policy wants it, passes.
	e.clock.Advance(incident.StepUpLockout)
	h.Tamper(good)
	if next := stepUpAtProvider(t, lead, "/approvals"); next != "/approvals#step-up" {
		t.Fatalf("good confirmation: back to %q", next)
	}
	if body := html.UnescapeString(lead.get("/approvals").Body.String()); !strings.Contains(body, "Identität bestätigt.") {
		t.Errorf("inbox after a good confirmation:\n%s", body)
	}

	// Refusals count toward the step-up lock, which then holds for a
	// good confirmation too.
	e.clock.Advance(incident.StepUpLockout)
	h.Tamper(func(c, h map[string]any) { good(c, h); delete(c, "auth_time") })
	for i := range incident.StepUpMaxFailures {
		if next := stepUpAtProvider(t, lead, "/approvals"); next != "/approvals?stepup=refused#step-up" {
			t.Fatalf("refusal %d: back to %q", i+1, next)
		}
	}
	h.Tamper(good)
	if next := stepUpAtProvider(t, lead, "/approvals"); next != "/approvals?stepup=locked#step-up" {
		t.Fatalf("confirmation while locked: back to %q", next)
	}
	if body := html.UnescapeString(lead.get("/approvals?stepup=locked").Body.String()); !strings.Contains(body, "15 Minuten gesperrt") {
		t.Errorf("inbox while locked does not say so:\n%s", body)
	}
	if !strings.Contains(e.log.String(), "reason=no_auth_time") || strings.Contains(e.log.String(), "h-lead") {
		t.Errorf("log lines do not name the refusal by its code, or name the provider's subject")
	}
}

// TestOIDCStepUpProviderUnreachable: a provider that cannot be reached
// is said so on the approval page, which offers the confirmation again.
func TestOIDCStepUpProviderUnreachable(t *testing.T) {
	e, p := newOIDCEnv(t, stepUpPolicy)
	lars := e.anon()
	if resp, _ := oidcSignIn(t, lars, p, "s-lars"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	e.flag(e.as("wanda"), "wamidunreach1", "violence")
	away, err := oidcrp.New(oidcrp.Config{Issuer: "http://127.0.0.1:1", ClientID: "tresor", ClientSecret: "x", RedirectURL: oidcRedirect,
		Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	e.useIdentityProvider(away, "Träger-Login") // the session stays: it is in the database
	next := wantRedirect(t, lars.post("/auth/oidc/step-up", "page", "/approvals"), "/approvals?stepup=unreachable")
	body := html.UnescapeString(lars.get(next).Body.String())
	if !strings.Contains(body, "gerade nicht erreichbar") || !strings.Contains(body, "Bei Träger-Login bestätigen") {
		t.Errorf("inbox with the provider away:\n%s", body)
	}
}
