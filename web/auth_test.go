package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

func (e *env) login(name, pw string) (*client, *http.Response) {
	c := e.anon()
	wantStatus(e.t, c.get("/login"), http.StatusOK)
	w := c.post("/login", "username", name, "password", pw)
	if loc := w.Header().Get("Location"); w.Code == http.StatusSeeOther {
		c.get(loc) // as a browser does; picks up the session's CSRF token
	}
	return c, w.Result()
}

func TestWorkerSignInWithoutSecondFactor(t *testing.T) {
	e := newEnv(t)
	c, res := e.login("wanda", "correct horse wanda")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "tresor" && (!ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure) {
			t.Fatalf("session cookie attributes: %+v", ck)
		}
	}
	wantStatus(t, c.get("/incidents"), http.StatusOK)
	// Only the token's hash is stored.
	tok := c.cookies["tresor"]
	if _, err := e.store.Session(e.ctx, tok); err == nil {
		t.Fatal("the raw token finds a session")
	}
	if _, err := e.store.Session(e.ctx, account.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, c.post("/logout"), "/login")
	wantRedirect(t, c.get("/incidents"), "/login")
	if _, err := e.store.Session(e.ctx, account.HashToken(tok)); err == nil {
		t.Fatal("session survives logout")
	}
}

func TestLoginCSRF(t *testing.T) {
	e := newEnv(t)
	c := e.anon()
	c.get("/login")
	c.csrf = "forged"
	wantStatus(t, c.post("/login", "username", "wanda", "password", "correct horse wanda"), http.StatusForbidden)
}

var keyPattern = regexp.MustCompile(`class="key">([A-Z2-7 ]+)</code>`)

func TestSupervisorEnrolsAndSignsInWithTOTP(t *testing.T) {
	e := newEnv(t)
	c, res := e.login("susi", "correct horse susi")
	if res.Header.Get("Location") != "/account/second-factor" {
		t.Fatalf("login without factor goes to %q", res.Header.Get("Location"))
	}
	// Until enrolled, nothing else is reachable.
	wantRedirect(t, c.get("/approvals"), "/account/second-factor")
	w := c.get("/account/second-factor")
	wantStatus(t, w, http.StatusOK)
	m := keyPattern.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatal("no key on the setup page")
	}
	key, err := account.B32.DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	sealed := regexp.MustCompile(`name="sealed" value="([^"]+)"`).FindStringSubmatch(w.Body.String())[1]
	wantStatus(t, c.post("/account/second-factor", "sealed", sealed, "code", "123456"), http.StatusBadRequest)
	code := account.HOTP(key, uint64(account.TOTPStep(e.clock.Now())), account.TOTPDigits)
	w = c.post("/account/second-factor", "sealed", sealed, "code", code)
	wantStatus(t, w, http.StatusOK)
	codes := regexp.MustCompile(`<li class="mono">([a-z2-7-]{14})</li>`).FindAllStringSubmatch(w.Body.String(), -1)
	if len(codes) != account.RecoveryCount {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	wantStatus(t, c.get("/approvals"), http.StatusOK)
	f, err := e.store.SecondFactor(e.ctx, e.users["susi"].ID)
	if err != nil || strings.Contains(f.SecretSealed, account.B32.EncodeToString(key)) {
		t.Fatalf("stored factor: %+v, %v", f, err)
	}

	// Sign in again: password, then the code; the enrolment code is spent.
	c, res = e.login("susi", "correct horse susi")
	if res.Header.Get("Location") != "/login/second-factor" {
		t.Fatalf("login goes to %q", res.Header.Get("Location"))
	}
	wantRedirect(t, c.get("/approvals"), "/login/second-factor")
	wantStatus(t, c.post("/login/second-factor", "code", code), http.StatusUnauthorized)
	e.clock.Advance(30 * time.Second)
	code = account.HOTP(key, uint64(account.TOTPStep(e.clock.Now())), account.TOTPDigits)
	wantRedirect(t, c.post("/login/second-factor", "code", code), "/")
	wantStatus(t, c.get("/approvals"), http.StatusOK)

	// A recovery code works once.
	c, _ = e.login("susi", "correct horse susi")
	wantRedirect(t, c.post("/login/second-factor", "code", strings.ToUpper(codes[0][1])), "/")
	c, _ = e.login("susi", "correct horse susi")
	wantStatus(t, c.post("/login/second-factor", "code", codes[0][1]), http.StatusUnauthorized)

	// The admin resets the factor and another supervisor approves (a
	// supervisor's reset needs a second person): sessions end, enrolment
	// is due again.
	e.enroll("adam")
	wantRedirect(t, e.as("adam").post("/admin/users/susi/second-factor/reset"), "/admin/users?done=account_approval_requested")
	reqs, err := e.svc.AccountRequests(e.ctx, e.users["sven"].Actor(), incident.AccountRequestFilter{State: incident.RequestPending})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending: %+v, %v", reqs, err)
	}
	if _, err := e.svc.DecideAccountRequest(e.ctx, e.users["sven"].Actor(), reqs[0].ID, true, "bestätigt", e.stepUpCode("sven")); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, c.get("/approvals"), "/login")
	_, res = e.login("susi", "correct horse susi")
	if res.Header.Get("Location") != "/account/second-factor" {
		t.Fatalf("after reset login goes to %q", res.Header.Get("Location"))
	}
}

func TestSecondFactorLockout(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	c, _ := e.login("susi", "correct horse susi")
	for i := 1; i < maxFailures; i++ {
		wantStatus(t, c.post("/login/second-factor", "code", "000000"), http.StatusUnauthorized)
	}
	wantStatus(t, c.post("/login/second-factor", "code", "000000"), http.StatusTooManyRequests)
	wantRedirect(t, c.get("/login/second-factor"), "/login")
	c, _ = e.login("susi", "correct horse susi")
	wantStatus(t, c.post("/login/second-factor", "code", e.code("susi")), http.StatusTooManyRequests)
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t)
	c := e.as("wanda")
	e.clock.Advance(idleTimeout + time.Second)
	wantRedirect(t, c.get("/incidents"), "/login")

	c = e.as("wanda")
	for range 36 { // 12 h in 20-minute steps, never idle
		e.clock.Advance(20 * time.Minute)
		wantStatus(t, c.get("/incidents"), http.StatusOK)
	}
	e.clock.Advance(20 * time.Minute)
	wantRedirect(t, c.get("/incidents"), "/login")
}

func TestDisablingRevokesSessions(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	otto := e.as("otto")
	wantStatus(t, otto.get("/incidents"), http.StatusOK)
	wantRedirect(t, e.as("adam").post("/admin/users/otto/disabled", "disabled", "true"), "/admin/users")
	wantRedirect(t, otto.get("/incidents"), "/login")
	if _, res := e.login("otto", "correct horse otto"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("disabled user signs in: %d", res.StatusCode)
	}
}
