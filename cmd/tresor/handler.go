package main

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/wa"
	"github.com/tresor-evidence/tresor/web"
)

// handler builds the HTTP surface: the web interface, and /healthz, which
// answers 200 while the database answers with the expected schema, else
// 503, for load balancers and monitoring. mgr serves the WhatsApp pages;
// nil leaves them saying that WhatsApp is not available.
func (c *cli) handler(cfg config, svc *incident.Service, pol *policies.Policy, s *sqlstore.Store, mgr *wa.Manager, v *vault.Vault, logger *slog.Logger) (http.Handler, error) {
	key, err := readSecretKey(cfg.SecretKeyFile)
	if err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	var whatsApp web.WhatsApp
	if mgr != nil {
		whatsApp = waWeb{mgr}
	}
	w, err := web.New(web.Config{
		Service: svc, Policy: pol, Sessions: s, SecretKey: key,
		Logger: logger, Clock: c.now,
		TLS: cfg.TLSCertFile != "", TrustedProxies: cfg.TrustedProxies, MaxInFlight: cfg.MaxInFlight,
		WhatsApp: whatsApp, Bundles: vaultBundles{v},
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := s.CheckSchema(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n")) // a failed write means the client left
	})
	mux.Handle("/", w.Handler())
	return mux, nil
}
