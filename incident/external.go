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
	// Tokens are the provider's latest tokens for the person, sealed.
	Tokens ExternalTokens
}

// ExternalTokens are the identity provider's latest tokens of a linked
// account, each sealed (account.Sealer, purposes PurposeRefreshToken and
// PurposeIDToken, bound to issuer and subject); the plain tokens are never
// stored. The refresh token lets the periodic check ask the provider
// whether it still accepts the person; the ID token is only sent back to
// the provider as id_token_hint when signing out there.
type ExternalTokens struct {
	RefreshSealed string    // "" when the provider issued none, or it was refused
	IDTokenSealed string    // "" when none was stored
	CheckedAt     time.Time // last sign-in or check that reached the provider; zero: never
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
	// SetExternalTokens replaces the sealed tokens and check time of
	// (issuer, subject); ErrNotFound when there is no such identity.
	SetExternalTokens(ctx context.Context, issuer, subject string, t ExternalTokens) error
	// SwapExternalTokens replaces the tokens of (issuer, subject) with t
	// only if they still are old (sealed tokens and check time); else
	// ErrConflict, and ErrNotFound when there is no such identity.
	SwapExternalTokens(ctx context.Context, issuer, subject string, old, t ExternalTokens) error
	// ExternalIdentitiesToCheck returns up to limit identities whose
	// account has a session or an API token neither revoked nor expired
	// at now, and that were last checked before checkedBefore (or
	// never), least recently checked first.
	ExternalIdentitiesToCheck(ctx context.Context, now, checkedBefore time.Time, limit int) ([]ExternalIdentity, error)
	// GrantExternalStepUp sets StepUpUntil of the account's identity;
	// ErrNotFound for a local account.
	GrantExternalStepUp(ctx context.Context, userID string, until time.Time) error
	// ConsumeExternalStepUp clears the account's step-up if it is valid
	// after now, and reports whether it did. Of concurrent calls for one
	// step-up, at most one reports true.
	ConsumeExternalStepUp(ctx context.Context, userID string, now time.Time) (bool, error)
}

// LogoutTokens is the part of Tx that remembers the identity provider's
// back-channel logout tokens used, until they expire.
type LogoutTokens interface {
	// UseLogoutToken records the token (issuer, jti) as used until
	// expiresAt; one recorded already gives ErrDuplicate.
	UseLogoutToken(ctx context.Context, issuer, jti string, expiresAt time.Time) error
	// DeleteExpiredLogoutTokens forgets the tokens that expired before
	// before and returns how many.
	DeleteExpiredLogoutTokens(ctx context.Context, before time.Time) (int64, error)
}

// ExternalLogout is what the adapter learned from a verified back-channel
// logout token: whose sign-in at the provider ended, when the provider
// said so, and the token's id and expiry.
type ExternalLogout struct {
	Issuer, Subject string
	TokenID         string    // jti
	IssuedAt        time.Time // iat
	ExpiresAt       time.Time // exp
}

// ErrLogoutReplayed: this logout token was used already.
var ErrLogoutReplayed = errors.New("logout token used already")

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
	// RefreshToken and IDToken are the provider's raw tokens of this
	// sign-in (RefreshToken "" when it issued none). They are stored
	// sealed only, and never logged or audited.
	RefreshToken string
	IDToken      string
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
	now := s.now()
	tokens, err := s.signInTokens(in, now)
	if err != nil {
		return User{}, err
	}
	var u User
	var refused error
	err = s.store.Tx(ctx, func(tx Tx) error {
		id, err := tx.ExternalIdentity(ctx, in.Issuer, in.Subject)
		switch {
		case errors.Is(err, ErrNotFound):
			if !ok {
				// No account and none to create: nothing is recorded,
				// as for an unknown user name at the password form.
				refused = ErrNotMapped
				return nil
			}
			u, err = s.createExternal(ctx, tx, in, role, tokens, now)
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
		if err := tx.SetExternalTokens(ctx, in.Issuer, in.Subject, tokens); err != nil {
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
func (s *Service) createExternal(ctx context.Context, tx Tx, in ExternalSignIn, role Role, tokens ExternalTokens, now time.Time) (User, error) {
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
	if err := tx.CreateExternalIdentity(ctx, ExternalIdentity{Issuer: in.Issuer, Subject: in.Subject, UserID: u.ID, CreatedAt: now, LastSignInAt: now, Tokens: tokens}); err != nil {
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

// EndExternalAccess ends the sessions and API tokens of the account
// linked to (lo.Issuer, lo.Subject) that were created before lo.IssuedAt,
// because the identity provider said then that the person's sign-in there
// ended (back-channel logout: signed out, or removed). A logout token is
// valid until its exp, so a replayed one must not end a later sign-in:
// each token (issuer, jti) is used once (a second use is
// ErrLogoutReplayed and changes nothing; used tokens are forgotten once
// expired, at the next logout), and what was created after its iat stays
// in any case. Because the provider's iat has whole seconds, the cut-off
// is the end of that second, and never later than now. The account's
// change time moves to the cut-off (never back), which every request
// checks, so that a session that escaped the deletion ends at its next
// use as well; the account itself stays as it is. It reports whether such
// an account exists; an unknown person is no error, as the provider may
// send logouts for people who never used Tresor.
func (s *Service) EndExternalAccess(ctx context.Context, lo ExternalLogout) (bool, error) {
	if lo.IssuedAt.IsZero() || lo.ExpiresAt.IsZero() || lo.TokenID == "" || len(lo.TokenID) > maxExternalField || len(lo.Issuer) > maxExternalField {
		return false, fmt.Errorf("%w: a logout needs its issuer, token id, issue and expiry time", ErrInvalidInput)
	}
	found := false
	err := s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		if _, err := tx.DeleteExpiredLogoutTokens(ctx, now); err != nil {
			return err
		}
		if err := tx.UseLogoutToken(ctx, lo.Issuer, lo.TokenID, lo.ExpiresAt); err != nil {
			if errors.Is(err, ErrDuplicate) {
				return ErrLogoutReplayed
			}
			return err
		}
		id, err := tx.ExternalIdentity(ctx, lo.Issuer, lo.Subject)
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
		cut := lo.IssuedAt.Truncate(time.Second).Add(time.Second)
		if cut.After(now) {
			cut = now
		}
		if cut.After(u.UpdatedAt) {
			u.UpdatedAt = cut
			if err := tx.UpdateUser(ctx, &u); err != nil {
				return err
			}
		}
		if err := account.EndAccessBefore(ctx, tx.Accounts(), u.ID, cut, now); err != nil {
			return err
		}
		return s.record(ctx, tx, System, ActionExternalLoggedOut, "", map[string]string{"user_id": u.ID})
	})
	if err != nil {
		return false, err
	}
	return found, nil
}

// SignedOut is what signing out of a session leads to.
type SignedOut struct {
	// AtProvider: the account is linked to an identity provider, so the
	// person is sent on to sign out there too (RP-initiated logout).
	// Local accounts never are.
	AtProvider bool
	// Issuer is the identity provider's issuer when AtProvider.
	Issuer string
	// IDTokenHint is the latest ID token the provider issued for the
	// account (ProviderLogoutHint), to send back as id_token_hint, so
	// that the provider knows whom to sign out without asking; "" when
	// none is kept.
	IDTokenHint string
}

// SignOut ends the session sessionHash of u, with the sign-out's audit
// entry, as RecordAuthChange(AuthSignedOut) does, and says whether the
// person is to sign out at the identity provider as well (ProviderSignOut),
// with the ID token hint when one is kept. A hint that cannot be read
// does not stop the sign-out: the provider then asks whom to sign out.
func (s *Service) SignOut(ctx context.Context, u User, sessionHash string) (SignedOut, error) {
	out, err := s.ProviderSignOut(ctx, u.ID)
	if err != nil {
		return SignedOut{}, err
	}
	if out.AtProvider {
		hint, err := s.ProviderLogoutHint(ctx, u.ID)
		switch {
		case err == nil:
			out.IDTokenHint = hint
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnavailable):
			// None kept, or no key to open it: sign out without.
		default:
			s.log.Warn("sign-out without the ID token hint", "err", ErrorClass(err))
		}
	}
	err = s.RecordAuthChange(ctx, u.Actor(), AuthSignedOut, u.ID, func(ctx context.Context, acc account.Store) error {
		return acc.DeleteSession(ctx, sessionHash)
	})
	if err != nil {
		return SignedOut{}, err
	}
	return out, nil
}

// ProviderSignOut says whether signing out of a session of the account
// userID goes on to the identity provider: exactly when the account is
// linked to one. Whether that provider offers it is the adapter's to say.
// The pages of such a session allow their forms to lead there (the CSP's
// form-action), the pages of others do not.
func (s *Service) ProviderSignOut(ctx context.Context, userID string) (SignedOut, error) {
	var out SignedOut
	err := s.store.View(ctx, func(tx Tx) error {
		id, err := tx.ExternalIdentityOf(ctx, userID)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		out = SignedOut{AtProvider: true, Issuer: id.Issuer}
		return nil
	})
	if err != nil {
		return SignedOut{}, err
	}
	return out, nil
}
