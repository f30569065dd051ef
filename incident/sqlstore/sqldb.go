package sqlstore

import (
	"database/sql"
	"fmt"
)

// SQLDB returns the connection pool under the store, for components that
// keep their own tables in the same database (the WhatsApp adapter's
// device keys). They must not write Tresor's tables (the adapter reads
// wa_captures to know which of whatsmeow's message secrets to keep), and
// Tresor's migrations never touch theirs. Closing the store closes it.
func (s *Store) SQLDB() (*sql.DB, error) {
	db, err := s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("failed to get the database connection pool: %w", err)
	}
	return db, nil
}
