package web

import (
	"net/http"
	"testing"

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
			wantRedirect(t, e.as("adam").post("/admin/users/susi/second-factor/reset"), "/admin/users")
			for i, tok := range tokens {
				if w := e.bearerClient(tok).get("/api/v1/requests"); w.Code != http.StatusUnauthorized {
					t.Errorf("token %d after the reset: %d, want 401", i, w.Code)
				}
			}
		})
	}
}
