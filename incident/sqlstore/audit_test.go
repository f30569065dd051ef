package sqlstore

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

// openForTest opens a migrated store; PostgreSQL gets its own schema.
// (sqltest cannot be used here: it imports this package.)
func openForTest(t testing.TB, d Dialect) *Store {
	t.Helper()
	return openURLForTest(t, urlForTest(t, d))
}

// urlForTest returns the URL of a fresh, empty database of the dialect.
func urlForTest(t testing.TB, d Dialect) string {
	t.Helper()
	ctx := context.Background()
	if d != Postgres {
		return "sqlite:" + t.TempDir() + "/t.db"
	}
	base := os.Getenv("TRESOR_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TRESOR_TEST_DATABASE_URL is not set")
	}
	admin, err := Open(ctx, base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("b_%d", time.Now().UnixNano())
	if err := admin.db.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.db.Exec("DROP SCHEMA " + schema + " CASCADE").Error
		_ = admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func openURLForTest(t testing.TB, url string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	return s
}

func dialects() []Dialect {
	if os.Getenv("TRESOR_TEST_DATABASE_URL") != "" {
		return []Dialect{SQLite, Postgres}
	}
	return []Dialect{SQLite}
}

func TestPostgresAuditIsAppendOnly(t *testing.T) {
	s := openForTest(t, Postgres)
	ctx := context.Background()
	err := s.Tx(ctx, func(tx incident.Tx) error {
		_, err := tx.Append(ctx, audit.Entry{Time: time.Now(), Actor: "system", Action: "test"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_entries SET actor = 'x'`,
		`DELETE FROM audit_entries`,
		`TRUNCATE audit_entries`,
	} {
		err := s.db.Exec(stmt).Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the trigger's refusal", stmt, err)
		}
	}
}

func TestStaleSchemaRefused(t *testing.T) {
	for _, d := range dialects() {
		t.Run(string(d), func(t *testing.T) {
			s := openForTest(t, d)
			ctx := context.Background()
			if err := s.CheckSchema(ctx); err != nil {
				t.Fatalf("fresh schema: %v", err)
			}
			if err := s.db.Exec(`INSERT INTO schema_migrations VALUES (?, 'from the future', 0)`, LatestVersion()+1).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "newer than this build") {
				t.Fatalf("newer schema: %v", err)
			}
			if err := s.db.Exec(`DELETE FROM schema_migrations WHERE version >= ?`, LatestVersion()).Error; err != nil {
				t.Fatal(err)
			}
			if err := s.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "run 'tresor migrate' first") {
				t.Fatalf("older schema: %v", err)
			}
		})
	}
}

// fill writes n sealed entries straight into the table in batches, the
// way a long-running installation would have accumulated them.
func fill(tb testing.TB, s *Store, n int) {
	tb.Helper()
	ctx := context.Background()
	var prev *audit.Entry
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 2000
	rows := make([]auditRow, 0, batch)
	flush := func() {
		if len(rows) == 0 {
			return
		}
		if err := s.db.WithContext(ctx).CreateInBatches(rows, 500).Error; err != nil {
			tb.Fatal(err)
		}
		rows = rows[:0]
	}
	for i := 0; i < n; i++ {
		e := audit.Seal(prev, audit.Entry{Time: t0.Add(time.Duration(i) * time.Second), Actor: "4f1c2a9e0b7d4c6e8a1b3c5d7e9f0a2b",
			Action: "step.done", IncidentID: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
			Details: map[string]string{"step": "cloud_backup", "state": "done"}})
		prev = &e
		d, err := encodeDetails(e.Details)
		if err != nil {
			tb.Fatal(err)
		}
		r := auditRow{Seq: e.Seq, TimeUS: us(e.Time), Actor: e.Actor, Action: e.Action, IncidentID: e.IncidentID, Details: d, Hash: e.Hash.String()}
		if e.Seq > 1 {
			r.PrevHash = e.PrevHash.String()
		}
		rows = append(rows, r)
		if len(rows) == batch {
			flush()
		}
	}
	flush()
	if prev != nil {
		if err := s.db.Exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, prev.Seq, prev.Hash.String()).Error; err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkAuditAppend measures one committed transaction holding one
// audit entry, as every state change writes.
func BenchmarkAuditAppend(b *testing.B) {
	for _, d := range dialects() {
		b.Run(string(d), func(b *testing.B) {
			s := openForTest(b, d)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				err := s.Tx(ctx, func(tx incident.Tx) error {
					_, err := tx.Append(ctx, audit.Entry{Time: time.Now(), Actor: "system", Action: "bench",
						Details: map[string]string{"i": strconv.Itoa(i)}})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuditVerify reads and verifies the whole log from the database.
// TRESOR_BENCH_AUDIT_ENTRIES sets its size (default 100000; the README
// figures use 1000000).
func BenchmarkAuditVerify(b *testing.B) {
	n := 100000
	if v := os.Getenv("TRESOR_BENCH_AUDIT_ENTRIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	for _, d := range dialects() {
		b.Run(fmt.Sprintf("%s/%d", d, n), func(b *testing.B) {
			s := openForTest(b, d)
			fill(b, s, n)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				head, err := s.AuditHead(ctx)
				if err != nil {
					b.Fatal(err)
				}
				res, err := audit.Verify(ctx, s.AuditSource(head.Seq), head)
				if err != nil || res.Entries != int64(n) {
					b.Fatalf("verify: %v (%d entries)", err, res.Entries)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/entry")
		})
	}
}
