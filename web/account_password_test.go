package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// A user changes their own password on the page linked from the header:
// the current password is required (a wrong one keeps nothing and says
// so), the two new ones must agree, and afterwards every other session
// and every API token of the account has ended while this browser stays
// signed in.
func TestPasswordChange(t *testing.T) {
	e := newEnv(t)
	wanda, _ := e.login("wanda", "correct horse wanda")
	other := e.as("wanda")
	tok := e.apiToken("wanda")
	w := wanda.get("/incidents")
	if !strings.Contains(w.Body.String(), `href="/account/password"`) {
		t.Fatal("no link to the password page in the header")
	}
	wantStatus(t, wanda.get("/account/password"), http.StatusOK)
	w = wanda.post("/account/password", "current", "wrong", "new", "a new long password", "confirm", "a new long password")
	wantStatus(t, w, http.StatusUnprocessableEntity)
	if !strings.Contains(w.Body.String(), `id="password-error"`) {
		t.Fatal("no error beside the field")
	}
	wantStatus(t, wanda.post("/account/password", "current", "correct horse wanda", "new", "a new long password", "confirm", "another"), http.StatusUnprocessableEntity)
	wantStatus(t, wanda.post("/account/password", "current", "correct horse wanda", "new", "short", "confirm", "short"), http.StatusUnprocessableEntity)
	wantRedirect(t, wanda.post("/account/password", "current", "correct horse wanda", "new", "a new long password", "confirm", "a new long password"),
		"/account/password?done=account_password_changed")
	wantStatus(t, wanda.get("/incidents"), http.StatusOK)
	wantRedirect(t, other.get("/incidents"), "/login")
	wantAPIError(t, e.bearerClient(tok).api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusUnauthorized, "unauthorized")
	if _, res := e.login("wanda", "a new long password"); res.Header.Get("Location") != "/" {
		t.Fatalf("sign-in with the new password: %q", res.Header.Get("Location"))
	}
	// The API: the current password is required there too.
	otto := e.bearerClient(e.apiToken("otto"))
	wantAPIError(t, otto.api(http.MethodPost, "/api/v1/account/password", `{"current":"wrong","new":"a new long password"}`, nil), http.StatusForbidden, "wrong_password")
	wantStatus(t, otto.api(http.MethodPost, "/api/v1/account/password", `{"current":"correct horse otto","new":"a new long password"}`, nil), http.StatusOK)
}

var otpPattern = regexp.MustCompile(`data-testid="one-time-password">([a-z0-9-]+)<`)

// An admin resets a worker's password: the one-time password is shown
// once, works at once, and the next sign-in must change it before
// anything else. For a supervisor the reset waits for a second person:
// the admin who signs in with the one-time password is refused until a
// supervisor approves on the account approvals page.
func TestAdminResetsPassword(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	e.enroll("susi")
	e.enroll("sven")
	adam := e.as("adam")
	w := adam.post("/admin/users/wanda/password/reset")
	wantStatus(t, w, http.StatusOK)
	m := otpPattern.FindStringSubmatch(w.Body.String())
	if m == nil || strings.Contains(w.Body.String(), `data-testid="reset-pending"`) {
		t.Fatalf("no one-time password shown, or shown as pending:\n%s", w.Body.String())
	}
	wanda, res := e.login("wanda", m[1])
	if res.Header.Get("Location") != "/" {
		t.Fatalf("sign-in with the one-time password: %q", res.Header.Get("Location"))
	}
	wantRedirect(t, wanda.get("/incidents"), "/account/password")
	w = wanda.get("/account/password")
	if !strings.Contains(w.Body.String(), `data-testid="password-forced"`) {
		t.Fatal("the forced change is not explained")
	}
	wantRedirect(t, wanda.post("/account/password", "current", m[1], "new", "my own long password", "confirm", "my own long password"), "/account/password?done=account_password_changed")
	wantStatus(t, wanda.get("/incidents"), http.StatusOK)

	// A supervisor: waits for approval.
	w = adam.post("/admin/users/susi/password/reset")
	wantStatus(t, w, http.StatusOK)
	m = otpPattern.FindStringSubmatch(w.Body.String())
	if m == nil || !strings.Contains(w.Body.String(), `data-testid="reset-pending"`) {
		t.Fatal("a supervisor's reset is not shown as waiting for approval")
	}
	if _, res := e.login("susi", m[1]); res.Header.Get("Location") == "/" || res.Header.Get("Location") == "/login/second-factor" {
		t.Fatalf("the admin signed in as the supervisor without approval: %q", res.Header.Get("Location"))
	}
	// The admin cannot approve it; the page says why and offers no form.
	w = adam.get("/account-requests")
	if strings.Contains(w.Body.String(), `/decide"`) {
		t.Fatal("the requester is offered the decision")
	}
	reqs, err := e.svc.AccountRequests(e.ctx, e.users["adam"].Actor(), incident.AccountRequestFilter{State: incident.RequestPending})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending: %+v, %v", reqs, err)
	}
	wantStatus(t, adam.post("/account-requests/"+reqs[0].ID+"/decide", "decision", "approve", "reason", "selbst", "code", e.code("adam")), http.StatusForbidden)
	sven := e.as("sven")
	w = sven.get("/account-requests")
	if !strings.Contains(w.Body.String(), `action="/account-requests/`+reqs[0].ID+`/decide"`) {
		t.Fatal("the supervisor is not offered the decision")
	}
	// A wrong code keeps the reason and the choice.
	w = sven.post("/account-requests/"+reqs[0].ID+"/decide", "decision", "approve", "reason", "am Telefon bestätigt", "code", "000000")
	wantStatus(t, w, http.StatusUnprocessableEntity)
	if !strings.Contains(w.Body.String(), "am Telefon bestätigt") {
		t.Fatal("the reason was lost after a wrong code")
	}
	wantRedirect(t, sven.post("/account-requests/"+reqs[0].ID+"/decide", "decision", "approve", "reason", "am Telefon bestätigt", "code", e.code("sven")),
		"/account-requests?done=account_request_decided")
	if _, res := e.login("susi", m[1]); res.Header.Get("Location") != "/login/second-factor" {
		t.Fatalf("after approval: %q, want the second factor next", res.Header.Get("Location"))
	}
}

// The approval page warns when the approver's account was created by the
// requester (an admin who made a supervisor account to approve through).
func TestAccountApprovalWarnings(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	adam := e.as("adam")
	wantRedirect(t, adam.post("/admin/users", "username", "mallory", "role", "supervisor", "password", "correct horse mallory"), "/admin/users?done=account_approval_requested")
	if _, res := e.login("mallory", "correct horse mallory"); res.Header.Get("Location") == "/" || strings.HasPrefix(res.Header.Get("Location"), "/login/second-factor") {
		t.Fatal("an admin-made supervisor signs in without approval")
	}
	// Mallory approved by susi; then the admin grants otto a role, and
	// mallory looks at the request: warned.
	reqs, _ := e.svc.AccountRequests(e.ctx, e.users["susi"].Actor(), incident.AccountRequestFilter{State: incident.RequestPending})
	if _, err := e.svc.DecideAccountRequest(e.ctx, e.users["susi"].Actor(), reqs[0].ID, true, "ok", e.stepUpCode("susi")); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, adam.post("/admin/users/otto/role", "role", "supervisor"), "/admin/users?done=account_approval_requested")
	u, err := e.svc.Users(e.ctx, incident.System)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range u {
		if x.Username == "mallory" {
			e.users["mallory"] = x
		}
	}
	w := e.as("mallory").get("/account-requests")
	if n := strings.Count(w.Body.String(), `data-testid="approver-warning"`); n != 1 {
		t.Fatalf("%d warnings, want one (created by the requester)", n)
	}
}

// The approval inbox warns a supervisor whose account is younger than
// the request they are about to decide: the pattern of one person who
// makes a second account to approve their own request.
func TestDecisionWarnsYoungerApprover(t *testing.T) {
	e := newEnv(t)
	id := e.flag(e.as("wanda"), "wamidyoung", "violence")
	e.clock.Advance(time.Hour)
	u, err := e.svc.AddUser(e.ctx, incident.System, incident.NewUser{Username: "neu", Role: incident.RoleSupervisor, Password: "correct horse neu"})
	if err != nil {
		t.Fatal(err)
	}
	e.users["neu"] = u
	w := e.as("neu").get("/approvals")
	if n := strings.Count(w.Body.String(), `data-testid="approver-warning"`); n != 1 {
		t.Fatalf("%d warnings in the inbox, want one", n)
	}
	if w := e.as("susi").get("/incidents/" + id); strings.Contains(w.Body.String(), `data-testid="approver-warning"`) {
		t.Fatal("a supervisor older than the request is warned")
	}
}
