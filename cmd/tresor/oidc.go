package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/web"
)

// discoveryTimeout bounds the discovery at start.
const discoveryTimeout = 30 * time.Second

// identityProvider is the OpenID Connect relying party of TRESOR_OIDC_*
// (handler calls it only when that is set). serve has checked that the
// policy maps a claim.
//
// It reads the provider's discovery document in the background, so that
// the origin of its end-session endpoint is known to the pages' CSP
// before the first sign-out (see web.pageCSP), and Tresor still starts
// while the identity provider is down: then discovery is tried again on
// the next sign-in or sign-out.
func identityProvider(cfg config, pol *policies.Policy, logger *slog.Logger) (web.IdentityProvider, error) {
	rp, err := oidcrp.New(oidcrp.Config{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
		RedirectURL: cfg.OIDC.RedirectURL, PostLogoutRedirectURL: cfg.OIDC.PostLogoutURL, Claim: pol.OIDC.Claim, Rand: rand.Reader})
	if err != nil {
		return nil, err
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), discoveryTimeout)
		defer cancel()
		if err := rp.Discover(ctx); err != nil {
			logger.Warn("identity provider not reachable at start; tried again at the next sign-in or sign-out", "err", incident.ErrorClass(err))
			return
		}
		logger.Info("identity provider discovered", "sign_out_at_provider", rp.EndSessionOrigin() != "")
	}()
	return rp, nil
}

// providerChecker is the relying party the periodic offboarding check
// asks (incident.WithProviderChecker); like identityProvider, it reaches
// the provider only when first used.
func providerChecker(cfg config, pol *policies.Policy, now func() time.Time) (incident.ProviderChecker, error) {
	return oidcrp.New(oidcrp.Config{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
		RedirectURL: cfg.OIDC.RedirectURL, Claim: pol.OIDC.Claim, Rand: rand.Reader, Now: now})
}
