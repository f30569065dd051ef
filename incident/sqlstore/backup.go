package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/tresor-evidence/tresor/incident"
)

// ErrNotEmpty: a restore found the target database holding tables.
var ErrNotEmpty = errors.New("the database is not empty")

// SnapshotSQLite writes a consistent copy of the SQLite database to path
// with VACUUM INTO, while other processes go on reading and writing (WAL).
// path must not exist. The copy holds every committed transaction up to
// one instant and nothing of later ones.
func (s *Store) SnapshotSQLite(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return fmt.Errorf("VACUUM INTO needs SQLite, not %s", s.dialect)
	}
	if err := s.db.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("failed to copy the database: %w", translate(err))
	}
	return nil
}

// SnapshotReceiptsSQLite reads the receipts of bundles not destroyed from
// a SQLite snapshot written by SnapshotSQLite, opened read-only and
// immutable so that reading leaves the file as it is.
func SnapshotReceiptsSQLite(ctx context.Context, path string) (rs []incident.Receipt, err error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("snapshot path %q must not contain ? or #", path)
	}
	db, err := gorm.Open(sqlite.Open("file:"+path+"?mode=ro&immutable=1"), &gorm.Config{Logger: logger.Discard, TranslateError: true})
	if err != nil {
		return nil, fmt.Errorf("failed to open the database copy: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("failed to open the database copy: %w", err)
	}
	defer func() {
		if cerr := sqlDB.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("failed to close the database copy: %w", cerr)
		}
	}()
	return liveReceipts(db.WithContext(ctx))
}

// ExportSnapshot (PostgreSQL) opens a read-only REPEATABLE READ
// transaction, exports its snapshot (pg_export_snapshot) and reads the
// receipts of bundles not destroyed in it, then calls fn with the
// snapshot's name while the transaction stays open: `pg_dump
// --snapshot=NAME` then dumps exactly the state the receipts come from.
func (s *Store) ExportSnapshot(ctx context.Context, fn func(ctx context.Context, snapshot string, receipts []incident.Receipt) error) error {
	if s.dialect != Postgres {
		return fmt.Errorf("exported snapshots need PostgreSQL, not %s", s.dialect)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var name string
		if err := tx.Raw("SELECT pg_export_snapshot()").Scan(&name).Error; err != nil {
			return fmt.Errorf("failed to export a database snapshot: %w", translate(err))
		}
		rs, err := liveReceipts(tx)
		if err != nil {
			return err
		}
		return fn(ctx, name, rs)
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	return translate(err)
}

// liveReceipts lists the receipts of incidents whose bundle is not
// destroyed, in bundle order.
func liveReceipts(db *gorm.DB) ([]incident.Receipt, error) {
	var rows []incidentRow
	if err := db.Where("receipt_bundle_id IS NOT NULL AND destroyed_at IS NULL").Order("receipt_bundle_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to read the receipts: %w", translate(err))
	}
	out := make([]incident.Receipt, 0, len(rows))
	for _, r := range rows {
		if inc := r.incident(); inc.Receipt != nil {
			out = append(out, *inc.Receipt)
		}
	}
	return out, nil
}

// Receipts lists the receipts of bundles not destroyed, as they are now.
func (s *Store) Receipts(ctx context.Context) ([]incident.Receipt, error) {
	return liveReceipts(s.reader.WithContext(ctx))
}

// CheckEmpty returns ErrNotEmpty (wrapped, with the number of tables)
// unless the database holds no table: a restore fills only an empty one.
func (s *Store) CheckEmpty(ctx context.Context) error {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
	if s.dialect == Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=current_schema()"
	}
	var n int64
	if err := s.db.WithContext(ctx).Raw(q).Scan(&n).Error; err != nil {
		return fmt.Errorf("failed to look at the database: %w", translate(err))
	}
	if n > 0 {
		return fmt.Errorf("%w: it holds %d table(s)", ErrNotEmpty, n)
	}
	return nil
}

// ServerVersion reports PostgreSQL's major version (15 for 15.4).
func (s *Store) ServerVersion(ctx context.Context) (int, error) {
	if s.dialect != Postgres {
		return 0, fmt.Errorf("server versions are PostgreSQL's, not %s's", s.dialect)
	}
	var num int
	if err := s.db.WithContext(ctx).Raw("SELECT current_setting('server_version_num')::int").Scan(&num).Error; err != nil {
		return 0, fmt.Errorf("failed to read the server version: %w", translate(err))
	}
	return num / 10000, nil
}
