package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/policies"
)

// discoveryTimeout bounds the discovery at start.
const discoveryTimeout = 30 * time.Second

// identityProvider is the OpenID Connect relying party of TRESOR_OIDC_*
// (serve calls it only when that is set, after checking that the policy
// maps a claim). The one relying party serves the sign-in pages and the
// periodic offboarding check, on the service's clock.
//
// It reads the provider's discovery document in the background, so that
// the origin of its end-session endpoint is known to the pages' CSP
// before the first sign-out (see web.pageCSP), and Tresor still starts
// while the identity provider is down: then discovery is tried again on
// the next sign-in, sign-out or check.
func identityProvider(cfg config, pol *policies.Policy, now func() time.Time, logger *slog.Logger) (*oidcrp.RP, error) {
	rp, err := oidcrp.New(oidcrp.Config{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
		RedirectURL: cfg.OIDC.RedirectURL, PostLogoutRedirectURL: cfg.OIDC.PostLogoutURL, Claim: pol.OIDC.Claim, Rand: rand.Reader, Now: now})
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
