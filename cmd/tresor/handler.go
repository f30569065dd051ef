package main

import (
	"log/slog"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
	"github.com/tresor-evidence/tresor/wa"
	"github.com/tresor-evidence/tresor/web"
)

// handler builds the HTTP surface: the web interface with its health
// probes (/healthz, /readyz; see readinessChecks). mgr serves the WhatsApp
// pages; nil leaves them saying that WhatsApp is not available. idp is
// the identity provider the login page offers; nil: none. reg
// receives the request metrics; nil keeps none.
func (c *cli) handler(cfg config, svc *incident.Service, pol *policies.Policy, s *sqlstore.Store, mgr *wa.Manager, ev *evidencevault.Vault, idp *oidcrp.RP, logger *slog.Logger, reg prometheus.Registerer) (*web.Server, error) {
	key, err := readSecretKey(cfg.SecretKeyFile)
	if err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	var whatsApp web.WhatsApp
	if mgr != nil {
		whatsApp = waWeb{mgr}
	}
	var bundles web.Bundles
	var v *vault.Vault
	if ev != nil {
		bundles, v = ev, ev.Vault()
	}
	var identity web.IdentityProvider // a nil *oidcrp.RP must stay a nil interface
	if idp != nil {
		identity = idp
	}
	w, err := web.New(web.Config{
		Service: svc, Policy: pol, Accounts: s.Accounts(), SecretKey: key,
		Logger: logger, Clock: c.now,
		TLS: cfg.TLSCertFile != "", TrustedProxies: cfg.TrustedProxies, MaxInFlight: cfg.MaxInFlight,
		WhatsApp: whatsApp, Bundles: bundles,
		Readiness: readinessChecks(s, v), Metrics: reg,
		InitialPassword:  initialPasswordCheck(cfg.DataDir),
		IdentityProvider: identity, IdentityProviderName: cfg.OIDC.Name,
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}
