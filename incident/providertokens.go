package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/account"
)

// The identity provider's tokens of a linked account are kept sealed
// (ExternalTokens): the refresh token for the periodic offboarding check
// (providercheck.go), the latest ID token as the hint for signing out at
// the provider.

// TokenKeyLabel is the HKDF label of the key that seals the identity
// provider's tokens, derived from the server's secret key
// (account.DeriveKey); it is independent of the key of second factors.
const TokenKeyLabel = "tresor/oidc-tokens/v1"

// Purposes the identity provider's tokens are sealed for; each is bound
// to the identity's issuer and subject as well.
const (
	PurposeRefreshToken = "oidc-refresh"
	PurposeIDToken      = "oidc-id-token"
)

// WithTokenSealer lets the service keep the identity provider's refresh
// and ID tokens, sealed with sl (a key derived with TokenKeyLabel).
// Without it no token is kept: the offboarding check then ends the access
// of every linked account it looks at, and ProviderLogoutHint finds none.
func WithTokenSealer(sl *account.Sealer) Option { return func(s *Service) { s.tokens = sl } }

// tokenOwner binds a sealed token to one identity.
func tokenOwner(issuer, subject string) string { return issuer + "\x00" + subject }

// sealToken seals a raw token; "" stays "".
func (s *Service) sealToken(raw, purpose, issuer, subject string) (string, error) {
	if raw == "" || s.tokens == nil {
		return "", nil
	}
	out, err := s.tokens.Seal([]byte(raw), purpose, tokenOwner(issuer, subject))
	if err != nil {
		return "", fmt.Errorf("failed to seal the identity provider's token: %w", err)
	}
	return out, nil
}

// openToken opens a sealed token of the identity; "" stays "".
func (s *Service) openToken(sealed, purpose, issuer, subject string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if s.tokens == nil {
		return "", fmt.Errorf("%w: no key to open the identity provider's tokens", ErrUnavailable)
	}
	raw, err := s.tokens.Open(sealed, purpose, tokenOwner(issuer, subject))
	if err != nil {
		return "", fmt.Errorf("failed to open the identity provider's token: %w", err)
	}
	return string(raw), nil
}

// signInTokens seals the tokens of a sign-in; the sign-in counts as a
// check at the provider.
func (s *Service) signInTokens(in ExternalSignIn, now time.Time) (ExternalTokens, error) {
	refresh, err := s.sealToken(in.RefreshToken, PurposeRefreshToken, in.Issuer, in.Subject)
	if err != nil {
		return ExternalTokens{}, err
	}
	idt, err := s.sealToken(in.IDToken, PurposeIDToken, in.Issuer, in.Subject)
	if err != nil {
		return ExternalTokens{}, err
	}
	return ExternalTokens{RefreshSealed: refresh, IDTokenSealed: idt, CheckedAt: now}, nil
}

// ProviderLogoutHint returns the latest raw ID token the identity provider
// issued for the account, to send back to it as id_token_hint when
// signing out there (RP-initiated logout) and for nothing else. A local
// account, or one without a stored ID token, gives an error wrapping
// ErrNotFound.
func (s *Service) ProviderLogoutHint(ctx context.Context, userID string) (string, error) {
	var id ExternalIdentity
	err := s.store.View(ctx, func(tx Tx) (err error) { id, err = tx.ExternalIdentityOf(ctx, userID); return })
	if err != nil {
		return "", err
	}
	if id.Tokens.IDTokenSealed == "" {
		return "", fmt.Errorf("ID token of user %s: %w", userID, ErrNotFound)
	}
	return s.openToken(id.Tokens.IDTokenSealed, PurposeIDToken, id.Issuer, id.Subject)
}
