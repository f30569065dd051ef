package incident

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident/password"
)

// AccountChange is what an account operation did: applied at once, or
// opened Request for a second person's approval.
type AccountChange struct {
	User User
	// Request is the account request waiting for approval; nil when the
	// change was applied.
	Request *AccountRequest
	// Password is the one-time password of ResetPassword, to be shown
	// to the admin once; it is stored only as a hash.
	Password string
}

// Pending reports whether the change waits for approval.
func (c AccountChange) Pending() bool { return c.Request != nil }

// openAccountRequest stores a new account request of a in tx and audits it.
func (s *Service) openAccountRequest(ctx context.Context, tx Tx, a Actor, r AccountRequest) (AccountRequest, error) {
	id, err := s.newID()
	if err != nil {
		return AccountRequest{}, err
	}
	now := s.now()
	r.ID, r.RequesterID, r.State, r.CreatedAt, r.ExpiresAt = id, a.ID, RequestPending, now, now.Add(s.policy.FourEyes.RequestTTL)
	if err := tx.CreateAccountRequest(ctx, &r); err != nil {
		return AccountRequest{}, fmt.Errorf("failed to create account request: %w", err)
	}
	if err := s.record(ctx, tx, a, ActionAccountRequestOpened, "", map[string]string{
		"request_id": r.ID, "kind": string(r.Kind), "user_id": r.SubjectID, "role": string(r.Role)}); err != nil {
		return AccountRequest{}, err
	}
	deciders, err := accountDeciders(ctx, tx, r)
	if err != nil {
		return AccountRequest{}, err
	}
	return r, s.notifyUsers(ctx, tx, NoticeAccountRequestWaiting, "", r.ID, r.ID, deciders)
}

// accountDeciders lists the accounts that may decide r
// (AccountRequest.DecidableBy) and can sign in to do it: not disabled,
// not themselves waiting for approval.
func accountDeciders(ctx context.Context, tx Tx, r AccountRequest) ([]User, error) {
	return usersWhere(ctx, tx, func(u User) bool { return mayBeToldToDecide(u, r) })
}

// mayBeToldToDecide reports whether u is someone to tell that r waits.
func mayBeToldToDecide(u User, r AccountRequest) bool {
	return !u.Disabled && !u.NeedsApproval && r.DecidableBy(u.Actor())
}

// userToChange reads the account an admin a changes, by name, in tx; an
// admin never changes their own sign-in this way.
func userToChange(ctx context.Context, tx Tx, a Actor, username, what string) (User, error) {
	u, err := tx.UserByName(ctx, strings.ToLower(strings.TrimSpace(username)))
	if err != nil {
		return User{}, err
	}
	if u.ID == a.ID {
		return User{}, fmt.Errorf("%w: you cannot %s your own account", ErrForbidden, what)
	}
	return u, nil
}

// ResetSecondFactor removes an account's second factor and recovery
// codes (admins only; the user enrols again at their next sign-in) and
// ends the account's sessions and API tokens, in the transaction of its
// audit entry (auth.second_factor_reset). For an account whose role
// approves (supervisor, auditor, admin) it opens an account request
// instead, applied when a second person approves it.
func (s *Service) ResetSecondFactor(ctx context.Context, a Actor, username string) (AccountChange, error) {
	if err := requireRole(a, RoleAdmin); err != nil {
		return AccountChange{}, err
	}
	if err := knownUsername(username); err != nil {
		return AccountChange{}, err
	}
	var out AccountChange
	err := s.store.Tx(ctx, func(tx Tx) error {
		u, err := userToChange(ctx, tx, a, username, "reset the second factor of")
		if err != nil {
			return err
		}
		out.User = u
		if needsApproval(u.Role) {
			r, err := s.openAccountRequest(ctx, tx, a, AccountRequest{Kind: AccountResetSecondFactor, SubjectID: u.ID})
			out.Request = &r
			return err
		}
		out.User, err = s.resetSecondFactor(ctx, tx, a, a.ID, u)
		return err
	})
	return out, err
}

// resetSecondFactor applies a second-factor reset requested by
// requesterID in tx.
func (s *Service) resetSecondFactor(ctx context.Context, tx Tx, a Actor, requesterID string, u User) (User, error) {
	st := tx.Accounts()
	if err := st.DeleteSecondFactor(ctx, u.ID); err != nil {
		return User{}, err
	}
	u.ResetBy, u.ResetAt, u.UpdatedAt = requesterID, s.now(), s.now()
	if err := tx.UpdateUser(ctx, &u); err != nil {
		return User{}, fmt.Errorf("failed to update user: %w", err)
	}
	if err := account.EndAccess(ctx, st, u.ID, u.UpdatedAt); err != nil {
		return User{}, err
	}
	return u, s.record(ctx, tx, a, Action(AuthSecondFactorReset), "", map[string]string{"user_id": u.ID})
}

// oneTimePasswordBytes is the randomness of a one-time password: 100
// bits, written as 20 base32 letters and digits in groups of five.
const oneTimePasswordBytes = 13

// ResetPassword sets a one-time password for another account (admins
// only), to be shown to the admin once and changed at the account's next
// sign-in; it ends the account's sessions and API tokens in the
// transaction of its audit entry (user.password_reset). For an account
// whose role approves (supervisor, auditor, admin) the password takes
// effect only when a second person approves the account request it opens.
//
// a is System at the server's console (`tresor user reset-password`),
// which is trusted as set-up: the reset applies at once, so that a
// provider whose only admin forgot the password is not locked out.
func (s *Service) ResetPassword(ctx context.Context, a Actor, username string) (AccountChange, error) {
	if a.ID != System.ID {
		if err := requireRole(a, RoleAdmin); err != nil {
			return AccountChange{}, err
		}
	}
	if err := knownUsername(username); err != nil {
		return AccountChange{}, err
	}
	var b [oneTimePasswordBytes]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return AccountChange{}, fmt.Errorf("failed to read random bytes: %w", err)
	}
	raw := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20]
	pw := raw[:5] + "-" + raw[5:10] + "-" + raw[10:15] + "-" + raw[15:]
	// argon2id runs outside any transaction (see Authenticate).
	hash, err := password.Hash(pw, s.passwordParams(), s.rand)
	if err != nil {
		return AccountChange{}, err
	}
	out := AccountChange{Password: pw}
	err = s.store.Tx(ctx, func(tx Tx) error {
		u, err := userToChange(ctx, tx, a, username, "reset the password of")
		if err != nil {
			return err
		}
		out.User = u
		if needsApproval(u.Role) && a.ID != System.ID {
			r, err := s.openAccountRequest(ctx, tx, a, AccountRequest{Kind: AccountResetPassword, SubjectID: u.ID, PasswordHash: hash})
			out.Request = &r
			return err
		}
		out.User, err = s.resetPassword(ctx, tx, a, a.ID, u, hash)
		return err
	})
	if err != nil {
		return AccountChange{}, err
	}
	return out, nil
}

// resetPassword applies a password reset requested by requesterID in tx.
func (s *Service) resetPassword(ctx context.Context, tx Tx, a Actor, requesterID string, u User, hash string) (User, error) {
	u.PasswordHash, u.MustChangePassword = hash, true
	u.ResetBy, u.ResetAt, u.UpdatedAt = requesterID, s.now(), s.now()
	if err := tx.UpdateUser(ctx, &u); err != nil {
		return User{}, fmt.Errorf("failed to update user: %w", err)
	}
	if err := account.EndAccess(ctx, tx.Accounts(), u.ID, u.UpdatedAt); err != nil {
		return User{}, err
	}
	return u, s.record(ctx, tx, a, ActionUserPasswordReset, "", map[string]string{"user_id": u.ID})
}

// setRole applies a role change in tx and ends the account's access.
func (s *Service) setRole(ctx context.Context, tx Tx, a Actor, u User, role Role) (User, error) {
	old := u.Role
	u.Role, u.UpdatedAt = role, s.now()
	if err := tx.UpdateUser(ctx, &u); err != nil {
		return User{}, fmt.Errorf("failed to update user: %w", err)
	}
	if err := account.EndAccess(ctx, tx.Accounts(), u.ID, u.UpdatedAt); err != nil {
		return User{}, err
	}
	return u, s.record(ctx, tx, a, ActionUserRoleChanged, "", map[string]string{"user_id": u.ID, "from": string(old), "to": string(role)})
}

// AccountRequests lists account requests (admins, supervisors and
// auditors), newest first. A pending request past its expiry is shown
// as expired.
func (s *Service) AccountRequests(ctx context.Context, a Actor, f AccountRequestFilter) ([]AccountRequest, error) {
	if err := requireRole(a, RoleAdmin, RoleSupervisor, RoleAuditor); err != nil {
		return nil, err
	}
	var out []AccountRequest
	err := s.store.View(ctx, func(tx Tx) (err error) { out, err = tx.AccountRequests(ctx, f); return })
	now := s.now()
	for i := range out {
		if out[i].State == RequestPending && !now.Before(out[i].ExpiresAt) {
			out[i].State = RequestExpired
		}
	}
	return out, err
}

// DecideAccountRequest approves or rejects an account request under the
// rules of separation of duties (AccountRequest.decide) with a fresh
// step-up (a code, or a confirmation at the identity provider), checked
// as for Decide. Approval applies the change in
// the same transaction as both audit entries; a request past its expiry
// is marked expired (and audited) and gives ErrExpired.
func (s *Service) DecideAccountRequest(ctx context.Context, a Actor, id string, approve bool, reason, code string) (AccountRequest, error) {
	if err := knownID("account request", id); err != nil {
		return AccountRequest{}, err
	}
	var r AccountRequest
	err := s.store.View(ctx, func(tx Tx) (err error) { r, err = tx.AccountRequest(ctx, id); return })
	if err != nil {
		return AccountRequest{}, err
	}
	if dry := r; r.State == RequestPending && !s.now().Before(r.ExpiresAt) {
		_, err := s.expireAccountRequest(ctx, id)
		return AccountRequest{}, errors.Join(dry.decide(a, approve, reason, s.now()), err)
	} else if err := dry.decide(a, approve, reason, s.now()); err != nil {
		return AccountRequest{}, err
	}
	if err := s.stepUpForDecision(ctx, a, code); err != nil {
		return AccountRequest{}, err
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if r, err = tx.AccountRequest(ctx, id); err != nil {
			return err
		}
		if err := r.decide(a, approve, reason, s.now()); err != nil {
			return err
		}
		if err := tx.UpdateAccountRequest(ctx, &r); err != nil {
			return fmt.Errorf("failed to update account request: %w", err)
		}
		action := ActionAccountRequestRejected
		if approve {
			action = ActionAccountRequestApproved
		}
		if err := s.record(ctx, tx, a, action, "", map[string]string{"request_id": r.ID, "kind": string(r.Kind),
			"user_id": r.SubjectID, "reason_sha256": digest(r.Reason)}); err != nil {
			return err
		}
		if !approve {
			return nil
		}
		return s.applyAccountRequest(ctx, tx, a, r)
	})
	if err != nil {
		return AccountRequest{}, err
	}
	return r, nil
}

// expireAccountRequest marks a pending request past its expiry as
// expired, in one transaction with its audit entry and the notice to its
// requester. It is the one way account requests expire: when someone
// tries to decide one too late, and in the sweep of Work
// (SweepAccountRequests). It reports whether it expired the request; a
// request decided or expired meanwhile, or not yet due, is left alone.
func (s *Service) expireAccountRequest(ctx context.Context, id string) (bool, error) {
	expired := false
	err := s.store.Tx(ctx, func(tx Tx) error {
		r, err := tx.AccountRequest(ctx, id)
		if err != nil || r.State != RequestPending || s.now().Before(r.ExpiresAt) {
			return err
		}
		r.State = RequestExpired
		if err := tx.UpdateAccountRequest(ctx, &r); err != nil {
			return err
		}
		if err := s.record(ctx, tx, System, ActionAccountRequestExpired, "", map[string]string{"request_id": r.ID, "kind": string(r.Kind), "user_id": r.SubjectID}); err != nil {
			return err
		}
		expired = true
		return s.notifyUser(ctx, tx, NoticeAccountRequestExpired, "", r.ID, r.RequesterID)
	})
	return expired && err == nil, err
}

// applyAccountRequest makes the approved change of r in tx.
func (s *Service) applyAccountRequest(ctx context.Context, tx Tx, a Actor, r AccountRequest) error {
	u, err := tx.User(ctx, r.SubjectID)
	if err != nil {
		return err
	}
	switch r.Kind {
	case AccountCreate:
		u.NeedsApproval, u.UpdatedAt = false, s.now()
		return tx.UpdateUser(ctx, &u)
	case AccountGrantRole:
		_, err = s.setRole(ctx, tx, a, u, r.Role)
	case AccountResetPassword:
		_, err = s.resetPassword(ctx, tx, a, r.RequesterID, u, r.PasswordHash)
	case AccountResetSecondFactor:
		_, err = s.resetSecondFactor(ctx, tx, a, r.RequesterID, u)
	default:
		err = fmt.Errorf("%w: unknown account request kind %q", ErrInvalidInput, r.Kind)
	}
	return err
}
