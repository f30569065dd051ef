package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/wa"
	"github.com/tresor-evidence/tresor/web"
)

// Metrics are off unless TRESOR_METRICS_LISTEN names an address.
func TestMetricsListenerOffByDefault(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsListen != "" {
		t.Fatalf("MetricsListen %q by default", cfg.MetricsListen)
	}
	if srv := metricsServer(cfg, nil); srv != nil {
		t.Fatalf("a metrics server on %q by default", srv.Addr)
	}
	cfg, err = loadConfig(func(k string) string {
		if k == "TRESOR_METRICS_LISTEN" {
			return "127.0.0.1:9464"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if srv := metricsServer(cfg, nil); srv == nil || srv.Addr != "127.0.0.1:9464" {
		t.Fatalf("TRESOR_METRICS_LISTEN=127.0.0.1:9464: %+v", srv)
	}
}

func failedChecks(ctx context.Context, checks []web.ReadinessCheck) []string {
	var failed []string
	for _, c := range checks {
		if c.Check(ctx) != nil {
			failed = append(failed, c.Name)
		}
	}
	return failed
}

// The readiness checks name the vault when its folder is gone and the
// WhatsApp device store while it is behind, and pass once both are right
// (the migrated device store on SQLite; see below).
func TestReadinessChecks(t *testing.T) {
	ctx := context.Background()
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			s := sqltest.Open(t, d)
			dir := t.TempDir() + "/vault"
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			b, err := vault.NewFSBackend(dir)
			if err != nil {
				t.Fatal(err)
			}
			id, err := age.GenerateX25519Identity()
			if err != nil {
				t.Fatal(err)
			}
			v, err := vault.New(b, []vault.Recipient{id.Recipient()}, []string{id.Recipient().String()})
			if err != nil {
				t.Fatal(err)
			}
			checks := readinessChecks(s, v)
			if got := strings.Join(failedChecks(ctx, checks), ","); got != "whatsapp_device_store" {
				t.Fatalf("before the device store is migrated: failed %q", got)
			}
			// whatsmeow's upgrade looks for its version table in every
			// schema (dbutil.TableExists), so on PostgreSQL it would see the
			// tables of tests running beside this one in the same database:
			// the migrated case runs on SQLite only.
			stale := []string{"whatsapp_device_store"}
			if d == sqlstore.SQLite {
				db, err := s.SQLDB()
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := wa.MigrateDeviceStore(ctx, db, string(s.Dialect())); err != nil {
					t.Fatal(err)
				}
				if got := failedChecks(ctx, checks); len(got) != 0 {
					t.Fatalf("healthy: failed %q", got)
				}
				stale = nil
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 0 {
				t.Fatalf("the checks wrote into the vault: %v", entries)
			}
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
			if got, want := failedChecks(ctx, checks), append([]string{"vault"}, stale...); !slices.Equal(got, want) {
				t.Fatalf("vault folder gone: failed %q, want %q", got, want)
			}
		})
	}
}

// The store's counts reach the metrics with state labels only.
func TestStatsMetrics(t *testing.T) {
	ctx := context.Background()
	s := sqltest.Open(t, sqltest.Dialects()[0])
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if err := s.Tx(ctx, func(tx incident.Tx) error {
		return tx.Enqueue(ctx, incident.Job{Kind: incident.JobNotify, IncidentID: strings.Repeat("ab", 16),
			Key: "notify-" + strings.Repeat("cd", 16), RunAt: now.Add(-90 * time.Second), CreatedAt: now.Add(-90 * time.Second)})
	}); err != nil {
		t.Fatal(err)
	}
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(s, pol, nil, nil, incident.WithClock(func() time.Time { return now }),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}))
	if _, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: "wanda", Role: incident.RoleWorker, Password: "correct horse wanda"}); err != nil {
		t.Fatal(err)
	}
	head, err := s.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Seq == 0 {
		t.Fatal("adding a user wrote no audit entry")
	}
	reg, err := newMetricsRegistry(s, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	scrape := func() string {
		w := httptest.NewRecorder()
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return w.Body.String()
	}
	out := scrape()
	for _, want := range []string{
		"tresor_stats_read_ok 1",
		`tresor_jobs{state="pending"} 1`,
		`tresor_jobs{state="dead"} 0`,
		"tresor_jobs_oldest_due_seconds 90",
		fmt.Sprintf("tresor_audit_entries %d", head.Seq),
		"tresor_vault_sealed_bytes 0",
		`tresor_whatsapp_devices{state="connected"} 0`,
		"go_goroutines",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if m := regexp.MustCompile(`[0-9a-f]{32}`).FindString(out); m != "" {
		t.Errorf("metrics carry an id %s", m)
	}
	if strings.Contains(out, "wanda") {
		t.Error("metrics carry a user name")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out := scrape(); !strings.Contains(out, "tresor_stats_read_ok 0") {
		t.Errorf("database closed: %s", out)
	}
}
