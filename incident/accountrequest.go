package incident

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Separation of duties. After set-up (`tresor init`, `tresor user add`
// at the server's console), the changes that would let one person hold
// two approving accounts — granting the supervisor or auditor role
// (SetUserRole, AddUser by an admin), and resetting the password or the
// second factor of a supervisor's or auditor's account — and the same for
// the admin role, whose holders decide these requests — are not applied
// at once: they open an AccountRequest that a second person decides
// (DecideAccountRequest). The rules are those of the other four-eyes
// requests: another admin or a supervisor, never the one who asked and
// never the account concerned; before expiry; once; with a reason and a
// fresh step-up code. Approval applies the change in the transaction of
// its audit entry. Opening a request tells those who may decide it by
// mail; one nobody decided expires (SweepAccountRequests) and its
// requester is told.

// AccountRequestKind is what an account request would change.
type AccountRequestKind string

const (
	// AccountCreate: an admin created an account with an approving role;
	// approval lets it sign in.
	AccountCreate AccountRequestKind = "create"
	// AccountGrantRole: an admin gave an account an approving role.
	AccountGrantRole AccountRequestKind = "grant_role"
	// AccountResetPassword: an admin set a one-time password.
	AccountResetPassword AccountRequestKind = "reset_password"
	// AccountResetSecondFactor: an admin removed the second factor.
	AccountResetSecondFactor AccountRequestKind = "reset_second_factor"
)

// AccountRequest is an account change waiting for a second person.
type AccountRequest struct {
	ID          string
	Kind        AccountRequestKind
	SubjectID   string // the account changed
	RequesterID string
	// Role is the role granted (AccountGrantRole, AccountCreate).
	Role Role
	// PasswordHash is the one-time password's hash (AccountResetPassword);
	// the password itself was shown to the requester once.
	PasswordHash string
	State        RequestState
	CreatedAt    time.Time
	ExpiresAt    time.Time
	DeciderID    string
	Reason       string // the decision's reason; never in the audit log
	DecidedAt    time.Time
	Version      int
}

// AccountRequestFilter narrows AccountRequests; zero fields match all.
type AccountRequestFilter struct {
	State     RequestState
	SubjectID string
	// ExpiredBy, when set, selects pending requests whose ExpiresAt is
	// at or before it: those past their expiry at that time.
	ExpiredBy time.Time
}

// needsApproval reports whether giving role to an account, or resetting
// the sign-in of an account with role, needs a second person: every role
// that approves something. Admins count too: an admin who could make a
// second admin account alone could approve their own account requests
// through it.
func needsApproval(role Role) bool { return role != RoleWorker }

// mayApproveAccounts: the roles whose holders decide account requests.
func mayApproveAccounts(r Role) bool { return r == RoleAdmin || r == RoleSupervisor }

// ErrAffectedAccount: the account an account request changes cannot
// decide it.
var ErrAffectedAccount = errors.New("the account concerned cannot decide its own change")

// decide applies one decision to r under the rules above. It changes r
// only when it returns nil.
func (r *AccountRequest) decide(a Actor, approve bool, reason string, now time.Time) error {
	if r.State != RequestPending && r.State != RequestExpired {
		return fmt.Errorf("%w: account request %s is %s", ErrAlreadyDecided, r.ID, r.State)
	}
	if r.State == RequestExpired || !now.Before(r.ExpiresAt) {
		return fmt.Errorf("%w: account request %s expired at %s", ErrExpired, r.ID, r.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if err := r.deciderError(a); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("%w: a decision needs a reason", ErrReasonRequired)
	}
	r.State, r.DeciderID, r.Reason, r.DecidedAt = RequestRejected, a.ID, reason, now
	if approve {
		r.State = RequestApproved
	}
	return nil
}

// deciderError says why a may not decide r, whatever r's state and
// expiry; nil when a may. It is the one rule for who decides account
// requests: the decision, the notices to deciders and the pages ask it.
func (r *AccountRequest) deciderError(a Actor) error {
	if !mayApproveAccounts(a.Role) {
		return fmt.Errorf("%w: role %q may not decide account changes", ErrForbidden, a.Role)
	}
	if a.ID == r.RequesterID {
		return fmt.Errorf("%w: account request %s", ErrSelfApproval, r.ID)
	}
	if a.ID == r.SubjectID {
		return fmt.Errorf("%w: account request %s", ErrAffectedAccount, r.ID)
	}
	return nil
}

// DecidableBy reports whether a is among those who may decide r (its
// state and expiry aside): an admin or a supervisor, neither its
// requester nor the account concerned.
func (r AccountRequest) DecidableBy(a Actor) bool { return r.deciderError(a) == nil }

// ApproverWarning is why an approval page asks the approver to think
// twice: signs that approver and requester may be one person.
type ApproverWarning string

const (
	// WarnApproverYounger: the approver's account was created after the
	// request was made.
	WarnApproverYounger ApproverWarning = "approver_younger"
	// WarnCreatedByRequester: the requester created the approver's account.
	WarnCreatedByRequester ApproverWarning = "created_by_requester"
	// WarnResetByRequester: the requester last reset the approver's
	// password or second factor.
	WarnResetByRequester ApproverWarning = "reset_by_requester"
)

// ApproverWarnings lists the warnings for approver deciding a request
// that requesterID made at requestedAt.
func ApproverWarnings(approver User, requesterID string, requestedAt time.Time) []ApproverWarning {
	var out []ApproverWarning
	if approver.CreatedAt.After(requestedAt) {
		out = append(out, WarnApproverYounger)
	}
	if approver.CreatedBy != "" && approver.CreatedBy == requesterID {
		out = append(out, WarnCreatedByRequester)
	}
	if approver.ResetBy != "" && approver.ResetBy == requesterID {
		out = append(out, WarnResetByRequester)
	}
	return out
}
