package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mailer delivers notification mails. It is implemented by
// incident/smtpmail (SMTP) and incident/mailtest (in memory); both pass
// the conformance suite in incident/mailtest.
type Mailer interface {
	// Send delivers m to its one recipient and returns once the mail
	// server accepted it. An error means the notification job retries
	// later. A crash after the server accepted and before the job
	// committed sends the mail again: delivery is at least once.
	Send(ctx context.Context, m Mail) error
}

// Mail is one notification. The Service composes it from fixed texts
// and a link only (see [Notice]); To is a validated bare address and
// Subject one line.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// ErrMailHeader: a recipient or subject that cannot go into a mail
// header as it is.
var ErrMailHeader = errors.New("a mail's recipient and subject must each be one line, and the recipient not empty")

// Check refuses a mail without recipient or with a line break in its
// recipient or subject. Every Mailer calls it before sending anything.
func (m Mail) Check() error {
	if m.To == "" || strings.ContainsAny(m.To+m.Subject, "\r\n") {
		return ErrMailHeader
	}
	return nil
}

// Notice is what a notification says. Each has one fixed text: a mail
// never carries a description, a name, a reason or evidence, only that
// something waits and a link to sign in and look.
type Notice string

const (
	// NoticeRequestWaiting: a request waits for the recipient's decision.
	NoticeRequestWaiting Notice = "request.waiting"
	// NoticeRequestExpiring: it still waits and expires soon.
	NoticeRequestExpiring Notice = "request.expiring"
	// NoticeStepsOverdue: deletion steps of an incident are overdue.
	NoticeStepsOverdue Notice = "steps.overdue"
	// NoticeRequestDecided: the recipient's own request was decided.
	NoticeRequestDecided Notice = "request.decided"
	// NoticeRequestExpired: the recipient's own request expired undecided.
	NoticeRequestExpired Notice = "request.expired"
	// NoticeAccountLocked: the recipient's own account was locked after
	// many failed sign-ins.
	NoticeAccountLocked Notice = "account.locked"
	// NoticeAccountLockedAdmin: an account was locked (to admins).
	NoticeAccountLockedAdmin Notice = "account.locked_admin"
	// NoticeAccountRequestWaiting: an account change waits for the
	// recipient's decision (to those who may decide it).
	NoticeAccountRequestWaiting Notice = "account_request.waiting"
	// NoticeAccountRequestExpired: the recipient's own account request
	// expired undecided; the change was not made.
	NoticeAccountRequestExpired Notice = "account_request.expired"
)

// signInAndLook is what most notices ask the recipient to do.
var signInAndLook = [2]string{"Bitte melden Sie sich an und sehen Sie nach:", "Please sign in at the link above to see it."}

// noticeText holds each notice's subject and its two sentences, German
// first (the service's users) and English.
var noticeText = map[Notice]struct {
	subject, de, en string
	// todo is what to do, German (before the link) and English.
	todo [2]string
}{
	NoticeRequestWaiting: {"Tresor: Eine Anfrage wartet auf Ihre Entscheidung",
		"In Tresor wartet eine Anfrage auf Ihre Entscheidung.",
		"A request in Tresor awaits your decision.", signInAndLook},
	NoticeRequestExpiring: {"Tresor: Eine Anfrage verfällt bald",
		"In Tresor wartet eine Anfrage noch auf Ihre Entscheidung und verfällt bald.",
		"A request in Tresor still awaits your decision and expires soon.", signInAndLook},
	NoticeStepsOverdue: {"Tresor: Löschschritte sind überfällig",
		"In Tresor sind Löschschritte eines Vorfalls überfällig.",
		"Deletion steps of an incident in Tresor are overdue.", signInAndLook},
	NoticeRequestDecided: {"Tresor: Über Ihre Anfrage wurde entschieden",
		"In Tresor wurde über Ihre Anfrage entschieden.",
		"Your request in Tresor was decided.", signInAndLook},
	NoticeRequestExpired: {"Tresor: Ihre Anfrage ist verfallen",
		"In Tresor ist Ihre Anfrage verfallen, ohne dass jemand entschieden hat.",
		"Your request in Tresor expired without a decision.", signInAndLook},
	NoticeAccountLocked: {"Tresor: Ihr Konto ist gesperrt",
		"Ihr Konto in Tresor wurde nach vielen fehlgeschlagenen Anmeldeversuchen vorübergehend gesperrt.",
		"Your Tresor account was locked for a while after many failed sign-in attempts.",
		[2]string{"Bitte wenden Sie sich an Ihre IT; sie kann das Konto entsperren. Zur Anmeldung:",
			"Please contact your IT, who can unlock it."}},
	NoticeAccountLockedAdmin: {"Tresor: Ein Konto wurde gesperrt",
		"In Tresor wurde ein Konto nach vielen fehlgeschlagenen Anmeldeversuchen vorübergehend gesperrt.",
		"An account in Tresor was locked for a while after many failed sign-in attempts.",
		[2]string{"Auf der Kontenseite sehen Sie, welches, und können es entsperren:",
			"The accounts page at the link above shows which one and lets you unlock it."}},
	NoticeAccountRequestWaiting: {"Tresor: Eine Kontoänderung wartet auf Ihre Entscheidung",
		"In Tresor wartet eine Kontoänderung auf die Entscheidung einer zweiten Person. Sie können sie genehmigen oder ablehnen.",
		"An account change in Tresor awaits a second person's decision. You may approve or reject it.", signInAndLook},
	NoticeAccountRequestExpired: {"Tresor: Ihre beantragte Kontoänderung ist verfallen",
		"In Tresor ist Ihre beantragte Kontoänderung verfallen, ohne dass jemand entschieden hat. Sie wurde nicht ausgeführt; wenn sie noch nötig ist, beantragen Sie sie bitte erneut.",
		"The account change you requested in Tresor expired without a decision. It was not made; if it is still needed, please request it again.", signInAndLook},
}

// valid reports whether n is a known notice.
func (n Notice) valid() bool { _, ok := noticeText[n]; return ok }

// composeMail builds the mail for a notice. It takes nothing but the
// notice, the address and the link, so no text of an incident or request
// can reach a mail.
func composeMail(n Notice, to, link string) Mail {
	t := noticeText[n]
	var b strings.Builder
	b.WriteString("Guten Tag,\n\n")
	b.WriteString(t.de + "\n" + t.todo[0] + "\n\n")
	b.WriteString(link + "\n\n")
	b.WriteString("Diese Nachricht enthält absichtlich keine Einzelheiten.\n\n-- \n")
	b.WriteString(t.en + "\n" + t.todo[1] + "\n")
	b.WriteString("This message deliberately contains no details.\n")
	return Mail{To: to, Subject: t.subject, Text: b.String()}
}

// WithMailer makes the service send notifications through m, with links
// under publicURL (e.g. "https://tresor.example.org"). Without it every
// notification is recorded in the audit log as not sent.
func WithMailer(m Mailer, publicURL string) Option {
	return func(s *Service) { s.mailer, s.publicURL = m, strings.TrimRight(publicURL, "/") }
}

// MailConfigured reports whether notifications are sent at all.
func (s *Service) MailConfigured() bool { return s.mailer != nil }

// link is the page a job's notice points to: supervisors' notices their
// inbox, a requester's the incident, account requests' their place on
// the page of account requests. All need signing in.
func (s *Service) link(j Job) string {
	switch j.Notice {
	case NoticeRequestDecided, NoticeRequestExpired:
		return s.publicURL + "/incidents/" + j.IncidentID
	case NoticeAccountRequestWaiting, NoticeAccountRequestExpired:
		return s.publicURL + "/account-requests#account-request-" + j.RequestID
	case NoticeAccountLocked:
		return s.publicURL + "/login"
	case NoticeAccountLockedAdmin:
		return s.publicURL + "/admin/users"
	default:
		return s.publicURL + "/approvals"
	}
}

// mayDecide lists the active supervisors who may still decide r: not its
// requester, not who decided it already.
func mayDecide(ctx context.Context, tx Tx, r Request) ([]User, error) {
	return usersWhere(ctx, tx, func(u User) bool {
		return u.Role == RoleSupervisor && !u.Disabled && u.ID != r.RequesterID && !r.decidedBy(u.ID)
	})
}

// usersWhere lists the accounts for which keep is true.
func usersWhere(ctx context.Context, tx Tx, keep func(User) bool) ([]User, error) {
	users, err := tx.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list users: %w", err)
	}
	var out []User
	for _, u := range users {
		if keep(u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// escalationTargets are the active supervisors named by the policy's
// escalate_to, or every active supervisor when it names none (or none of
// its names is an active supervisor's).
func (s *Service) escalationTargets(ctx context.Context, tx Tx) ([]User, error) {
	users, err := tx.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to list users: %w", err)
	}
	var named, all []User
	for _, u := range users {
		if u.Role != RoleSupervisor || u.Disabled {
			continue
		}
		all = append(all, u)
		for _, n := range s.policy.EscalateTo {
			if n == u.Username {
				named = append(named, u)
			}
		}
	}
	if len(named) > 0 {
		return named, nil
	}
	return all, nil
}

// notifyUsers queues one notification job per user in tx, so that the
// notices commit (or not) with the change they tell about.
func (s *Service) notifyUsers(ctx context.Context, tx Tx, n Notice, incidentID, requestID, keyPart string, users []User) error {
	for _, u := range users {
		j := Job{Kind: JobNotify, IncidentID: incidentID, RequestID: requestID, RecipientID: u.ID, Notice: n,
			Key: jobKey(JobNotify, keyPart, string(n), u.ID)}
		if err := s.enqueue(ctx, tx, j); err != nil {
			return err
		}
	}
	return nil
}

// notifyRequester tells the requester of a request that ended.
func (s *Service) notifyRequester(ctx context.Context, tx Tx, n Notice, r Request) error {
	return s.notifyUser(ctx, tx, n, r.IncidentID, r.ID, r.RequesterID)
}

// notifyUser queues notice n about request requestID to the account
// userID, keyed by the request; an id of no account (the system) is told
// nothing.
func (s *Service) notifyUser(ctx context.Context, tx Tx, n Notice, incidentID, requestID, userID string) error {
	u, err := tx.User(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return nil // made by the system: nobody to tell
	}
	if err != nil {
		return err
	}
	return s.notifyUsers(ctx, tx, n, incidentID, requestID, requestID, []User{u})
}

// remindLead is how long before a request's expiry the supervisors are
// told again: a quarter of the request's time to live.
func (s *Service) remindLead() time.Duration { return s.policy.FourEyes.RequestTTL / 4 }

// remind tells the supervisors who may still decide a pending request
// that it expires soon.
func (s *Service) remind(ctx context.Context, j Job) error {
	return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
		r, err := tx.Request(ctx, j.RequestID)
		if err != nil {
			return err
		}
		if r.State != RequestPending || !s.now().Before(r.ExpiresAt) {
			return nil
		}
		users, err := mayDecide(ctx, tx, r)
		if err != nil {
			return err
		}
		return s.notifyUsers(ctx, tx, NoticeRequestExpiring, inc.ID, r.ID, r.ID, users)
	})
}

// notReason says why a notification is not sent, or "" when it is due.
func (s *Service) notReason(ctx context.Context, j Job, u User) (string, error) {
	switch {
	case u.Disabled:
		return "account_disabled", nil
	case j.Notice == NoticeRequestWaiting || j.Notice == NoticeRequestExpiring:
		var r Request
		err := s.store.View(ctx, func(tx Tx) (err error) { r, err = tx.Request(ctx, j.RequestID); return })
		if err != nil {
			return "", err
		}
		if r.State != RequestPending || r.decidedBy(u.ID) || !s.now().Before(r.ExpiresAt) {
			return "no_longer_waiting", nil
		}
	case j.Notice == NoticeAccountRequestWaiting:
		var r AccountRequest
		err := s.store.View(ctx, func(tx Tx) (err error) { r, err = tx.AccountRequest(ctx, j.RequestID); return })
		if err != nil {
			return "", err
		}
		if r.State != RequestPending || !s.now().Before(r.ExpiresAt) || !mayBeToldToDecide(u, r) {
			return "no_longer_waiting", nil
		}
	}
	switch {
	case s.mailer == nil:
		return "smtp_not_configured", nil
	case u.Email == "":
		return "no_address", nil
	}
	return "", nil
}

// notify sends one notification mail and records it, or records why it
// was not sent. Only ids and the notice go into the audit log.
func (s *Service) notify(ctx context.Context, j Job) error {
	if !j.Notice.valid() {
		return fmt.Errorf("unknown notice %q", j.Notice)
	}
	var u User
	err := s.store.View(ctx, func(tx Tx) (err error) { u, err = tx.User(ctx, j.RecipientID); return })
	if err != nil {
		return err
	}
	details := map[string]string{"user_id": u.ID, "notice": string(j.Notice)}
	if j.RequestID != "" {
		details["request_id"] = j.RequestID
	}
	reason, err := s.notReason(ctx, j, u)
	if err != nil {
		return err
	}
	if reason != "" {
		details["reason"] = reason
		return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
			return s.record(ctx, tx, System, ActionNotificationNotSent, inc.ID, details)
		})
	}
	if err := s.mailer.Send(ctx, composeMail(j.Notice, u.Email, s.link(j))); err != nil {
		return fmt.Errorf("failed to send notification: %w", err)
	}
	details["attempt"] = strconv.Itoa(j.Attempts)
	return s.finish(ctx, j, func(tx Tx, inc *Incident) error {
		return s.record(ctx, tx, System, ActionNotificationSent, inc.ID, details)
	})
}

// Waiting counts the pending requests a supervisor may decide now (for
// the page header). Other roles have none.
func (s *Service) Waiting(ctx context.Context, a Actor) (int, error) {
	if a.Role != RoleSupervisor {
		return 0, nil
	}
	n := 0
	err := s.store.View(ctx, func(tx Tx) error {
		reqs, err := tx.Requests(ctx, RequestFilter{State: RequestPending})
		if err != nil {
			return err
		}
		now := s.now()
		for _, r := range reqs {
			if r.RequesterID != a.ID && !r.decidedBy(a.ID) && now.Before(r.ExpiresAt) {
				n++
			}
		}
		return nil
	})
	return n, err
}
