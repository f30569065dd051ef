package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// slowDowns records the answer delays the service asks for instead of
// sleeping, so that the tests wait for nothing.
type slowDowns struct {
	mu sync.Mutex
	n  int
}

func (s *slowDowns) wait(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return nil
}

func (s *slowDowns) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }

// restart replaces the service and the web server by new ones over the
// same database, as a restarted process would have, recording delays.
func (e *env) restart(rec *slowDowns) {
	e.t.Helper()
	e.svc = incident.NewService(e.store, e.svc.Policy(), fakeVault{}, fakeMessenger{}, incident.WithClock(e.clock.Now),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}), incident.WithFactors(e.factors()), incident.WithWait(rec.wait))
	e.serve(false)
}

// lockOut signs in as name with wrong passwords from the test's one
// client address, waiting out each refusal window (Retry-After), until
// the account is locked; it returns how many were checked.
func (e *env) lockOut(name string) int {
	e.t.Helper()
	checked := 0
	for range 100 {
		_, res := e.login(name, "wrong")
		switch res.StatusCode {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
			if err != nil || secs < 1 {
				e.t.Fatalf("refusal without a usable Retry-After: %q", res.Header.Get("Retry-After"))
			}
			e.clock.Advance(time.Duration(secs) * time.Second)
		case http.StatusLocked:
			return checked
		default:
			e.t.Fatalf("wrong password answered %d", res.StatusCode)
		}
	}
	e.t.Fatalf("%s not locked after %d failures", name, checked)
	return 0
}

// One worker's failures lock their own account only: a colleague behind
// the same address signs in; the lock outlives a restart, and an admin
// unlocks it on the accounts page.
func TestColleagueSignsInWhileAccountLocked(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, false, d)
			rec := &slowDowns{}
			e.restart(rec)
			if n := e.lockOut("otto"); n != incident.SignInLockFailures {
				t.Fatalf("locked after %d failures, want %d", n, incident.SignInLockFailures)
			}
			c := e.anon()
			c.get("/login")
			w := c.post("/login", "username", "otto", "password", "correct horse otto")
			wantStatus(t, w, http.StatusLocked)
			if body := w.Body.String(); !strings.Contains(body, `value="otto"`) || !strings.Contains(body, "IT") {
				t.Fatalf("the locked page neither keeps the name nor says whom to ask:\n%s", body)
			}
			if rec.count() == 0 {
				t.Fatal("twenty failures from one address did not slow it down")
			}
			// Same address, colleague, right password: signed in.
			if _, res := e.login("wanda", "correct horse wanda"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
				t.Fatalf("colleague at the same address: %d %q", res.StatusCode, res.Header.Get("Location"))
			}

			e.restart(rec)
			if _, res := e.login("otto", "correct horse otto"); res.StatusCode != http.StatusLocked {
				t.Fatalf("after a restart: %d", res.StatusCode)
			}
			adam := e.as("adam")
			page := adam.get("/admin/users").Body.String()
			if !strings.Contains(page, `action="/admin/users/otto/unlock"`) || strings.Contains(page, `action="/admin/users/wanda/unlock"`) {
				t.Fatalf("accounts page does not offer to unlock exactly the locked account:\n%s", page)
			}
			wantStatus(t, e.as("susi").post("/admin/users/otto/unlock"), http.StatusForbidden)
			wantRedirect(t, adam.post("/admin/users/otto/unlock"), "/admin/users?done=user_updated")
			if _, res := e.login("otto", "correct horse otto"); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("after unlock: %d", res.StatusCode)
			}
			var got apiUnlocked
			wantStatus(t, e.bearerClient(e.apiToken("adam")).api(http.MethodPost, "/api/v1/users/otto/unlock", "", &got), http.StatusOK)
			if got.WasLocked {
				t.Fatal("API says an unlocked account was locked")
			}
			e.lockOut("otto")
			wantStatus(t, e.bearerClient(e.apiToken("adam")).api(http.MethodPost, "/api/v1/users/otto/unlock", "", &got), http.StatusOK)
			if !got.WasLocked {
				t.Fatal("API says a locked account was not locked")
			}
			wantStatus(t, e.bearerClient(e.apiToken("wanda")).api(http.MethodPost, "/api/v1/users/otto/unlock", "", nil), http.StatusForbidden)
			if _, res := e.login("otto", "correct horse otto"); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("after the API's unlock: %d", res.StatusCode)
			}
		})
	}
}

// A few typos open a short refusal window for that account, with the
// seconds to wait on the page; the right password works after it.
func TestPasswordRefusalWindow(t *testing.T) {
	e := newEnv(t)
	e.restart(&slowDowns{})
	for range incident.SignInSlowAfter {
		if _, res := e.login("wanda", "wrong"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("typo: %d", res.StatusCode)
		}
	}
	c := e.anon()
	c.get("/login")
	w := c.post("/login", "username", "wanda", "password", "correct horse wanda")
	wantStatus(t, w, http.StatusTooManyRequests)
	secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
	want := " " + strconv.Itoa(secs) + " Sekunden"
	if secs == 1 {
		want = " eine Sekunde "
	}
	if err != nil || !strings.Contains(w.Body.String(), want) {
		t.Fatalf("Retry-After %q, page does not name the seconds:\n%s", w.Header().Get("Retry-After"), w.Body.String())
	}
	e.clock.Advance(time.Duration(secs) * time.Second)
	if _, res := e.login("wanda", "correct horse wanda"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", res.StatusCode)
	}
}
