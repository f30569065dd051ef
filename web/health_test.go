package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// serveObserved rebuilds the test server with readiness checks over the
// real store (as cmd/tresor wires them) and a registry for its metrics.
func (e *env) serveObserved(maxInFlight int) *prometheus.Registry {
	e.t.Helper()
	reg := prometheus.NewRegistry()
	var err error
	e.srv, err = New(Config{Service: e.svc, Accounts: e.store.Accounts(), SecretKey: testKey, Clock: e.clock.Now, Rand: rand.Reader,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: e.log}, nil)), WhatsApp: e.wa, Bundles: memBundles{},
		MaxInFlight: maxInFlight, Metrics: reg,
		Readiness: []ReadinessCheck{{Name: "database", Check: e.store.Ping}, {Name: "schema", Check: e.store.CheckSchema}}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.h = e.srv.Handler()
	return reg
}

// probe requests path and decodes the JSON answer.
func probe(t *testing.T, c *client, path string, wantCode int) healthStatus {
	t.Helper()
	w := c.get(path)
	if w.Code != wantCode {
		t.Fatalf("%s: %d, want %d\n%s", path, w.Code, wantCode, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	if wantCode == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", path)
	}
	var st healthStatus
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, w.Body.String())
	}
	for _, leak := range []string{"version", "sql", "closed", "tresor migrate"} {
		if strings.Contains(strings.ToLower(w.Body.String()), leak) {
			t.Errorf("%s: the answer carries error text (%q): %s", path, leak, w.Body.String())
		}
	}
	return st
}

// The probes answer without sign-in: healthy, with a stale schema, and
// with the database closed, and with or without a session cookie.
func TestHealthProbes(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, false, d)
			e.serveObserved(0)
			anon, wanda := e.anon(), e.as("wanda")

			if st := probe(t, anon, "/healthz", http.StatusOK); st.Status != "ok" {
				t.Errorf("healthz: %+v", st)
			}
			st := probe(t, anon, "/readyz", http.StatusOK)
			if st.Status != "ok" || st.Checks["database"] != "ok" || st.Checks["schema"] != "ok" || len(st.Failed) != 0 {
				t.Errorf("healthy readyz: %+v", st)
			}

			// A stale schema: the newest migration is not recorded.
			db, err := e.store.SQLDB()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(context.Background(), fmt.Sprintf("DELETE FROM schema_migrations WHERE version = %d", sqlstore.LatestVersion())); err != nil {
				t.Fatal(err)
			}
			st = probe(t, anon, "/readyz", http.StatusServiceUnavailable)
			if st.Status != "unavailable" || !slices.Equal(st.Failed, []string{"schema"}) || st.Checks["database"] != "ok" {
				t.Errorf("stale schema: %+v", st)
			}
			probe(t, anon, "/healthz", http.StatusOK)

			// The database is gone: its pools are closed.
			if err := e.store.Close(); err != nil {
				t.Fatal(err)
			}
			for name, c := range map[string]*client{"anonymous": anon, "with a session cookie": wanda} {
				st = probe(t, c, "/readyz", http.StatusServiceUnavailable)
				if st.Status != "unavailable" || !slices.Contains(st.Failed, "database") || st.Checks["database"] != "failed" {
					t.Errorf("database closed, %s: %+v", name, st)
				}
				probe(t, c, "/healthz", http.StatusOK)
			}
		})
	}
}

// A full admission queue still answers the probes: they take no slot.
func TestHealthProbesPassFullQueue(t *testing.T) {
	e := newEnv(t)
	e.serveObserved(1)
	e.srv.admission.slots <- struct{}{} // the only slot is taken
	defer func() { <-e.srv.admission.slots }()
	probe(t, e.anon(), "/healthz", http.StatusOK)
	probe(t, e.anon(), "/readyz", http.StatusOK)
}

var hexID = regexp.MustCompile(`[0-9a-f]{32}`)

// The metrics count requests by route pattern and status class, and
// hold no ids, names or raw paths.
func TestMetricsByRoutePattern(t *testing.T) {
	e := newEnv(t)
	reg := e.serveObserved(0)
	wanda := e.as("wanda")
	id := e.flag(wanda, "wamidmetrics", "threat")
	wantStatus(t, wanda.get("/incidents/"+id), http.StatusOK)
	wantStatus(t, wanda.get("/incidents/"+id), http.StatusOK)
	wantStatus(t, wanda.get("/incidents/"+strings.Repeat("0", 32)), http.StatusNotFound)
	wantStatus(t, e.anon().get("/no/such/page/wanda"), http.StatusNotFound)

	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	out := w.Body.String()
	for _, want := range []string{
		`tresor_http_requests_total{method="GET",route="/incidents/:id",status="2xx"} 2`,
		`tresor_http_requests_total{method="GET",route="/incidents/:id",status="4xx"} 1`,
		`tresor_http_requests_total{method="POST",route="/incidents",status="3xx"} 1`,
		`tresor_http_requests_total{method="GET",route="(unmatched)",status="4xx"} 1`,
		`tresor_http_request_duration_seconds_count{method="GET",route="/incidents/:id",status="2xx"} 2`,
		"tresor_admission_waiting 0",
		"tresor_admission_in_flight 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s\n%s", want, out)
		}
	}
	if m := hexID.FindString(out); m != "" {
		t.Errorf("metrics carry an id %s", m)
	}
	for _, leak := range []string{"wanda", "wamid", "/no/such"} {
		if strings.Contains(out, leak) {
			t.Errorf("metrics carry %q", leak)
		}
	}
}
