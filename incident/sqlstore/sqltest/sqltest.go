// Package sqltest opens migrated, isolated stores for tests: SQLite in a
// temporary directory always, and PostgreSQL when TRESOR_TEST_DATABASE_URL
// is set (each store gets its own schema, dropped after the test).
package sqltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

// EnvURL names the variable holding the PostgreSQL test database URL.
const EnvURL = "TRESOR_TEST_DATABASE_URL"

// Dialects lists the databases available to this test run.
func Dialects() []sqlstore.Dialect {
	if os.Getenv(EnvURL) != "" {
		return []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres}
	}
	return []sqlstore.Dialect{sqlstore.SQLite}
}

// URL returns a database URL for a fresh, empty database of the dialect.
func URL(t testing.TB, d sqlstore.Dialect) string {
	t.Helper()
	if d == sqlstore.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "tresor.db")
	}
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skip(EnvURL + " is not set")
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("postgres cleanup: %v", err)
		}
		if db, err := admin.DB(); err == nil {
			_ = db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store of the dialect, closed after the test.
func Open(t testing.TB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	return OpenURL(t, URL(t, d))
}

// OpenURL returns a migrated store of the database at url, closed after the test.
func OpenURL(t testing.TB, url string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if _, err := s.Migrate(ctx, time.Now()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}
