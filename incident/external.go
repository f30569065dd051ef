package incident

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tresor-evidence/tresor/account"
)

// Sign-in through the provider's identity provider (OpenID Connect).
//
// The adapter (internal/oidcrp) checks the provider's ID token; this file
// holds the rules: an account is keyed by (issuer, subject), never by a
// user name; its role is the policy's mapping of the configured claim
// (policies.OIDC); an account is created on first sign-in only for a
// mapped value; a role changed at the provider applies at the next
// sign-in, with an audit entry; a disabled account or one whose values
// are no longer mapped is refused.

// ErrNotMapped: none of the person's claim values is mapped to a role by
// the policy's oidc section (or there is none), so no account is created
// and an existing one cannot sign in this way.
var ErrNotMapped = errors.New("identity provider groups or roles grant no Tresor role")

// ErrAccountDisabled: the account exists but is disabled.
var ErrAccountDisabled = errors.New("account disabled")

// ExternalIdentity links an account to a person at an identity provider.
type ExternalIdentity struct {
	Issuer       string // the provider's issuer URL, as its ID tokens state it
	Subject      string // the provider's stable id of the person ("sub")
	UserID       string
	CreatedAt    time.Time
	LastSignInAt time.Time
	// StepUpUntil is until when a re-authentication at the provider may
	// serve as the next approval's step-up; zero: none.
	StepUpUntil time.Time
}

// ExternalIdentities is the part of Tx that stores external identities.
type ExternalIdentities interface {
	// ExternalIdentity returns the identity of (issuer, subject), or an
	// error wrapping ErrNotFound.
	ExternalIdentity(ctx context.Context, issuer, subject string) (ExternalIdentity, error)
	// ExternalIdentityOf returns the identity linked to the account, or
	// an error wrapping ErrNotFound (a local account).
	ExternalIdentityOf(ctx context.Context, userID string) (ExternalIdentity, error)
	// CreateExternalIdentity stores a new link; a taken (issuer,
	// subject) or an account already linked gives ErrDuplicate.
	CreateExternalIdentity(ctx context.Context, id ExternalIdentity) error
	// TouchExternalIdentity sets LastSignInAt of (issuer, subject);
	// ErrNotFound when there is no such identity.
	TouchExternalIdentity(ctx context.Context, issuer, subject string, at time.Time) error
	// GrantExternalStepUp sets StepUpUntil of the account's identity;
	// ErrNotFound for a local account.
	GrantExternalStepUp(ctx context.Context, userID string, until time.Time) error
	// ConsumeExternalStepUp clears the account's step-up if it is valid
	// after now, and reports whether it did. Of concurrent calls for one
	// step-up, at most one reports true.
	ConsumeExternalStepUp(ctx context.Context, userID string, now time.Time) (bool, error)
}

// ExternalSignIn is what the adapter learned from a verified ID token.
// Only Issuer, Subject and ClaimValues decide anything; the rest names a
// new account and never enters the audit log.
type ExternalSignIn struct {
	Issuer  string
	Subject string
	// ClaimValues are the values of the policy's oidc.claim (a string
	// claim gives one value).
	ClaimValues       []string
	PreferredUsername string // preferred_username, or the e-mail address
	DisplayName       string // name
	Email             string // email, if the provider marks it verified
	// AuthTime is when the person last signed in at the provider
	// (auth_time), zero if the token does not say; ACR and AMR are the
	// token's acr and amr. They decide a step-up (ConfirmStepUpExternal).
	AuthTime time.Time
	ACR      string
	AMR      []string
}

// Audit actions of sign-in through an identity provider.
const (
	// A person signed in through the identity provider for the first
	// time and got an account with the role the policy maps.
	ActionExternalAccountCreated Action = "user.created_by_provider"
	// The role mapped from the provider's claim differed from the
	// account's at sign-in and was applied.
	ActionExternalRoleChanged Action = "user.role_changed_by_provider"
	// A sign-in through the identity provider.
	ActionExternalSignIn Action = "auth.provider_signed_in"
	// A linked account was refused: disabled, or no longer mapped.
	ActionExternalRefused Action = "auth.provider_refused"
	// The identity provider ended the person's sign-in (back-channel
	// logout): every Tresor session and API token of the account ended.
	ActionExternalLoggedOut Action = "auth.provider_logged_out"
)

const maxExternalField = 255

// SignInExternal signs in the person the identity provider vouched for.
// It returns the account with the role now in force, or an error wrapping
// ErrNotMapped, ErrAccountDisabled or ErrInvalidInput. Account creation,
// role change and sign-in each commit together with their audit entry.
func (s *Service) SignInExternal(ctx context.Context, in ExternalSignIn) (User, error) {
	if in.Issuer == "" || in.Subject == "" || len(in.Issuer) > maxExternalField || len(in.Subject) > maxExternalField ||
		!utf8.ValidString(in.Subject) || strings.ContainsFunc(in.Subject, unicode.IsControl) {
		return User{}, fmt.Errorf("%w: the identity provider's answer has no usable issuer and subject", ErrInvalidInput)
	}
	mapped, ok := s.policy.OIDC.RoleFor(in.ClaimValues)
	var role Role
	if ok {
		r, err := ParseRole(mapped)
		if err != nil {
			return User{}, err // the policy loader allows only known roles
		}
		role = r
	}
	var u User
	var refused error
	err := s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		id, err := tx.ExternalIdentity(ctx, in.Issuer, in.Subject)
		switch {
		case errors.Is(err, ErrNotFound):
			if !ok {
				// No account and none to create: nothing is recorded,
				// as for an unknown user name at the password form.
				refused = ErrNotMapped
				return nil
			}
			u, err = s.createExternal(ctx, tx, in, role, now)
			return err
		case err != nil:
			return err
		}
		if u, err = tx.User(ctx, id.UserID); err != nil {
			return err
		}
		switch {
		case u.Disabled:
			refused = ErrAccountDisabled
		case !ok:
			refused = ErrNotMapped
		}
		if refused != nil {
			return s.record(ctx, tx, System, ActionExternalRefused, "", map[string]string{"user_id": u.ID, "reason": refusalCode(refused)})
		}
		if u.Role != role {
			old := u.Role
			u.Role, u.UpdatedAt = role, now
			if err := tx.UpdateUser(ctx, &u); err != nil {
				return err
			}
			// Sessions and tokens of the old role end with the change.
			if err := account.EndAccess(ctx, tx.Accounts(), u.ID, now); err != nil {
				return err
			}
			if err := s.record(ctx, tx, System, ActionExternalRoleChanged, "", map[string]string{"user_id": u.ID, "from": string(old), "to": string(role)}); err != nil {
				return err
			}
		}
		if err := tx.TouchExternalIdentity(ctx, in.Issuer, in.Subject, now); err != nil {
			return err
		}
		return s.record(ctx, tx, u.Actor(), ActionExternalSignIn, "", map[string]string{"user_id": u.ID})
	})
	if err != nil {
		return User{}, err
	}
	if refused != nil {
		return User{}, refused
	}
	return u, nil
}

func refusalCode(err error) string {
	if errors.Is(err, ErrAccountDisabled) {
		return "disabled"
	}
	return "not_mapped"
}

// createExternal creates the account and its link for a first sign-in.
func (s *Service) createExternal(ctx context.Context, tx Tx, in ExternalSignIn, role Role, now time.Time) (User, error) {
	uid, err := s.newID()
	if err != nil {
		return User{}, err
	}
	name, err := freeUsername(ctx, tx, usernameFrom(in.PreferredUsername))
	if err != nil {
		return User{}, err
	}
	email, err := ParseEmail(in.Email)
	if err != nil {
		email = "" // an address Tresor cannot use is left out, not fatal
	}
	display := strings.TrimSpace(in.DisplayName)
	if display == "" || utf8.RuneCountInString(display) > 100 || strings.ContainsFunc(display, unicode.IsControl) {
		display = name
	}
	// No password: an account made by the identity provider signs in
	// there only (an empty hash never verifies).
	u := User{ID: uid, Username: name, DisplayName: display, Role: role, Email: email, CreatedAt: now, UpdatedAt: now}
	if err := tx.CreateUser(ctx, &u); err != nil {
		return User{}, fmt.Errorf("failed to create user %q: %w", u.Username, err)
	}
	if err := tx.CreateExternalIdentity(ctx, ExternalIdentity{Issuer: in.Issuer, Subject: in.Subject, UserID: u.ID, CreatedAt: now, LastSignInAt: now}); err != nil {
		return User{}, fmt.Errorf("failed to link the identity provider's account: %w", err)
	}
	if err := s.record(ctx, tx, System, ActionExternalAccountCreated, "", map[string]string{"user_id": u.ID, "role": string(role), "email_set": strconv.FormatBool(email != "")}); err != nil {
		return User{}, err
	}
	return u, s.record(ctx, tx, u.Actor(), ActionExternalSignIn, "", map[string]string{"user_id": u.ID})
}

var usernameJunk = regexp.MustCompile(`[^a-z0-9._-]+`)

// usernameFrom derives a user name from preferred_username or an e-mail
// address: its local part, lowercased, other characters replaced by "-".
func usernameFrom(preferred string) string {
	s := strings.ToLower(strings.TrimSpace(preferred))
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	s = strings.Trim(usernameJunk.ReplaceAllString(s, "-"), "-._")
	if len(s) > 50 {
		s = strings.TrimRight(s[:50], "-._")
	}
	if !usernamePattern.MatchString(s) {
		return "sso-user"
	}
	return s
}

// freeUsername returns base, or base-2, base-3 … when taken.
func freeUsername(ctx context.Context, tx Tx, base string) (string, error) {
	for i := 1; i <= 1000; i++ {
		name := base
		if i > 1 {
			name = base + "-" + strconv.Itoa(i)
		}
		_, err := tx.UserByName(ctx, name)
		if errors.Is(err, ErrNotFound) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("%w: no free user name near %q", ErrDuplicate, base)
}

// providerSignInRequired reports whether the policy refuses u a password
// sign-in: with oidc.require_oidc_for_all_but_local_admins only admins
// (the break-glass accounts) may still use a password. The answer is the
// same failure as a wrong password, so that it tells a guesser nothing.
func (s *Service) providerSignInRequired(u User) bool {
	return s.policy.OIDC.RequireForAllButLocalAdmins && u.Role != RoleAdmin
}

// EndExternalAccess ends every session and API token of the account
// linked to (issuer, subject), because the identity provider said the
// person's sign-in there ended (back-channel logout: signed out, or
// removed). Sessions and tokens end by the account's change time, which
// every request checks; the account itself stays as it is. It reports
// whether such an account exists; an unknown person is no error, as the
// provider may send logouts for people who never used Tresor.
func (s *Service) EndExternalAccess(ctx context.Context, issuer, subject string) (bool, error) {
	found := false
	err := s.store.Tx(ctx, func(tx Tx) error {
		id, err := tx.ExternalIdentity(ctx, issuer, subject)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		u, err := tx.User(ctx, id.UserID)
		if err != nil {
			return err
		}
		found = true
		u.UpdatedAt = s.now()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		if err := account.EndAccess(ctx, tx.Accounts(), u.ID, u.UpdatedAt); err != nil {
			return err
		}
		return s.record(ctx, tx, System, ActionExternalLoggedOut, "", map[string]string{"user_id": u.ID})
	})
	return found, err
}
