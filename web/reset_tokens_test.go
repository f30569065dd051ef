package web

import (
	"net/http"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// An admin's reset of a second factor ends the account's API tokens as
// well as its sessions: whoever stole the factor may hold a token too.
// (The security review found both tokens still answering 200.)
func TestSecondFactorResetEndsAPITokens(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, false, d)
			e.enroll("susi")
			e.enroll("adam")
			tokens := []string{e.apiToken("susi"), e.apiToken("susi")}
			for _, tok := range tokens {
				wantStatus(t, e.bearerClient(tok).get("/api/v1/requests"), http.StatusOK)
			}
			// A supervisor's reset waits for a second person: the tokens
			// work until then, and end with the approval.
			wantRedirect(t, e.as("adam").post("/admin/users/susi/second-factor/reset"), "/admin/users?done=account_approval_requested")
			for _, tok := range tokens {
				wantStatus(t, e.bearerClient(tok).get("/api/v1/requests"), http.StatusOK)
			}
			reqs, err := e.svc.AccountRequests(e.ctx, e.users["sven"].Actor(), incident.AccountRequestFilter{State: incident.RequestPending})
			if err != nil || len(reqs) != 1 {
				t.Fatalf("pending: %+v, %v", reqs, err)
			}
			if _, err := e.svc.DecideAccountRequest(e.ctx, e.users["sven"].Actor(), reqs[0].ID, true, "bestätigt", e.stepUpCode("sven")); err != nil {
				t.Fatal(err)
			}
			for i, tok := range tokens {
				if w := e.bearerClient(tok).get("/api/v1/requests"); w.Code != http.StatusUnauthorized {
					t.Errorf("token %d after the reset: %d, want 401", i, w.Code)
				}
			}
		})
	}
}
