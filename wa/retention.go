package wa

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// deviceData removes what whatsmeow keeps per linked device beyond what
// the policy names (see README, "What whatsmeow keeps"): the contact
// names it learns from messages and app state, privacy tokens and
// message secrets once older than the capture window, and on unlink every
// row of the device, also those without a foreign key to it. On SQLite it
// then checkpoints the WAL, so that deleted rows do not linger there;
// secure_delete (set on every connection, see incident/sqlstore) zeroes
// them in the database file and its free pages.
type deviceData struct {
	db      *sql.DB
	dialect string // "sqlite" or "postgres"
}

// q rewrites $n placeholders for SQLite (?n).
func (d deviceData) q(query string) string {
	if d.dialect == "sqlite" {
		return strings.ReplaceAll(query, "$", "?")
	}
	return query
}

func (d deviceData) exec(ctx context.Context, query string, args ...any) error {
	if _, err := d.db.ExecContext(ctx, d.q(query), args...); err != nil {
		return fmt.Errorf("failed to purge whatsmeow data (%s): %w", firstWords(query), err)
	}
	return nil
}

// purge trims the rows of one device (ourJID, whatsmeow's our_jid) of
// worker: every contact row (names and push names; whatsmeow reads them
// from its memory cache while it runs), every chat setting (muted,
// pinned, archived: Tresor reads none), privacy tokens older than cutoff,
// and message secrets of messages Tresor does not hold a capture of
// (captures end with the capture window, flagged ones later).
func (d deviceData) purge(ctx context.Context, ourJID, worker string, cutoff time.Time) error {
	for _, table := range []string{"whatsmeow_contacts", "whatsmeow_chat_settings"} {
		if err := d.exec(ctx, `DELETE FROM `+table+` WHERE our_jid = $1`, ourJID); err != nil {
			return err
		}
	}
	if err := d.exec(ctx, `DELETE FROM whatsmeow_privacy_tokens WHERE our_jid = $1 AND timestamp < $2`, ourJID, cutoff.Unix()); err != nil {
		return err
	}
	return d.exec(ctx, `DELETE FROM whatsmeow_message_secrets WHERE our_jid = $1
		AND message_id NOT IN (SELECT message_id FROM wa_captures WHERE worker_id = $2)`, ourJID, worker)
}

// forget removes what whatsmeow keeps of an unlinked device after its
// device row is deleted (which cascades to sessions, identities, sender
// keys, app state, contacts, message secrets and buffers): the privacy
// tokens, which have no foreign key, and, once no device is linked at
// all, the LID map, which all devices share.
func (d deviceData) forget(ctx context.Context, ourJID string) error {
	for _, table := range []string{"whatsmeow_privacy_tokens", "whatsmeow_contacts", "whatsmeow_chat_settings", "whatsmeow_message_secrets"} {
		if err := d.exec(ctx, `DELETE FROM `+table+` WHERE our_jid = $1`, ourJID); err != nil {
			return err
		}
	}
	var left int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM whatsmeow_device`).Scan(&left); err != nil {
		return fmt.Errorf("failed to count linked whatsmeow devices: %w", err)
	}
	if left == 0 {
		return d.exec(ctx, `DELETE FROM whatsmeow_lid_map`)
	}
	return nil
}

// compact checkpoints SQLite's WAL and truncates it, so that the page
// images of deleted rows leave it. A checkpoint that readers hold up is
// retried at the next purge.
func (d deviceData) compact(ctx context.Context) error {
	if d.dialect != "sqlite" {
		return nil
	}
	var busy, logPages, done int
	if err := d.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &done); err != nil {
		return fmt.Errorf("failed to checkpoint the database log: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("database log checkpoint held up by readers (%d of %d pages written); retrying at the next purge", done, logPages)
	}
	return nil
}

func firstWords(q string) string {
	f := strings.Fields(q)
	return strings.Join(f[:min(len(f), 3)], " ")
}
