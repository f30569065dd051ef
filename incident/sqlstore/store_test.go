package sqlstore_test

import (
	"testing"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/incident/storetest"
)

// TestConformance runs the store suite on SQLite, and on PostgreSQL when
// TRESOR_TEST_DATABASE_URL is set.
func TestConformance(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) incident.Store { return sqltest.Open(t, d) })
		})
	}
}
