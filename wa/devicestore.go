package wa

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	wastore "go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/store/sqlstore/upgrades"
)

// ErrStaleDeviceStore: whatsmeow's tables in the database are older (or
// newer) than this build's whatsmeow; `tresor migrate` upgrades them.
var ErrStaleDeviceStore = errors.New("the WhatsApp device store needs 'tresor migrate'")

// DeviceStoreVersion is the version of whatsmeow's store schema
// (whatsmeow_version) this build needs: the length of whatsmeow's
// upgrade table.
func DeviceStoreVersion() int { return len(upgrades.Table) }

// MigrateDeviceStore creates or upgrades whatsmeow's tables (whatsmeow_*)
// in Tresor's database with whatsmeow's own upgrades
// (Container.Upgrade). It is part of `tresor migrate`, run by a role that
// owns the tables; serve only checks the version ([OpenDeviceStore]), so
// the serving role needs no right to change the schema. It returns the
// versions before and after.
func MigrateDeviceStore(ctx context.Context, db *sql.DB, dialect string) (from, to int, err error) {
	if err := checkDialect(dialect); err != nil {
		return 0, 0, err
	}
	if from, err = DeviceStoreSchema(ctx, db, dialect); err != nil {
		return 0, 0, err
	}
	if dialect == "postgres" && from == 0 {
		// whatsmeow's upgrader (go.mau.fi/util/dbutil) asks
		// information_schema whether its version table exists without
		// naming the schema: in a database where another schema holds
		// whatsmeow's tables it skips creating the table here and then
		// fails to read it. Create it as dbutil would, in this schema.
		if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS whatsmeow_version (version INTEGER, compat INTEGER)"); err != nil {
			return 0, 0, fmt.Errorf("failed to create the WhatsApp device store's version table: %w", err)
		}
	}
	if err := wastore.NewWithDB(db, dialect, nil).Upgrade(ctx); err != nil {
		return from, 0, fmt.Errorf("failed to upgrade the WhatsApp device store from version %d: %w", from, err)
	}
	to, err = DeviceStoreSchema(ctx, db, dialect)
	return from, to, err
}

// OpenDeviceStore keeps whatsmeow's device keys (whatsmeow_* tables) in
// Tresor's database, on the pool of the incident store (see
// (*sqlstore.Store).SQLDB). dialect is "sqlite" or "postgres". SQLite
// needs foreign keys on, which the incident store's DSN sets. It changes
// no schema: a version other than DeviceStoreVersion fails with
// ErrStaleDeviceStore.
func OpenDeviceStore(ctx context.Context, db *sql.DB, dialect string) (*wastore.Container, error) {
	if err := CheckDeviceStore(ctx, db, dialect); err != nil {
		return nil, err
	}
	return wastore.NewWithDB(db, dialect, nil), nil
}

// CheckDeviceStore returns ErrStaleDeviceStore (wrapped) unless
// whatsmeow's tables are at DeviceStoreVersion. It only reads.
func CheckDeviceStore(ctx context.Context, db *sql.DB, dialect string) error {
	v, err := DeviceStoreSchema(ctx, db, dialect)
	if err != nil {
		return err
	}
	if v != DeviceStoreVersion() {
		return fmt.Errorf("%w: its tables are at version %d, this build needs %d", ErrStaleDeviceStore, v, DeviceStoreVersion())
	}
	return nil
}

// DeviceStoreSchema reads the version of whatsmeow's tables without
// changing anything (whatsmeow's own check creates its version table):
// 0 when they do not exist yet.
func DeviceStoreSchema(ctx context.Context, db *sql.DB, dialect string) (int, error) {
	if err := checkDialect(dialect); err != nil {
		return 0, err
	}
	q := "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type='table' AND name='whatsmeow_version')"
	if dialect == "postgres" {
		q = "SELECT EXISTS(SELECT 1 FROM information_schema.tables WHERE table_schema=current_schema() AND table_name='whatsmeow_version')"
	}
	var exists bool
	if err := db.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return 0, fmt.Errorf("failed to look for the WhatsApp device store: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	err := db.QueryRowContext(ctx, "SELECT version FROM whatsmeow_version LIMIT 1").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("failed to read the WhatsApp device store's version: %w", err)
	}
	return v, nil
}

func checkDialect(dialect string) error {
	switch dialect {
	case "sqlite", "postgres":
		return nil
	}
	return fmt.Errorf("unsupported database dialect %q for the WhatsApp device store", dialect)
}
