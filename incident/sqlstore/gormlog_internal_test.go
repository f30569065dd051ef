package sqlstore

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// secret stands for what a caller typed, bound to a statement.
const secret = "Drohung-von-Kevin-0151-2345678"

// GORM's log goes to the slog handler the store was given — failed
// statements as errors, slow ones as warnings, each with its SQL — and
// never carries a bound value: not through GORM's own statement log, not
// through the SQL gorm's Scan records with the values inlined, and not
// through a database error that quotes the rejected value.
func TestGormLogCarriesNoBoundValues(t *testing.T) {
	urls := map[Dialect]string{SQLite: "sqlite:" + filepath.Join(t.TempDir(), "log.db")}
	if u := os.Getenv("TRESOR_TEST_DATABASE_URL"); u != "" {
		urls[Postgres] = u
	}
	ctx := context.Background()
	for d, url := range urls {
		t.Run(string(d), func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s, err := Open(ctx, url, Options{Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.db.WithContext(ctx).Exec("SELECT ? AS x FROM no_such_table", secret).Error; err == nil {
				t.Fatal("a statement on a missing table succeeded")
			}
			var x string
			if err := s.db.WithContext(ctx).Raw("SELECT ? AS x FROM no_such_table", secret).Scan(&x).Error; err == nil {
				t.Fatal("a query on a missing table succeeded")
			}
			if d == Postgres {
				// PostgreSQL quotes the value it cannot convert in its message.
				if err := s.db.WithContext(ctx).Exec("SELECT CAST(CAST(? AS text) AS bigint)", secret).Error; err == nil {
					t.Fatal("a text cast to bigint succeeded")
				}
			}
			slow := s.db.Session(&gorm.Session{Logger: &gormLog{log: log.With("component", "database"), level: logger.Warn, dialect: d, slow: time.Nanosecond}})
			if err := slow.WithContext(ctx).Exec("SELECT ? AS x", secret).Error; err != nil {
				t.Fatal(err)
			}

			var failed, slowSeen int
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var rec struct {
					Level, Msg, Component, SQL, Error string
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("not a JSON record: %q", line)
				}
				if rec.Component != "database" {
					t.Errorf("record without component=database: %s", line)
				}
				switch {
				case rec.Level == "ERROR" && rec.Msg == "database statement failed" && strings.Contains(rec.SQL, "no_such_table"):
					failed++
				case rec.Level == "WARN" && rec.Msg == "slow database statement" && rec.SQL != "":
					slowSeen++
				}
			}
			if failed != 2 || slowSeen != 1 {
				t.Errorf("%d failed and %d slow statements logged, want 2 and 1:\n%s", failed, slowSeen, buf.String())
			}
			if strings.Contains(buf.String(), "Kevin") {
				t.Errorf("the log carries a bound value:\n%s", buf.String())
			}
		})
	}
}

func TestBlankQuotedLiterals(t *testing.T) {
	for _, tc := range []struct {
		d       Dialect
		in, out string
	}{
		{Postgres, `SELECT * FROM "users" WHERE username = 'o''brien' AND id = $1`, `SELECT * FROM "users" WHERE username = '?' AND id = $1`},
		{SQLite, "SELECT * FROM `users` WHERE username = \"kevin\" AND note = 'x'", "SELECT * FROM `users` WHERE username = \"?\" AND note = '?'"},
	} {
		if got := (&gormLog{dialect: tc.d}).blank(tc.in); got != tc.out {
			t.Errorf("%s: %q, want %q", tc.d, got, tc.out)
		}
	}
}
