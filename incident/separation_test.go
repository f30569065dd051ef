package incident_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// The rules of account requests, decider by decider: another admin or a
// supervisor decides, never the requester, never the account concerned,
// never a worker or an auditor; with a reason, once, before expiry.
func TestAccountRequestRules(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		admin2 := w.user("ada", incident.RoleAdmin)
		w.enroll(admin2.ID)
		w.enroll(w.admin.ID)
		for _, tc := range []struct {
			name    string
			decider incident.Actor
			reason  string
			advance time.Duration
			twice   bool
			want    error
		}{
			{"another admin", admin2, "geprüft", 0, false, nil},
			{"a supervisor", w.sup2, "geprüft", 0, false, nil},
			{"the requester", w.admin, "selbst", 0, false, incident.ErrSelfApproval},
			{"the account concerned", w.sup1, "meins", 0, false, incident.ErrAffectedAccount},
			{"a worker", w.worker, "x", 0, false, incident.ErrForbidden},
			{"an auditor", w.audit, "x", 0, false, incident.ErrForbidden},
			{"no reason", w.sup2, " ", 0, false, incident.ErrReasonRequired},
			{"after expiry", w.sup2, "zu spät", 25 * time.Hour, false, incident.ErrExpired},
			{"twice", w.sup2, "nochmal", 0, true, incident.ErrAlreadyDecided},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ch, err := w.svc.ResetPassword(w.ctx, w.admin, "susi")
				if err != nil || !ch.Pending() {
					t.Fatalf("reset of a supervisor: %+v, %v; want a request", ch, err)
				}
				w.clock.Advance(tc.advance)
				if tc.twice {
					if _, err := w.svc.DecideAccountRequest(w.ctx, admin2, ch.Request.ID, false, "nein", w.code(admin2)); err != nil {
						t.Fatal(err)
					}
				}
				r, err := w.svc.DecideAccountRequest(w.ctx, tc.decider, ch.Request.ID, true, tc.reason, w.code(tc.decider))
				if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if tc.want == nil && r.State != incident.RequestApproved {
					t.Fatalf("state %s, want approved", r.State)
				}
				if tc.want != nil {
					if _, err := w.svc.Authenticate(w.ctx, "susi", ch.Password); !errors.Is(err, incident.ErrBadCredentials) {
						t.Fatalf("one-time password works without approval: %v", err)
					}
				}
			})
		}
		if !slices.Contains(w.actionsAll(), string(incident.ActionAccountRequestExpired)) {
			t.Error("expiry not audited")
		}
	})
}

// Attack: an admin creates a supervisor account and approves through it.
// The account cannot sign in until a second person approves; the admin
// cannot approve it themselves.
func TestAdminCreatesSupervisorNeedsApproval(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		w.enroll(w.admin.ID)
		u, err := w.svc.AddUser(w.ctx, w.admin, incident.NewUser{Username: "mallory", Role: incident.RoleSupervisor, Password: "correct horse mallory"})
		if err != nil {
			t.Fatal(err)
		}
		if !u.NeedsApproval || u.CreatedBy != w.admin.ID {
			t.Fatalf("new supervisor: %+v, want it waiting for approval, created by the admin", u)
		}
		if _, err := w.svc.Authenticate(w.ctx, "mallory", "correct horse mallory"); !errors.Is(err, incident.ErrBadCredentials) {
			t.Fatalf("sign-in before approval: %v, want refused", err)
		}
		reqs, err := w.svc.AccountRequests(w.ctx, w.sup1, incident.AccountRequestFilter{State: incident.RequestPending, SubjectID: u.ID})
		if err != nil || len(reqs) != 1 || reqs[0].Kind != incident.AccountCreate {
			t.Fatalf("pending requests: %+v, %v", reqs, err)
		}
		_, err = w.svc.DecideAccountRequest(w.ctx, w.admin, reqs[0].ID, true, "passt", w.code(w.admin))
		wantErr(t, err, incident.ErrSelfApproval)
		// The same person's second, older admin account: approving warns.
		warn := incident.ApproverWarnings(incident.User{ID: "x", CreatedBy: w.admin.ID, CreatedAt: w.clock.Now().Add(time.Minute)}, w.admin.ID, reqs[0].CreatedAt)
		if !slices.Equal(warn, []incident.ApproverWarning{incident.WarnApproverYounger, incident.WarnCreatedByRequester}) {
			t.Fatalf("warnings %v", warn)
		}
		if _, err := w.svc.DecideAccountRequest(w.ctx, w.sup1, reqs[0].ID, true, "neue Leitung bestätigt", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Authenticate(w.ctx, "mallory", "correct horse mallory"); err != nil {
			t.Fatalf("sign-in after approval: %v", err)
		}
		// At the console (set-up trust) an approving account is made at once.
		c, err := w.svc.AddUser(w.ctx, incident.System, incident.NewUser{Username: "erste", Role: incident.RoleAuditor, Password: "correct horse erste"})
		if err != nil || c.NeedsApproval {
			t.Fatalf("console: %+v, %v", c, err)
		}
	})
}

// Attack: an admin resets a supervisor's password and signs in with it.
// Without approval the one-time password does not work and the old one
// still does; approval applies it, ends the supervisor's sessions and
// tokens, and forces a change at the next sign-in.
func TestAdminResetsSupervisorPasswordNeedsApproval(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		acc := w.store.Accounts()
		now := w.clock.Now()
		if err := acc.CreateAPIToken(w.ctx, account.APIToken{ID: "t1", UserID: w.sup1.ID, Name: "x", TokenHash: "h1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ch, err := w.svc.ResetPassword(w.ctx, w.admin, "susi")
		if err != nil || !ch.Pending() || len(ch.Password) != 23 {
			t.Fatalf("reset: %+v, %v", ch, err)
		}
		if _, err := w.svc.Authenticate(w.ctx, "susi", ch.Password); !errors.Is(err, incident.ErrBadCredentials) {
			t.Fatalf("one-time password before approval: %v, want refused", err)
		}
		if _, err := w.svc.Authenticate(w.ctx, "susi", "correct horse susi"); err != nil {
			t.Fatalf("old password before approval: %v", err)
		}
		if tok, _ := acc.APITokenByHash(w.ctx, "h1"); !tok.Active(w.clock.Now()) {
			t.Fatal("token ended before approval")
		}
		if _, err := w.svc.DecideAccountRequest(w.ctx, w.sup2, ch.Request.ID, true, "Passwort vergessen, telefonisch bestätigt", w.code(w.sup2)); err != nil {
			t.Fatal(err)
		}
		u, err := w.svc.Authenticate(w.ctx, "susi", ch.Password)
		if err != nil || !u.MustChangePassword || u.ResetBy != w.admin.ID {
			t.Fatalf("after approval: %+v, %v; want a forced change, reset by the admin", u, err)
		}
		if tok, _ := acc.APITokenByHash(w.ctx, "h1"); tok.Active(w.clock.Now()) {
			t.Fatal("token survived the reset")
		}
		if _, err := w.svc.ChangePassword(w.ctx, u.Actor(), ch.Password, "a new long password"); err != nil {
			t.Fatal(err)
		}
		if u, err := w.svc.Authenticate(w.ctx, "susi", "a new long password"); err != nil || u.MustChangePassword {
			t.Fatalf("after the change: %+v, %v", u, err)
		}
		// A worker's password is reset at once, by the admin alone.
		wch, err := w.svc.ResetPassword(w.ctx, w.admin, "wanda")
		if err != nil || wch.Pending() {
			t.Fatalf("worker reset: %+v, %v", wch, err)
		}
		if _, err := w.svc.Authenticate(w.ctx, "wanda", wch.Password); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.ResetPassword(w.ctx, w.admin, "adam")
		wantErr(t, err, incident.ErrForbidden)
		// At the server's console (set-up trust) it applies at once.
		if cch, err := w.svc.ResetPassword(w.ctx, incident.System, "sven"); err != nil || cch.Pending() || !cch.User.MustChangePassword {
			t.Fatalf("console reset: %+v, %v", cch, err)
		}
		_, err = w.svc.ResetPassword(w.ctx, w.sup1, "wanda")
		wantErr(t, err, incident.ErrForbidden)
	})
}

// Granting an approving role opens a request; the role changes when a
// second person approves.
func TestGrantingSupervisorNeedsApproval(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		ch, err := w.svc.SetUserRole(w.ctx, w.admin, "otto", incident.RoleSupervisor)
		if err != nil || !ch.Pending() || ch.User.Role != incident.RoleWorker {
			t.Fatalf("grant: %+v, %v", ch, err)
		}
		if _, err := w.svc.DecideAccountRequest(w.ctx, w.other, ch.Request.ID, true, "ich", "000000"); !errors.Is(err, incident.ErrForbidden) {
			t.Fatalf("the worker concerned: %v", err)
		}
		if _, err := w.svc.DecideAccountRequest(w.ctx, w.sup1, ch.Request.ID, true, "ok", w.wrongCode(w.sup1)); !errors.Is(err, incident.ErrStepUpFailed) {
			t.Fatalf("wrong code: %v", err)
		}
		if _, err := w.svc.DecideAccountRequest(w.ctx, w.sup1, ch.Request.ID, true, "neue Leitung", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		u, err := w.svc.User(w.ctx, w.admin, w.other.ID)
		if err != nil || u.Role != incident.RoleSupervisor {
			t.Fatalf("after approval: %+v, %v", u, err)
		}
		ch, err = w.svc.ResetSecondFactor(w.ctx, w.admin, "sven")
		if err != nil || !ch.Pending() {
			t.Fatalf("second-factor reset of a supervisor: %+v, %v", ch, err)
		}
		w.verify()
	})
}

// A user changes their own password with the current one; a wrong one
// changes nothing.
func TestChangePassword(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		_, err := w.svc.ChangePassword(w.ctx, w.worker, "wrong", "another long password")
		wantErr(t, err, incident.ErrWrongPassword)
		_, err = w.svc.ChangePassword(w.ctx, w.worker, "correct horse wanda", "short")
		wantErr(t, err, incident.ErrInvalidInput)
		if _, err := w.svc.ChangePassword(w.ctx, w.worker, "correct horse wanda", "another long password"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Authenticate(w.ctx, "wanda", "another long password"); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(w.actionsAll(), string(incident.ActionUserPasswordChanged)) {
			t.Error("change not audited")
		}
		// Guessing the current password through a stolen session locks
		// changing after five wrong ones, even for the right one.
		for i := 0; i < incident.StepUpMaxFailures; i++ {
			_, err := w.svc.ChangePassword(w.ctx, w.other, "guess", "another long password")
			wantErr(t, err, incident.ErrWrongPassword)
		}
		_, err = w.svc.ChangePassword(w.ctx, w.other, "correct horse otto", "another long password")
		wantErr(t, err, incident.ErrWrongPassword)
		w.clock.Advance(incident.StepUpLockout)
		if _, err := w.svc.ChangePassword(w.ctx, w.other, "correct horse otto", "another long password"); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
	})
}
