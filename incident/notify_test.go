package incident_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/mailtest"
)

const publicURL = "https://tresor.example.org"

// withMail gives every account an address and the world a memory mailer.
func withMail(w *world) *mailtest.Memory {
	w.t.Helper()
	mem := &mailtest.Memory{}
	w.svc = incident.NewService(w.store, w.pol, w.vault, w.msgr, incident.WithClock(w.clock.Now),
		incident.WithPasswordParams(cheap), incident.WithMailer(mem, publicURL+"/"), incident.WithFactors(w.factors))
	for _, name := range []string{"wanda", "otto", "susi", "sven", "anna", "adam"} {
		if _, err := w.svc.SetUserEmail(w.ctx, incident.System, name, name+"@example.org"); err != nil {
			w.t.Fatal(err)
		}
	}
	return mem
}

// recipients lists who got mails, in order, with the subject's notice.
func recipients(ms []incident.Mail) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.To)
	}
	slices.Sort(out)
	return out
}

// entries returns the incident's audit entries with the given action.
func (w *world) entries(incID, action string) []audit.Entry {
	w.t.Helper()
	es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{IncidentID: incID})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range es {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// noIncidentText fails if a mail carries anything of the incident.
func noIncidentText(t *testing.T, inc incident.Incident, ms []incident.Mail) {
	t.Helper()
	for _, m := range ms {
		for _, secret := range []string{inc.Description, inc.Message.ID, inc.Message.Chat, "4917012345", inc.Category, "wanda", "Prügelei"} {
			if strings.Contains(m.Subject+m.Text, secret) {
				t.Errorf("mail to %s carries %q:\n%s\n%s", m.To, secret, m.Subject, m.Text)
			}
		}
	}
}

func TestNotifyNewRequestAndDecision(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		mem := withMail(w)
		inc := w.flag("MSGN1", "threat")
		w.runJobs()
		sent := mem.Sent()
		if got, want := recipients(sent), []string{"susi@example.org", "sven@example.org"}; !slices.Equal(got, want) {
			t.Fatalf("new request told %v, want the supervisors %v (not the requester)", got, want)
		}
		for _, m := range sent {
			if !strings.Contains(m.Text, publicURL+"/approvals\n") || strings.Contains(m.Text, publicURL+"//") {
				t.Errorf("mail lacks the inbox link:\n%s", m.Text)
			}
		}
		noIncidentText(t, inc, sent)
		es := w.entries(inc.ID, "notification.sent")
		if len(es) != 2 {
			t.Fatalf("%d notification.sent entries, want 2", len(es))
		}
		for _, e := range es {
			for k := range e.Details {
				if !slices.Contains([]string{"user_id", "notice", "request_id", "attempt"}, k) {
					t.Errorf("audit entry carries %q", k)
				}
			}
		}
		if n, err := w.svc.Waiting(w.ctx, w.sup1); err != nil || n != 1 {
			t.Errorf("Waiting(sup1) = %d, %v; want 1", n, err)
		}

		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, false, "kein Beweis nötig", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		after := mem.Sent()[len(sent):]
		if len(after) != 1 || after[0].To != "wanda@example.org" || !strings.Contains(after[0].Text, publicURL+"/incidents/"+inc.ID) {
			t.Fatalf("decision told %+v, want the requester with the incident's link", after)
		}
		noIncidentText(t, inc, after)
		if strings.Contains(after[0].Text, "kein Beweis") {
			t.Error("the decision's reason reached the mail")
		}
		if n, err := w.svc.Waiting(w.ctx, w.sup1); err != nil || n != 0 {
			t.Errorf("Waiting(sup1) after the decision = %d, %v; want 0", n, err)
		}
	})
}

func TestNotifyReminderAndExpiry(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		mem := withMail(w)
		w.flag("MSGN2", "threat")
		w.runJobs()
		// The request is still pending: both supervisors are reminded
		// a quarter of its time before it expires, and then its requester
		// hears that it expired.
		mark := len(mem.Sent())
		w.clock.Advance(w.pol.FourEyes.RequestTTL * 3 / 4)
		w.runJobs()
		reminded := mem.Sent()[mark:]
		if got, want := recipients(reminded), []string{"susi@example.org", "sven@example.org"}; !slices.Equal(got, want) {
			t.Fatalf("reminder told %v, want %v", got, want)
		}
		for _, m := range reminded {
			if !strings.Contains(m.Subject, "verfällt bald") {
				t.Errorf("reminder subject %q", m.Subject)
			}
		}
		mark = len(mem.Sent())
		w.clock.Advance(w.pol.FourEyes.RequestTTL / 4)
		w.runJobs()
		expired := mem.Sent()[mark:]
		if len(expired) != 1 || expired[0].To != "wanda@example.org" || !strings.Contains(expired[0].Subject, "verfallen") {
			t.Fatalf("expiry told %+v, want the requester", expired)
		}
	})
}

func TestNotifyOverdueStepsToEscalateTo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		escalateTo []string
		want       []string
	}{
		{"default every supervisor", nil, []string{"susi@example.org", "sven@example.org"}},
		{"named supervisor", []string{"sven"}, []string{"sven@example.org"}},
		{"named non-supervisor falls back", []string{"anna"}, []string{"susi@example.org", "sven@example.org"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachDB(t, func(t *testing.T, w *world) {
				pol := *w.pol
				pol.EscalateTo = tc.escalateTo
				w.pol = &pol
				mem := withMail(w)
				inc := w.flag("MSGN4", "threat")
				if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
					t.Fatal(err)
				}
				w.runJobs()
				mark := len(mem.Sent())
				w.clock.Advance(w.pol.StepDeadline + 1)
				w.runJobs()
				var overdue []incident.Mail
				for _, m := range mem.Sent()[mark:] {
					if strings.Contains(m.Subject, "überfällig") {
						overdue = append(overdue, m)
					}
				}
				if got := recipients(overdue); !slices.Equal(got, tc.want) {
					t.Fatalf("overdue steps told %v, want %v", got, tc.want)
				}
				noIncidentText(t, inc, overdue)
			})
		})
	}
}

func TestNotifyRecordedWhenNotSent(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		// No mailer: every notification is recorded as not sent, no job fails.
		inc := w.flag("MSGN5", "threat")
		w.runJobs()
		es := w.entries(inc.ID, "notification.not_sent")
		if len(es) != 2 {
			t.Fatalf("%d notification.not_sent entries, want 2", len(es))
		}
		for _, e := range es {
			if e.Details["reason"] != "smtp_not_configured" {
				t.Errorf("reason = %q", e.Details["reason"])
			}
		}
		// With a mailer, an account without an address is recorded too.
		mem := withMail(w)
		if _, err := w.svc.SetUserEmail(w.ctx, incident.System, "sven", ""); err != nil {
			t.Fatal(err)
		}
		inc2 := w.flag("MSGN6", "threat")
		w.runJobs()
		if got := recipients(mem.Sent()); !slices.Equal(got, []string{"susi@example.org"}) {
			t.Fatalf("sent to %v", got)
		}
		es = w.entries(inc2.ID, "notification.not_sent")
		if len(es) != 1 || es[0].Details["reason"] != "no_address" || es[0].Details["user_id"] != w.sup2.ID {
			t.Fatalf("not_sent entries %+v", es)
		}
	})
}

func TestNotifyRetriesUntilSent(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		mem := withMail(w)
		mem.Fail(1)
		inc := w.flag("MSGN7", "threat")
		ran, err := w.svc.RunDue(w.ctx)
		if !ran || !errors.Is(err, mailtest.ErrRefused) {
			t.Fatalf("first send: ran=%v err=%v, want the refusal", ran, err)
		}
		w.runJobs()
		w.clock.Advance(6 * time.Second) // past the first backoff
		w.runJobs()
		if got := recipients(mem.Sent()); !slices.Equal(got, []string{"susi@example.org", "sven@example.org"}) {
			t.Fatalf("sent to %v after the retry", got)
		}
		if n := len(w.entries(inc.ID, "notification.sent")); n != 2 {
			t.Fatalf("%d notification.sent entries, want 2 (one per mail)", n)
		}
	})
}

func TestParseEmail(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"  leitung@traeger.example  ", "leitung@traeger.example", true},
		{"a.b-c+d@sub.example.org", "a.b-c+d@sub.example.org", true},
		{"no-at-sign", "", false},
		{"Leitung <leitung@example.org>", "", false},
		{"a@example.org\r\nBcc: x@example.org", "", false},
		{"a@localhost", "", false},
		{"a b@example.org", "", false},
		{"\"a\"@example.org", "", false},
		{strings.Repeat("a", 250) + "@example.org", "", false},
	} {
		got, err := incident.ParseEmail(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseEmail(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("ParseEmail(%q) error %v lacks ErrInvalidInput", tc.in, err)
		}
	}
}

func TestSetUserEmailAdminOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		if _, err := w.svc.SetUserEmail(w.ctx, w.sup1, "susi", "susi@example.org"); !errors.Is(err, incident.ErrForbidden) {
			t.Fatalf("supervisor set an address: %v", err)
		}
		u, err := w.svc.SetUserEmail(w.ctx, w.admin, "susi", "susi@example.org")
		if err != nil || u.Email != "susi@example.org" {
			t.Fatalf("admin: %+v %v", u, err)
		}
		users, err := w.svc.Users(w.ctx, w.admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.Username == "susi" && u.Email != "susi@example.org" {
				t.Errorf("stored address %q", u.Email)
			}
		}
	})
}
