package wa

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// deviceTables are whatsmeow's tables that hold a device's Signal state
// or what it learnt while linked, children before whatsmeow_device.
var deviceTables = []string{
	"whatsmeow_identity_keys", "whatsmeow_pre_keys", "whatsmeow_sessions", "whatsmeow_sender_keys",
	"whatsmeow_app_state_sync_keys", "whatsmeow_app_state_version", "whatsmeow_app_state_mutation_macs",
	"whatsmeow_contacts", "whatsmeow_chat_settings", "whatsmeow_message_secrets", "whatsmeow_privacy_tokens",
	"whatsmeow_event_buffer", "whatsmeow_retry_buffer", "whatsmeow_nct_salt", "whatsmeow_lid_map",
	"whatsmeow_device",
}

// ForgetAllDevices deletes every linked device's keys and data from
// whatsmeow's tables, in one transaction. A restore runs it: a copy of a
// device's Signal state (identity, sessions, pre-keys, ratchets) must
// never be used again once the original may have moved on, so restored
// devices are linked anew. Tables an older device store lacks are
// skipped; whatsmeow_version is kept.
func ForgetAllDevices(ctx context.Context, db *sql.DB, dialect string) (err error) {
	if err := checkDialect(dialect); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("failed to start deleting the WhatsApp keys: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	q := "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type='table' AND name=?)"
	if dialect == "postgres" {
		q = "SELECT EXISTS(SELECT 1 FROM information_schema.tables WHERE table_schema=current_schema() AND table_name=$1)"
	}
	for _, table := range deviceTables {
		var exists bool
		if err := tx.QueryRowContext(ctx, q, table).Scan(&exists); err != nil {
			return fmt.Errorf("failed to look for %s: %w", table, err)
		}
		if !exists {
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table); err != nil {
			return fmt.Errorf("failed to delete the WhatsApp keys (%s): %w", table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("failed to delete the WhatsApp keys: %w", err)
	}
	return nil
}
