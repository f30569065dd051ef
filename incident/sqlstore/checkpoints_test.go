package sqlstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// TestPostgresCheckpointsAreAppendOnly: saved checkpoints and cosignatures
// cannot be changed or removed, not even by a direct SQL session, so that
// the witnessed checkpoints that would reveal a rewrite cannot be hidden.
func TestPostgresCheckpointsAreAppendOnly(t *testing.T) {
	s := openForTest(t, Postgres)
	ctx := context.Background()
	now := time.Now()
	err := s.Tx(ctx, func(tx incident.Tx) error {
		if err := tx.SaveCheckpoint(ctx, incident.Checkpoint{Size: 1, Root: "r", Note: "n", CreatedAt: now}); err != nil {
			return err
		}
		return tx.SaveCosignature(ctx, incident.Cosignature{Size: 1, Witness: "dpo+01234567", Note: "n", CreatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"audit_checkpoints", "audit_cosignatures"} {
		for _, stmt := range []string{
			`UPDATE ` + table + ` SET note = 'x'`,
			`DELETE FROM ` + table,
			`TRUNCATE ` + table,
		} {
			err := s.db.Exec(stmt).Error
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want the trigger's refusal", stmt, err)
			}
		}
	}
}
