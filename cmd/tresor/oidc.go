package main

import (
	"crypto/rand"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/web"
)

// identityProvider is the OpenID Connect relying party of TRESOR_OIDC_*
// (handler calls it only when that is set). serve has checked that the
// policy maps a claim.
// The provider is reached on the first sign-in, not at start-up, so that
// Tresor starts while the identity provider is down.
func identityProvider(cfg config, pol *policies.Policy) (web.IdentityProvider, error) {
	return oidcrp.New(oidcrp.Config{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
		RedirectURL: cfg.OIDC.RedirectURL, Claim: pol.OIDC.Claim, Rand: rand.Reader})
}

// providerChecker is the relying party the periodic offboarding check
// asks (incident.WithProviderChecker); like identityProvider, it reaches
// the provider only when first used.
func providerChecker(cfg config, pol *policies.Policy, now func() time.Time) (incident.ProviderChecker, error) {
	return oidcrp.New(oidcrp.Config{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
		RedirectURL: cfg.OIDC.RedirectURL, Claim: pol.OIDC.Claim, Rand: rand.Reader, Now: now})
}
