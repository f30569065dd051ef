package incident_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

// accountEntries returns the audit entries (of no incident) with the
// given action about the account request id.
func (w *world) accountEntries(action, id string) []audit.Entry {
	w.t.Helper()
	var out []audit.Entry
	for _, e := range w.entries("", action) {
		if e.Details["request_id"] == id {
			out = append(out, e)
		}
	}
	return out
}

// accountRequest reads an account request as an admin sees it.
func (w *world) accountRequest(id string) incident.AccountRequest {
	w.t.Helper()
	rs, err := w.svc.AccountRequests(w.ctx, w.admin, incident.AccountRequestFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	w.t.Fatalf("no account request %s", id)
	return incident.AccountRequest{}
}

// pendingReset has the admin reset name's password, which opens an
// account request (name's role approves).
func (w *world) pendingReset(name string) incident.AccountChange {
	w.t.Helper()
	ch, err := w.svc.ResetPassword(w.ctx, w.admin, name)
	if err != nil || !ch.Pending() {
		w.t.Fatalf("reset of %s: %+v, %v; want a request", name, ch, err)
	}
	return ch
}

// The people who may decide a new account request are told, each by a
// mail with the fixed text and a link to the request: other admins and
// supervisors. Never the requester, the account concerned, a disabled
// account, an account still waiting for its own approval, a worker or
// an auditor. No mail names the account or carries anything typed.
func TestAccountRequestTellsDeciders(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		mem := withMail(w)
		w.user("ada", incident.RoleAdmin)
		for _, name := range []string{"dora", "sabine"} {
			role := incident.RoleAdmin
			if name == "sabine" {
				role = incident.RoleSupervisor
			}
			w.user(name, role)
			if _, err := w.svc.SetUserDisabled(w.ctx, incident.System, name, true); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"ada", "dora", "sabine"} {
			if _, err := w.svc.SetUserEmail(w.ctx, incident.System, name, name+"@example.org"); err != nil {
				t.Fatal(err)
			}
		}
		opened := func(ch incident.AccountChange, err error) (string, error) {
			if err == nil && !ch.Pending() {
				err = errors.New("applied at once, want a request")
			}
			if err != nil {
				return "", err
			}
			return ch.Request.ID, nil
		}
		for _, tc := range []struct {
			name string
			open func() (string, error)
			want []string
		}{
			{"new admin account", func() (string, error) {
				u, err := w.svc.AddUser(w.ctx, w.admin, incident.NewUser{Username: "neu", DisplayName: "Nelly Neumann", Role: incident.RoleAdmin,
					Password: "correct horse neu", Email: "neu@example.org"})
				if err != nil {
					return "", err
				}
				rs, err := w.svc.AccountRequests(w.ctx, w.admin, incident.AccountRequestFilter{SubjectID: u.ID})
				if err != nil || len(rs) != 1 {
					return "", errors.Join(err, errors.New("no request for the new account"))
				}
				return rs[0].ID, nil
			}, []string{"ada@example.org", "susi@example.org", "sven@example.org"}},
			// neu waits for approval: it cannot sign in, so it is not told.
			{"supervisor's password", func() (string, error) { return opened(w.svc.ResetPassword(w.ctx, w.admin, "susi")) },
				[]string{"ada@example.org", "sven@example.org"}},
			{"worker made supervisor", func() (string, error) {
				return opened(w.svc.SetUserRole(w.ctx, w.admin, "otto", incident.RoleSupervisor))
			}, []string{"ada@example.org", "susi@example.org", "sven@example.org"}},
			{"admin's second factor", func() (string, error) { return opened(w.svc.ResetSecondFactor(w.ctx, w.admin, "ada")) },
				[]string{"susi@example.org", "sven@example.org"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				mark := len(mem.Sent())
				id, err := tc.open()
				if err != nil {
					t.Fatal(err)
				}
				w.runJobs()
				sent := mem.Sent()[mark:]
				if got := recipients(sent); !slices.Equal(got, tc.want) {
					t.Fatalf("told %v, want %v", got, tc.want)
				}
				link := publicURL + "/account-requests#account-request-" + id + "\n"
				for _, m := range sent {
					if !strings.Contains(m.Text, link) || !strings.Contains(m.Subject, "Kontoänderung") {
						t.Errorf("mail lacks the subject or the request's link:\n%s\n%s", m.Subject, m.Text)
					}
					// The link carries the request's id, nothing else.
					for _, typed := range []string{"neu", "Nelly", "susi", "otto", "ada", "adam", "supervisor", "Leitung", "correct horse"} {
						if strings.Contains(m.Subject+strings.ReplaceAll(m.Text, link, ""), typed) {
							t.Errorf("mail to %s carries %q:\n%s", m.To, typed, m.Text)
						}
					}
				}
				es := w.accountEntries("notification.sent", id)
				if len(es) != len(tc.want) {
					t.Fatalf("%d notification.sent entries, want %d", len(es), len(tc.want))
				}
				for _, e := range es {
					if e.Details["notice"] != string(incident.NoticeAccountRequestWaiting) {
						t.Errorf("notice %q", e.Details["notice"])
					}
					for k := range e.Details {
						if !slices.Contains([]string{"user_id", "notice", "request_id", "attempt"}, k) {
							t.Errorf("audit entry carries %q", k)
						}
					}
				}
			})
		}
		// A decision tells nobody, and its reason never reaches a mail.
		mark := len(mem.Sent())
		rs, err := w.svc.AccountRequests(w.ctx, w.admin, incident.AccountRequestFilter{State: incident.RequestPending})
		if err != nil || len(rs) == 0 {
			t.Fatalf("pending: %v %v", rs, err)
		}
		if _, err := w.svc.DecideAccountRequest(w.ctx, w.sup2, rs[0].ID, false, "telefonisch nicht bestätigt", w.code(w.sup2)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		for _, m := range mem.Sent() {
			if strings.Contains(m.Text, "telefonisch") {
				t.Errorf("the reason reached a mail to %s", m.To)
			}
		}
		if n := len(mem.Sent()) - mark; n != 0 {
			t.Errorf("the decision sent %d mails", n)
		}
	})
}

// Without SMTP each notice is audited as not sent; a notice whose
// request was decided before its job ran is not sent and says why.
func TestAccountRequestNoticeNotSent(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		ch := w.pendingReset("susi")
		w.runJobs()
		es := w.accountEntries("notification.not_sent", ch.Request.ID)
		if len(es) != 1 || es[0].Details["reason"] != "smtp_not_configured" || es[0].Details["user_id"] != w.sup2.ID {
			t.Fatalf("not_sent entries %+v, want one for sven without SMTP", es)
		}

		mem := withMail(w)
		ch, err := w.svc.ResetSecondFactor(w.ctx, w.admin, "sven")
		if err != nil || !ch.Pending() {
			t.Fatalf("%+v %v", ch, err)
		}
		if _, err := w.svc.DecideAccountRequest(w.ctx, w.sup1, ch.Request.ID, true, "bestätigt", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		if sent := mem.Sent(); len(sent) != 0 {
			t.Fatalf("sent %v for a request decided already", recipients(sent))
		}
		es = w.accountEntries("notification.not_sent", ch.Request.ID)
		if len(es) != 1 || es[0].Details["reason"] != "no_longer_waiting" {
			t.Fatalf("not_sent entries %+v, want susi's, no longer waiting", es)
		}
	})
}

// The sweep expires a pending account request once its time is up, not
// before, once, each with its audit entry and one mail to its requester
// (and to nobody else); a decision after that is refused as expired.
func TestSweepAccountRequests(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		mem := withMail(w)
		ch := w.pendingReset("susi")
		id := ch.Request.ID
		w.runJobs()
		mark := len(mem.Sent())
		sweep := func(want int) {
			t.Helper()
			if n, err := w.svc.SweepAccountRequests(w.ctx); err != nil || n != want {
				t.Fatalf("SweepAccountRequests = %d, %v; want %d", n, err, want)
			}
			w.runJobs()
		}
		w.clock.Advance(w.pol.FourEyes.RequestTTL - time.Second)
		sweep(0)
		if r := w.accountRequest(id); r.State != incident.RequestPending {
			t.Fatalf("state %s a second before expiry", r.State)
		}
		w.clock.Advance(time.Second)
		sweep(1)
		sweep(0)
		var r incident.AccountRequest
		if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) { r, err = tx.AccountRequest(w.ctx, id); return }); err != nil || r.State != incident.RequestExpired {
			t.Fatalf("stored %+v, %v; want expired", r, err)
		}
		if n := len(w.accountEntries("account_request.expired", id)); n != 1 {
			t.Fatalf("%d account_request.expired entries, want 1", n)
		}
		sent := mem.Sent()[mark:]
		if len(sent) != 1 || sent[0].To != "adam@example.org" || !strings.Contains(sent[0].Subject, "verfallen") ||
			!strings.Contains(sent[0].Text, publicURL+"/account-requests#account-request-"+id+"\n") || strings.Contains(sent[0].Text, "susi") {
			t.Fatalf("expiry told %+v, want the requester with the request's link", sent)
		}
		if es := w.accountEntries("notification.sent", id); len(es) != 2 { // sven's waiting notice and adam's
			t.Fatalf("%d notification.sent entries, want 2", len(es))
		}
		_, err := w.svc.DecideAccountRequest(w.ctx, w.sup2, id, true, "zu spät", w.code(w.sup2))
		wantErr(t, err, incident.ErrExpired)
		if _, err := w.svc.Authenticate(w.ctx, "susi", ch.Password); !errors.Is(err, incident.ErrBadCredentials) {
			t.Fatalf("expired reset applied: %v", err)
		}
	})
}

// An expiry found when someone decides too late is the same expiry: one
// audit entry, the requester told once, and the sweep finds nothing left.
func TestLateDecisionExpiresLikeTheSweep(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		mem := withMail(w)
		ch := w.pendingReset("susi")
		w.runJobs()
		mark := len(mem.Sent())
		w.clock.Advance(w.pol.FourEyes.RequestTTL)
		_, err := w.svc.DecideAccountRequest(w.ctx, w.sup2, ch.Request.ID, true, "zu spät", w.code(w.sup2))
		wantErr(t, err, incident.ErrExpired)
		if n, err := w.svc.SweepAccountRequests(w.ctx); err != nil || n != 0 {
			t.Fatalf("sweep after the late decision = %d, %v; want 0", n, err)
		}
		w.runJobs()
		if n := len(w.accountEntries("account_request.expired", ch.Request.ID)); n != 1 {
			t.Fatalf("%d account_request.expired entries, want 1", n)
		}
		if got := recipients(mem.Sent()[mark:]); !slices.Equal(got, []string{"adam@example.org"}) {
			t.Fatalf("told %v, want the requester once", got)
		}
	})
}

// Work expires account requests when it starts and then every ten
// minutes by the injected clock, not more often.
func TestWorkSweepsAccountRequestsOnSchedule(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		pol := *w.pol
		pol.FourEyes.RequestTTL = 2 * time.Minute
		w.pol = &pol
		w.svc = w.service(w.store)
		first, err := w.svc.ResetPassword(w.ctx, w.admin, "susi")
		if err != nil || !first.Pending() {
			t.Fatalf("%+v %v", first, err)
		}
		w.clock.Advance(3 * time.Minute)
		// The sweep's log line ends Work; the timeout only keeps a broken
		// sweep from hanging the test.
		ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
		defer cancel()
		var logged []string
		h := &lineHandler{out: func(l string) {
			logged = append(logged, l)
			if strings.HasPrefix(l, "account request sweep") {
				cancel()
			}
		}}
		svc := incident.NewService(w.store, w.pol, w.vault, w.msgr, incident.WithClock(w.clock.Now),
			incident.WithPasswordParams(cheap), incident.WithLogger(slog.New(h)))
		state := func(id string) incident.RequestState {
			var r incident.AccountRequest
			if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) { r, err = tx.AccountRequest(w.ctx, id); return }); err != nil {
				t.Fatal(err)
			}
			return r.State
		}
		svc.Work(ctx, time.Hour)
		if !slices.Contains(logged, "account request sweep expired=1") || state(first.Request.ID) != incident.RequestExpired {
			t.Fatalf("after Work: log %q, state %s", logged, state(first.Request.ID))
		}

		// The schedule, driven without the loop's polling.
		incident.SweepAccountRequestsIfDue(w.svc, w.ctx) // due at start
		second, err := w.svc.ResetSecondFactor(w.ctx, w.admin, "sven")
		if err != nil || !second.Pending() {
			t.Fatalf("%+v %v", second, err)
		}
		w.clock.Advance(9 * time.Minute)
		incident.SweepAccountRequestsIfDue(w.svc, w.ctx)
		if got := state(second.Request.ID); got != incident.RequestPending {
			t.Fatalf("swept after 9 minutes: %s", got)
		}
		w.clock.Advance(time.Minute)
		incident.SweepAccountRequestsIfDue(w.svc, w.ctx)
		if got := state(second.Request.ID); got != incident.RequestExpired {
			t.Fatalf("after 10 minutes: %s, want expired", got)
		}
	})
}
