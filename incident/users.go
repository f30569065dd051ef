package incident

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident/password"
)

// NewUser is an account to create. Password is hashed with argon2id
// before anything is stored.
type NewUser struct {
	Username    string
	DisplayName string
	Role        Role
	Password    string
	Email       string // optional: where notifications go
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)

// passwordParams is argon2id's cost; tests lower it with WithPasswordParams.
func (s *Service) passwordParams() password.Params {
	if s.pwParams != nil {
		return *s.pwParams
	}
	return password.Default
}

// WithPasswordParams sets argon2id's cost (tests use a cheap one).
func WithPasswordParams(p password.Params) Option { return func(s *Service) { s.pwParams = &p } }

// AddUser creates an account. Admins create accounts; a is System at the
// server's console (`tresor init`, `tresor user add`). An account with a
// role that approves (supervisor, auditor, admin) created by an admin
// cannot sign in (NeedsApproval) until a second person approves the
// account request opened with it.
func (s *Service) AddUser(ctx context.Context, a Actor, in NewUser) (User, error) {
	if a.ID != System.ID {
		if err := requireRole(a, RoleAdmin); err != nil {
			return User{}, err
		}
	}
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	if !usernamePattern.MatchString(in.Username) {
		return User{}, fmt.Errorf("%w: username %q: use 2-63 lowercase letters, digits, '.', '_' or '-'", ErrInvalidInput, in.Username)
	}
	if _, err := ParseRole(string(in.Role)); err != nil {
		return User{}, err
	}
	email, err := ParseEmail(in.Email)
	if err != nil {
		return User{}, err
	}
	hash, err := password.Hash(in.Password, s.passwordParams(), s.rand)
	if err != nil {
		return User{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	id, err := s.newID()
	if err != nil {
		return User{}, err
	}
	now := s.now()
	u := User{ID: id, Username: in.Username, DisplayName: strings.TrimSpace(in.DisplayName), Role: in.Role,
		PasswordHash: hash, Email: email, CreatedAt: now, UpdatedAt: now, CreatedBy: a.ID,
		// An approving role given by an admin waits for a second person;
		// the server's console (System) is trusted as set-up.
		NeedsApproval: a.ID != System.ID && needsApproval(in.Role)}
	if u.DisplayName == "" {
		u.DisplayName = u.Username
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return fmt.Errorf("failed to create user %q: %w", u.Username, err)
		}
		if err := s.record(ctx, tx, a, ActionUserCreated, "", map[string]string{"user_id": u.ID, "role": string(u.Role), "email_set": strconv.FormatBool(u.Email != "")}); err != nil {
			return err
		}
		if !u.NeedsApproval {
			return nil
		}
		_, err := s.openAccountRequest(ctx, tx, a, AccountRequest{Kind: AccountCreate, SubjectID: u.ID, Role: u.Role})
		return err
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// SetUserDisabled disables or re-enables an account. Disabling ends the
// account's sessions and API tokens in the transaction of its audit
// entry; the web, the API and `tresor user disable` all come here. Admins
// cannot disable themselves, so that one admin always remains able to
// sign in.
func (s *Service) SetUserDisabled(ctx context.Context, a Actor, username string, disabled bool) (User, error) {
	if a.ID != System.ID {
		if err := requireRole(a, RoleAdmin); err != nil {
			return User{}, err
		}
	}
	if err := knownUsername(username); err != nil {
		return User{}, err
	}
	var u User
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.UserByName(ctx, strings.ToLower(strings.TrimSpace(username))); err != nil {
			return err
		}
		if u.ID == a.ID && disabled {
			return fmt.Errorf("%w: you cannot disable your own account", ErrForbidden)
		}
		if u.Disabled == disabled {
			return nil
		}
		u.Disabled, u.UpdatedAt = disabled, s.now()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return fmt.Errorf("failed to update user: %w", err)
		}
		action := ActionUserEnabled
		if disabled {
			action = ActionUserDisabled
			if err := account.EndAccess(ctx, tx.Accounts(), u.ID, u.UpdatedAt); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, action, "", map[string]string{"user_id": u.ID})
	})
	return u, err
}

// Users lists every account (admins and auditors).
func (s *Service) Users(ctx context.Context, a Actor) ([]User, error) {
	if a.ID != System.ID {
		if err := requireRole(a, RoleAdmin, RoleAuditor); err != nil {
			return nil, err
		}
	}
	var out []User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Users(ctx)
		return err
	})
	return out, err
}

// ErrBadCredentials: unknown user, wrong password or disabled account.
// The three are not told apart, so sign-in reveals no account names.
var ErrBadCredentials = errors.New("unknown user or wrong password")

// Authenticate checks a username and password and records the attempt in
// the audit log, successful or not.
func (s *Service) Authenticate(ctx context.Context, username, pw string) (User, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	// argon2id runs outside any transaction: on SQLite a transaction
	// holds the only writer, and sign-ins must not stall the workflow.
	var u User
	err := knownUsername(username) // a name no account can have is not looked up
	if err == nil {
		err = s.store.View(ctx, func(tx Tx) (err error) { u, err = tx.UserByName(ctx, username); return })
	}
	var authErr error
	switch {
	case errors.Is(err, ErrNotFound):
		// Spend the same time as for a real account, so that timing does
		// not tell which usernames exist.
		s.equalizeTiming(pw)
		authErr = ErrBadCredentials
	case err != nil:
		return User{}, err
	default:
		// A disabled account is checked like any other, so that timing
		// does not tell it apart either; its answer is the same failure.
		if verr := s.verify(pw, u.PasswordHash); verr != nil || u.Disabled || u.NeedsApproval || s.providerSignInRequired(u) {
			authErr = ErrBadCredentials
		}
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		if authErr != nil {
			return s.record(ctx, tx, System, ActionAuthFailed, "", map[string]string{"username_sha256": digest(username)})
		}
		return s.record(ctx, tx, u.Actor(), ActionAuthSucceeded, "", map[string]string{"user_id": u.ID})
	})
	if err != nil {
		return User{}, err
	}
	if authErr != nil {
		return User{}, authErr
	}
	return u, nil
}

// equalizeTiming runs one argon2id verification against a hash of a
// random password with the service's parameters.
func (s *Service) equalizeTiming(pw string) {
	s.dummyOnce.Do(func() {
		var b [16]byte
		if _, err := io.ReadFull(s.rand, b[:]); err != nil {
			return // without a dummy hash the check below fails fast; still no account is revealed by the answer
		}
		if h, err := password.Hash(hex.EncodeToString(b[:]), s.passwordParams(), s.rand); err == nil {
			s.dummyHash = h
		}
	})
	_ = s.verify(pw, s.dummyHash) // always a mismatch; only its duration matters
}

// SetUserRole changes an account's role (admins only) and ends the
// account's sessions and API tokens in the same transaction, so that the
// new role starts with a fresh sign-in (and the second factor it may
// need). Granting a role that approves (supervisor, auditor, admin) opens
// an account request instead, applied when a second person approves it.
// Admins cannot change their own role, so that one admin always remains.
func (s *Service) SetUserRole(ctx context.Context, a Actor, username string, role Role) (AccountChange, error) {
	if err := requireRole(a, RoleAdmin); err != nil {
		return AccountChange{}, err
	}
	if err := knownUsername(username); err != nil {
		return AccountChange{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return AccountChange{}, err
	}
	var out AccountChange
	err := s.store.Tx(ctx, func(tx Tx) error {
		u, err := userToChange(ctx, tx, a, username, "change the role of")
		if err != nil {
			return err
		}
		out.User = u
		if u.Role == role {
			return nil
		}
		if needsApproval(role) {
			r, err := s.openAccountRequest(ctx, tx, a, AccountRequest{Kind: AccountGrantRole, SubjectID: u.ID, Role: role})
			out.Request = &r
			return err
		}
		out.User, err = s.setRole(ctx, tx, a, u, role)
		return err
	})
	return out, err
}
