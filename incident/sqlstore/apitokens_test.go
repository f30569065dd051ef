package sqlstore_test

import (
	"testing"

	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/incident/storetest"
)

// TestAPITokenConformance runs the API token suite on every dialect.
func TestAPITokenConformance(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			storetest.RunAPITokens(t, func(t *testing.T) storetest.TokenBackend { return sqltest.Open(t, d) })
		})
	}
}
