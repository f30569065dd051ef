package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/smtpmail"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
	"github.com/tresor-evidence/tresor/wa"
)

func (c *cli) cmdServe(ctx context.Context, args []string) (err error) {
	fs := c.flags("serve", "serve\n\nRuns the web service and the job worker. With no configuration it uses SQLite and a\n"+
		"filesystem vault in ./tresor-data and prepares both on the first run.\n\n"+envVars)
	if err := parse(fs, args); err != nil {
		return err
	}
	tuneGC(c.getenv)
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		return err
	}
	pol, err := loadPolicy(cfg)
	if err != nil {
		return err
	}
	if cfg.OIDC.Enabled() && !pol.OIDC.Enabled() {
		return fmt.Errorf("TRESOR_OIDC_ISSUER is set but the policy has no oidc section mapping the identity provider's groups or roles to Tresor roles; add one (see README, Sign-in through an identity provider)")
	}
	if !cfg.OIDC.Enabled() && pol.OIDC.RequireForAllButLocalAdmins {
		return fmt.Errorf("the policy's oidc.require_oidc_for_all_but_local_admins would leave only admins able to sign in, but no identity provider is configured; set TRESOR_OIDC_ISSUER and the other TRESOR_OIDC_* settings, or remove the setting")
	}
	s, err := c.openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	if err := c.firstRun(ctx, cfg, s); err != nil {
		return err
	}
	if err := s.CheckSchema(ctx); err != nil {
		return err
	}
	v, err := openVault(ctx, cfg, c.now, true, true)
	if err != nil {
		return err
	}
	ev := evidencevault.New(v, evidencevault.WithClock(c.now), evidencevault.WithRetention(categoryRetention(pol)))
	logger := c.logger(cfg)
	mgr, err := openWhatsApp(ctx, cfg, s, logger)
	if err != nil {
		return err
	}
	witnesses, err := cfg.witnessKeys()
	if err != nil {
		return err
	}
	key, err := readSecretKey(cfg.SecretKeyFile)
	if err != nil {
		return err
	}
	factors, err := account.NewFactors(key, rand.Reader, c.now)
	if err != nil {
		return err
	}
	// The identity provider's refresh and ID tokens are sealed under a
	// key of their own, derived from the secret key.
	tokenKey, err := account.DeriveKey(key, incident.TokenKeyLabel)
	if err != nil {
		return err
	}
	tokenSealer, err := account.NewSealer(tokenKey, rand.Reader)
	if err != nil {
		return err
	}
	opts := []incident.Option{incident.WithClock(c.now), incident.WithWitnessKeys(witnesses...), incident.WithFactors(factors),
		incident.WithLogger(logger.With("component", "jobs")), incident.WithTokenSealer(tokenSealer)}
	var idp *oidcrp.RP // nil: no identity provider
	if cfg.OIDC.Enabled() {
		if idp, err = identityProvider(cfg, pol, c.now, logger); err != nil {
			return err
		}
		opts = append(opts, incident.WithProviderChecker(idp))
	}
	if cfg.SMTPURL != "" {
		m, err := smtpmail.New(cfg.SMTPURL, cfg.SMTPFrom, smtpmail.Options{Now: c.now})
		if err != nil {
			return fmt.Errorf("TRESOR_SMTP_URL: %w", err)
		}
		opts = append(opts, incident.WithMailer(m, cfg.PublicURL))
	} else {
		fmt.Fprintln(c.stderr, "TRESOR_SMTP_URL is not set: notifications are recorded in the audit log as not sent")
	}
	svc := incident.NewService(s, pol, ev, mgr, opts...)
	mgr.SetFlagger(svc)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("failed to listen: %w", err)
	}
	var reg *prometheus.Registry
	var metricsSrv *http.Server
	var metricsLn net.Listener
	if cfg.MetricsListen != "" {
		if reg, err = newMetricsRegistry(s, c.now, logger); err != nil {
			_ = ln.Close()
			return err
		}
		metricsSrv = metricsServer(cfg, reg)
		if metricsLn, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			_ = ln.Close()
			return fmt.Errorf("failed to listen for metrics (TRESOR_METRICS_LISTEN): %w", err)
		}
	}
	var metricsReg prometheus.Registerer
	if reg != nil {
		metricsReg = reg
	}
	handler, err := c.handler(cfg, svc, pol, s, mgr, ev, idp, logger, metricsReg)
	if err != nil {
		_ = ln.Close()
		if metricsLn != nil {
			_ = metricsLn.Close()
		}
		return err
	}
	srv := &http.Server{Handler: handler.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Minute,
		WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	srv.RegisterOnShutdown(handler.EndStreams)
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(c.stdout, "tresor %s listening on %s://%s\n", toolVersion(), scheme, ln.Addr())
	if metricsSrv != nil {
		fmt.Fprintf(c.stdout, "metrics on http://%s/metrics\n", metricsLn.Addr())
		go func() {
			if err := metricsSrv.Serve(metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics server stopped", "err", err)
			}
		}()
		defer func() {
			shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if serr := metricsSrv.Shutdown(shutdown); serr != nil {
				logger.Warn("metrics server shutdown", "err", serr)
			}
		}()
	}

	workCtx, stopWork := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		svc.Work(workCtx, 2*time.Second)
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		if err := mgr.Run(workCtx); err != nil {
			logger.Error("whatsapp devices stopped", "err", err)
		}
	}()
	serveErr := make(chan error, 1)
	go func() {
		if cfg.TLSCertFile != "" {
			serveErr <- srv.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	select {
	case err = <-serveErr:
		stopWork()
	case <-ctx.Done():
		// The job worker hands its job back at once (see
		// incident.Service.RunDue); requests in flight get the grace.
		logger.Info("shutting down: waiting for requests in flight", "grace", cfg.ShutdownGrace.String())
		stopWork()
		err = drain(srv, cfg.ShutdownGrace, logger)
	}
	<-done
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err == nil {
		logger.Info("stopped")
	}
	return err
}

// tuneGC lets the heap grow to five times the live data before collecting
// (GOGC=400) unless GOGC is set: the service's live heap is small, and
// fewer collections keep page latency low on a two-core server.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// firstRun prepares an empty database and data folder, and creates the
// first admin with a random password kept in a 0600 file, so that
// `tresor serve` works on a fresh machine without any set-up. A database
// that is merely behind is never migrated here: that is `tresor migrate`.
func (c *cli) firstRun(ctx context.Context, cfg config, s *sqlstore.Store) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != 0 {
		return err
	}
	fmt.Fprintln(c.stdout, "first run: preparing", cfg.DataDir)
	if err := c.bootstrap(ctx, cfg, s); err != nil {
		return err
	}
	pol, err := loadPolicy(cfg)
	if err != nil {
		return err
	}
	svc := incident.NewService(s, pol, nil, nil, incident.WithClock(c.now))
	pw, err := randomPassword()
	if err != nil {
		return err
	}
	pwFile := filepath.Join(cfg.DataDir, initialPasswordFile)
	if err := writeNew(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		return err
	}
	if _, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: "admin", Role: incident.RoleAdmin, Password: pw}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "first admin: user \"admin\", password in %s (read it, sign in, then delete the file)\n", pwFile)
	return nil
}

// openWhatsApp prepares the linked-device manager: whatsmeow's device
// keys live in the same database, captured messages are encrypted with
// the key in TRESOR_WA_KEY_FILE, and so is the spool in DATA/wa-spool.
func openWhatsApp(ctx context.Context, cfg config, s *sqlstore.Store, logger *slog.Logger) (*wa.Manager, error) {
	db, err := s.SQLDB()
	if err != nil {
		return nil, err
	}
	devices, err := wa.OpenDeviceStore(ctx, db, string(s.Dialect()))
	if err != nil {
		return nil, fmt.Errorf("failed to open the WhatsApp device store: %w", err) // ErrStaleDeviceStore says what to run
	}
	sealer, err := wa.LoadSealer(cfg.WAKeyFile)
	if err != nil {
		return nil, fmt.Errorf("failed to load the WhatsApp capture key (run 'tresor init'): %w", err)
	}
	// Captures and flags the database does not take within the retry
	// window wait here, sealed with the same key, until it is back.
	spool, err := wa.OpenSpool(filepath.Join(cfg.DataDir, "wa-spool"), sealer)
	if err != nil {
		return nil, err
	}
	return wa.NewManager(wa.Config{Store: s, Devices: devices, Sealer: sealer, Options: wa.Options{Log: logger, Spool: spool},
		DB: db, Dialect: string(s.Dialect()),
		// whatsmeow's own log: warnings and errors, redacted (wa.Redact).
		WALog: wa.NewWALogger(logger, slog.LevelWarn), Proxy: cfg.WAProxy})
}

// categoryRetention is how long the policy keeps evidence of a category:
// an S3 vault with Object Lock retains each bundle that long.
func categoryRetention(pol *policies.Policy) func(string) time.Duration {
	return func(category string) time.Duration {
		c, err := pol.Category(category)
		if err != nil {
			return 0
		}
		return c.Retention
	}
}
