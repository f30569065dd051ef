package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// The attack from the security review: with a supervisor's token, wrong
// step-up codes sent as fast as possible. After five the account's
// approvals lock for 15 minutes, even for the right code, on the API and
// the page alike; signing in keeps working, so a stolen token cannot
// lock its owner out of everything.
func TestStepUpGuessingLocks(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, false, d)
			e.enroll("susi")
			id := e.flag(e.as("wanda"), "wamid1", "violence")
			req := e.pending(id)
			api := e.bearerClient(e.apiToken("susi"))
			decide := func(code string) *httptest.ResponseRecorder {
				return api.api(http.MethodPost, "/api/v1/requests/"+req.ID+"/decide",
					fmt.Sprintf(`{"decision":"approve","reason":"geprüft","code":%q}`, code), nil)
			}
			for i := range 300 {
				w := decide(fmt.Sprintf("%06d", i))
				want := http.StatusForbidden
				if i >= incident.StepUpMaxFailures {
					want = http.StatusTooManyRequests
				}
				if w.Code != want {
					t.Fatalf("wrong code %d: %d, want %d: %s", i+1, w.Code, want, w.Body.String())
				}
			}
			wantAPIError(t, decide(e.code("susi")), http.StatusTooManyRequests, "step_up_locked")
			w := e.as("susi").post("/requests/"+req.ID+"/decide", "decision", "approve", "reason", "ok", "code", e.code("susi"))
			wantStatus(t, w, http.StatusTooManyRequests)
			if r := e.pending(id); len(r.Decisions) != 0 {
				t.Fatalf("a decision got through the lock: %+v", r.Decisions)
			}
			// Signing in is not locked.
			c, res := e.login("susi", "correct horse susi")
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in while step-up is locked: %d", res.StatusCode)
			}
			e.clock.Advance(30 * time.Second)
			wantRedirect(t, c.post("/login/second-factor", "code", e.code("susi")), "/")
			// The lock ends by itself.
			e.clock.Advance(incident.StepUpLockout)
			w = decide(e.code("susi"))
			wantStatus(t, w, http.StatusOK)
			n := 0
			trail, err := e.svc.Trail(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range trail {
				if en.Action == string(incident.AuthStepUpFailed) {
					n++
				}
			}
			if n != incident.StepUpMaxFailures {
				t.Errorf("%d step-up failures audited, want %d", n, incident.StepUpMaxFailures)
			}
		})
	}
}
