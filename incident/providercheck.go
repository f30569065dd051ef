package incident

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/policies"
)

// The periodic offboarding check. Someone removed at the identity
// provider cannot sign in again; this check also ends what they already
// have — their Tresor sessions and API tokens — at the latest one check
// interval (policy oidc.offboarding_check_interval) after the provider
// stops accepting them, for providers that send no back-channel logout
// (Entra ID). For each linked account that still has a session or an API
// token, the provider is asked with the stored refresh token (refresh,
// then userinfo with the new access token):
//
//   - still accepted, and the claim values map to the account's role:
//     nothing ends; the rotated refresh token is stored;
//   - still accepted, but the values map to another role or to none:
//     sessions and tokens end (the new role applies at the next sign-in);
//   - the refresh token is refused (invalid_grant): sessions and tokens
//     end and the stored token is dropped, the account stays as it is — an
//     expired refresh token and a removed person look the same here;
//   - the provider refuses the person at userinfo (401/403): sessions and
//     tokens end;
//   - the provider cannot be reached or answers 5xx: nothing ends, the
//     failure is logged by class, and the account is asked again at the
//     next check;
//   - no refresh token is stored (the provider issued none, or an earlier
//     check dropped it), it does not open, or the account belongs to
//     another issuer than the configured one: the account cannot be
//     checked, so its sessions and tokens end; signing in again stores a
//     new refresh token;
//   - any other answer (one that does not pass the adapter's checks)
//     cannot confirm the person either: sessions and tokens end.
//
// Each ending commits with one audit entry (auth.provider_check_ended,
// with a fixed reason code, never the provider's text).

// ProviderChecker asks the identity provider whether it still accepts a
// person; internal/oidcrp implements it.
type ProviderChecker interface {
	// Issuer is the configured provider's issuer: identities of another
	// issuer cannot be checked with it.
	Issuer() string
	// Recheck redeems refreshToken (the person's, whose subject is given)
	// and asks the provider about the person with the new access token.
	// Errors wrap ErrRefreshRefused, ErrProviderRefused or ErrUnavailable
	// where those apply; the answer's subject equals subject.
	Recheck(ctx context.Context, subject, refreshToken string) (ProviderAnswer, error)
}

// ProviderAnswer is what the provider said about a person it still
// accepts.
type ProviderAnswer struct {
	// ClaimValues are the values of the policy's oidc.claim, from the
	// refreshed ID token when the provider sent one with the claim
	// (Entra ID puts app roles only there), else from userinfo.
	ClaimValues []string
	// RefreshToken is the rotated refresh token; "" when the provider
	// keeps the old one valid.
	RefreshToken string
	// IDToken is the refreshed raw ID token; "" when none came.
	IDToken string
}

var (
	// ErrRefreshRefused: the provider refused the refresh token
	// (invalid_grant): expired, revoked, or its person removed.
	ErrRefreshRefused = errors.New("the identity provider refused the refresh token")
	// ErrProviderRefused: the provider refused to tell about the person
	// (userinfo 401 or 403): it no longer accepts them.
	ErrProviderRefused = errors.New("the identity provider no longer accepts the person")
)

// ActionProviderCheckEnded: the periodic check ended every session and
// API token of a linked account; "reason" is one of the CheckReason codes.
const ActionProviderCheckEnded Action = "auth.provider_check_ended"

// CheckReason says why the periodic check ended an account's access.
type CheckReason string

// Reasons of ActionProviderCheckEnded.
const (
	CheckRefreshRefused CheckReason = "refresh_refused" // invalid_grant
	CheckRefused        CheckReason = "provider_refused"
	CheckNotMapped      CheckReason = "not_mapped"
	CheckRoleChanged    CheckReason = "role_changed"
	CheckNoRefreshToken CheckReason = "no_refresh_token"
	CheckOtherIssuer    CheckReason = "other_issuer"
	CheckUnconfirmed    CheckReason = "unconfirmed" // an answer that did not pass the adapter's checks
)

// DefaultProviderCheckInterval is the check's interval when the policy
// sets none (policies.OIDC.CheckInterval).
const DefaultProviderCheckInterval = policies.DefaultCheckInterval

// providerCheckBatch bounds the identities one query returns.
const providerCheckBatch = 100

// WithProviderChecker makes Work run the periodic offboarding check
// against c.
func WithProviderChecker(c ProviderChecker) Option { return func(s *Service) { s.provider = c } }

func (s *Service) providerCheckInterval() time.Duration { return s.policy.OIDC.Interval() }

// ProviderCheck counts what one check did.
type ProviderCheck struct {
	Confirmed int // the provider still accepts the person, with the same role
	Ended     int // sessions and tokens ended, each with an audit entry
	// Unreachable is set when the provider could not be reached: the
	// check stopped there, and the rest is asked at the next check.
	Unreachable bool
}

// verdict is the rule: what an answer of the provider means for an
// account whose role is current. end says its sessions and tokens end;
// dropRefresh that the stored refresh token is no longer of use; retry
// that nothing is decided (the provider could not be reached).
type verdict struct {
	end         bool
	reason      CheckReason
	dropRefresh bool
	retry       bool
}

// decide applies the rule to the adapter's answer (or error).
func (s *Service) decide(current Role, ans ProviderAnswer, err error) verdict {
	switch {
	case errors.Is(err, ErrUnavailable):
		return verdict{retry: true}
	case errors.Is(err, ErrRefreshRefused):
		return verdict{end: true, reason: CheckRefreshRefused, dropRefresh: true}
	case errors.Is(err, ErrProviderRefused):
		return verdict{end: true, reason: CheckRefused, dropRefresh: true}
	case err != nil:
		return verdict{end: true, reason: CheckUnconfirmed, dropRefresh: true}
	}
	mapped, ok := s.policy.OIDC.RoleFor(ans.ClaimValues)
	switch {
	case !ok:
		return verdict{end: true, reason: CheckNotMapped}
	case Role(mapped) != current:
		return verdict{end: true, reason: CheckRoleChanged}
	}
	return verdict{}
}

// CheckExternalAccounts runs the offboarding check once: every linked
// account with a session or an API token that the provider has not
// vouched for (by a sign-in or a check) since this check began is asked
// about (see the rules above), so that a removal takes effect at the
// next check after it. It stops at the first unreachable answer. Without
// a ProviderChecker it does nothing.
func (s *Service) CheckExternalAccounts(ctx context.Context) (ProviderCheck, error) {
	var rep ProviderCheck
	if s.provider == nil {
		return rep, nil
	}
	cutoff := s.now()
	for {
		var ids []ExternalIdentity
		err := s.store.View(ctx, func(tx Tx) (err error) {
			ids, err = tx.ExternalIdentitiesToCheck(ctx, s.now(), cutoff, providerCheckBatch)
			return err
		})
		if err != nil {
			return rep, err
		}
		for _, id := range ids {
			ended, err := s.checkExternal(ctx, id)
			switch {
			case errors.Is(err, ErrUnavailable):
				rep.Unreachable = true
				return rep, nil
			case err != nil:
				return rep, err
			case ended:
				rep.Ended++
			default:
				rep.Confirmed++
			}
		}
		if len(ids) < providerCheckBatch {
			return rep, nil
		}
	}
}

// checkExternal asks the provider about one identity and commits the
// outcome; an error wrapping ErrUnavailable says nothing was decided.
func (s *Service) checkExternal(ctx context.Context, id ExternalIdentity) (ended bool, err error) {
	var v verdict
	var ans ProviderAnswer
	refresh, err := s.openToken(id.Tokens.RefreshSealed, PurposeRefreshToken, id.Issuer, id.Subject)
	switch {
	case id.Issuer != s.provider.Issuer():
		v = verdict{end: true, reason: CheckOtherIssuer}
	case errors.Is(err, account.ErrSealed) || err == nil && refresh == "":
		v = verdict{end: true, reason: CheckNoRefreshToken, dropRefresh: true}
	case err != nil:
		return false, err
	default:
		var u User
		if err := s.store.View(ctx, func(tx Tx) (err error) { u, err = tx.User(ctx, id.UserID); return }); err != nil {
			return false, err
		}
		var aerr error
		ans, aerr = s.provider.Recheck(ctx, id.Subject, refresh)
		if v = s.decide(u.Role, ans, aerr); v.retry {
			s.log.Warn("identity provider check: provider unreachable, asked again at the next check", "error_class", ErrorClass(aerr))
			return false, fmt.Errorf("%w: identity provider check", ErrUnavailable)
		}
	}
	tokens := id.Tokens
	tokens.CheckedAt = s.now()
	if v.dropRefresh {
		tokens.RefreshSealed = ""
	} else if ans.RefreshToken != "" {
		if tokens.RefreshSealed, err = s.sealToken(ans.RefreshToken, PurposeRefreshToken, id.Issuer, id.Subject); err != nil {
			return false, err
		}
	}
	if ans.IDToken != "" {
		if tokens.IDTokenSealed, err = s.sealToken(ans.IDToken, PurposeIDToken, id.Issuer, id.Subject); err != nil {
			return false, err
		}
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		err := tx.SwapExternalTokens(ctx, id.Issuer, id.Subject, id.Tokens, tokens)
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
			// A sign-in (or another check) stored newer tokens
			// meanwhile, so the provider vouched for the person since
			// and this answer is about a token it replaced; or the
			// link is gone.
			return nil
		}
		if err != nil {
			return err
		}
		if !v.end {
			return nil
		}
		u, err := tx.User(ctx, id.UserID)
		if err != nil {
			return err
		}
		// Sessions and tokens end by the account's change time, which
		// every request checks, and are deleted and revoked.
		u.UpdatedAt = tokens.CheckedAt
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		if err := account.EndAccess(ctx, tx.Accounts(), u.ID, tokens.CheckedAt); err != nil {
			return err
		}
		ended = true
		return s.record(ctx, tx, System, ActionProviderCheckEnded, "", map[string]string{"user_id": u.ID, "reason": string(v.reason)})
	})
	return ended, err
}

// checkProviderIfDue runs CheckExternalAccounts when Work starts and every
// check interval after, by the injected clock.
func (s *Service) checkProviderIfDue(ctx context.Context) {
	if s.provider == nil {
		return
	}
	if !s.providerCheck.due(s.now(), s.providerCheckInterval()) {
		return
	}
	rep, err := s.CheckExternalAccounts(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Error("identity provider check failed", "error_class", ErrorClass(err))
	}
	if rep != (ProviderCheck{}) {
		s.log.Info("identity provider check", "confirmed", rep.Confirmed, "ended", rep.Ended, "provider_unreachable", rep.Unreachable)
	}
}
