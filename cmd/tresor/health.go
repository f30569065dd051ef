package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/wa"
	"github.com/tresor-evidence/tresor/web"
)

// readinessChecks are what /readyz asks, in order: the database answers,
// its schema is the one this build expects, the vault answers (read
// only), and whatsmeow's device store is at this build's version. A nil
// v (a server without a vault) skips the vault.
func readinessChecks(s *sqlstore.Store, v *vault.Vault) []web.ReadinessCheck {
	checks := []web.ReadinessCheck{
		{Name: "database", Check: s.Ping},
		{Name: "schema", Check: s.CheckSchema},
	}
	if v != nil {
		checks = append(checks, web.ReadinessCheck{Name: "vault", Check: v.Reachable})
	}
	return append(checks, web.ReadinessCheck{Name: "whatsapp_device_store", Check: func(ctx context.Context) error {
		db, err := s.SQLDB()
		if err != nil {
			return err
		}
		return wa.CheckDeviceStore(ctx, db, string(s.Dialect()))
	}})
}

// statsReader is the store read behind the operational metrics.
type statsReader interface {
	OperationalStats(ctx context.Context, now time.Time) (incident.OperationalStats, error)
}

// statsCollector turns the store's counts into metrics at each scrape.
// Its labels are job states and device states, never ids or names.
type statsCollector struct {
	store  statsReader
	now    func() time.Time
	log    *slog.Logger
	ok     *prometheus.Desc
	jobs   *prometheus.Desc
	oldest *prometheus.Desc
	audit  *prometheus.Desc
	sealed *prometheus.Desc
	device *prometheus.Desc
}

func newStatsCollector(store statsReader, now func() time.Time, log *slog.Logger) *statsCollector {
	return &statsCollector{store: store, now: now, log: log,
		ok:     prometheus.NewDesc("tresor_stats_read_ok", "1 when the last scrape could read the counts from the database, else 0.", nil, nil),
		jobs:   prometheus.NewDesc("tresor_jobs", "Jobs by state.", []string{"state"}, nil),
		oldest: prometheus.NewDesc("tresor_jobs_oldest_due_seconds", "How long the oldest pending job has been due; 0 when none is.", nil, nil),
		audit:  prometheus.NewDesc("tresor_audit_entries", "Entries in the audit log.", nil, nil),
		sealed: prometheus.NewDesc("tresor_vault_sealed_bytes", "Ciphertext bytes of the bundles the receipts record.", nil, nil),
		device: prometheus.NewDesc("tresor_whatsapp_devices", "Linked WhatsApp devices by state.", []string{"state"}, nil),
	}
}

// statsTimeout bounds the database read of one scrape.
const statsTimeout = 5 * time.Second

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ok, c.jobs, c.oldest, c.audit, c.sealed, c.device} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	st, err := c.store.OperationalStats(ctx, c.now())
	if err != nil {
		c.log.Warn("metrics: failed to read the counts", "err", err)
		ch <- prometheus.MustNewConstMetric(c.ok, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.ok, prometheus.GaugeValue, 1)
	// Every known state is reported, zero included, so that a state
	// that empties shows 0 rather than vanishing.
	for _, s := range withKnown(incident.JobStates(), st.JobsByState) {
		ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(st.JobsByState[s]), string(s))
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, st.OldestDueJob.Seconds())
	ch <- prometheus.MustNewConstMetric(c.audit, prometheus.GaugeValue, float64(st.AuditEntries))
	ch <- prometheus.MustNewConstMetric(c.sealed, prometheus.GaugeValue, float64(st.BytesSealed))
	for _, s := range withKnown(incident.DeviceStatuses(), st.DevicesByState) {
		ch <- prometheus.MustNewConstMetric(c.device, prometheus.GaugeValue, float64(st.DevicesByState[s]), string(s))
	}
}

// withKnown returns the known states followed by any other state the
// counts hold (a state a newer build wrote), sorted.
func withKnown[S ~string](known []S, counts map[S]int64) []S {
	out := append([]S(nil), known...)
	var extra []S
	for s := range counts {
		if !slices.Contains(known, s) {
			extra = append(extra, s)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// newMetricsRegistry is the server's own registry (no global default):
// Go runtime and process metrics, and the store's counts. The web
// server adds its request and admission metrics.
func newMetricsRegistry(store statsReader, now func() time.Time, log *slog.Logger) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newStatsCollector(store, now, log),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return reg, nil
}

// metricsServer serves reg at /metrics on TRESOR_METRICS_LISTEN; nil when
// that is not set: metrics are off by default.
func metricsServer(cfg config, reg *prometheus.Registry) *http.Server {
	if cfg.MetricsListen == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	return &http.Server{Addr: cfg.MetricsListen, Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}
}
