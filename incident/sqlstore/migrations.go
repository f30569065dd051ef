package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migration is one versioned schema step. Steps are never edited once
// released: a change is a new step at the end.
type migration struct {
	version int
	name    string
	// sql holds statements with placeholders expanded per dialect:
	// {{serial}} {{ts}} {{bool}} {{false}}.
	sql []string
	// postgres holds statements run only on PostgreSQL.
	postgres []string
}

var migrations = []migration{
	{
		version: 1,
		name:    "initial schema",
		sql: []string{
			`CREATE TABLE users (
				id TEXT PRIMARY KEY,
				username TEXT NOT NULL UNIQUE,
				display_name TEXT NOT NULL,
				role TEXT NOT NULL,
				password_hash TEXT NOT NULL,
				disabled {{bool}} NOT NULL DEFAULT {{false}},
				created_at {{ts}} NOT NULL,
				updated_at {{ts}} NOT NULL
			)`,
			`CREATE TABLE incidents (
				id TEXT PRIMARY KEY,
				category TEXT NOT NULL,
				channel TEXT NOT NULL,
				reporter_id TEXT NOT NULL REFERENCES users(id),
				platform TEXT NOT NULL,
				msg_id TEXT NOT NULL,
				msg_chat TEXT NOT NULL,
				msg_sender TEXT NOT NULL,
				msg_sender_alt TEXT NOT NULL,
				msg_from_me {{bool}} NOT NULL,
				msg_sent_at {{ts}},
				msg_media_type TEXT NOT NULL,
				msg_file_name TEXT NOT NULL,
				msg_file_sha256 TEXT NOT NULL,
				msg_size BIGINT NOT NULL,
				description TEXT NOT NULL,
				state TEXT NOT NULL,
				securing TEXT NOT NULL,
				evidence TEXT NOT NULL,
				receipt_bundle_id TEXT,
				receipt_ciphertext_sha256 TEXT,
				receipt_ciphertext_size BIGINT,
				receipt_manifest_sha256 TEXT,
				receipt_recipients TEXT,
				receipt_metadata_only {{bool}},
				receipt_sealed_at {{ts}},
				not_secured_reason TEXT NOT NULL,
				revocation_outcome TEXT,
				revocation_detail TEXT,
				revocation_at {{ts}},
				retention_until {{ts}},
				legal_hold {{bool}} NOT NULL,
				destroyed_at {{ts}},
				created_at {{ts}} NOT NULL,
				updated_at {{ts}} NOT NULL,
				version BIGINT NOT NULL
			)`,
			`CREATE UNIQUE INDEX incidents_message ON incidents (reporter_id, channel, msg_id)`,
			`CREATE INDEX incidents_reporter ON incidents (reporter_id, created_at)`,
			`CREATE INDEX incidents_state ON incidents (state, created_at)`,
			`CREATE TABLE requests (
				id TEXT PRIMARY KEY,
				incident_id TEXT NOT NULL REFERENCES incidents(id),
				kind TEXT NOT NULL,
				requester_id TEXT NOT NULL,
				reason TEXT NOT NULL,
				purpose TEXT NOT NULL,
				recipient TEXT NOT NULL,
				legal_basis TEXT NOT NULL,
				state TEXT NOT NULL,
				required_approvals INTEGER NOT NULL,
				created_at {{ts}} NOT NULL,
				expires_at {{ts}} NOT NULL,
				decided_at {{ts}},
				handed_over_at {{ts}},
				handed_over_by TEXT NOT NULL,
				handover_note TEXT NOT NULL,
				version BIGINT NOT NULL
			)`,
			`CREATE INDEX requests_incident ON requests (incident_id)`,
			`CREATE INDEX requests_state ON requests (state, expires_at)`,
			`CREATE TABLE decisions (
				request_id TEXT NOT NULL REFERENCES requests(id),
				actor_id TEXT NOT NULL,
				approve {{bool}} NOT NULL,
				reason TEXT NOT NULL,
				decided_at {{ts}} NOT NULL,
				PRIMARY KEY (request_id, actor_id)
			)`,
			`CREATE TABLE steps (
				incident_id TEXT NOT NULL REFERENCES incidents(id),
				step_key TEXT NOT NULL,
				position INTEGER NOT NULL,
				platform TEXT NOT NULL,
				title_de TEXT NOT NULL,
				title_en TEXT NOT NULL,
				state TEXT NOT NULL,
				reason TEXT NOT NULL,
				due_at {{ts}} NOT NULL,
				done_at {{ts}},
				done_by TEXT NOT NULL,
				escalated {{bool}} NOT NULL,
				PRIMARY KEY (incident_id, step_key)
			)`,
			`CREATE INDEX steps_due ON steps (state, escalated, due_at)`,
			`CREATE TABLE audit_entries (
				seq BIGINT PRIMARY KEY,
				time_us BIGINT NOT NULL,
				actor TEXT NOT NULL,
				action TEXT NOT NULL,
				incident_id TEXT NOT NULL,
				details TEXT NOT NULL,
				prev_hash TEXT NOT NULL,
				hash TEXT NOT NULL
			)`,
			`CREATE INDEX audit_entries_incident ON audit_entries (incident_id, seq)`,
			`CREATE INDEX audit_entries_time ON audit_entries (time_us)`,
			`CREATE TABLE audit_head (
				id INTEGER PRIMARY KEY CHECK (id = 1),
				seq BIGINT NOT NULL,
				hash TEXT NOT NULL
			)`,
			`INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '')`,
			`CREATE TABLE audit_checkpoints (
				size BIGINT PRIMARY KEY,
				root TEXT NOT NULL,
				note TEXT NOT NULL,
				created_at {{ts}} NOT NULL
			)`,
			`CREATE TABLE jobs (
				id {{serial}},
				kind TEXT NOT NULL,
				incident_id TEXT NOT NULL,
				request_id TEXT NOT NULL,
				job_key TEXT NOT NULL UNIQUE,
				state TEXT NOT NULL,
				run_at {{ts}} NOT NULL,
				attempts INTEGER NOT NULL,
				last_error TEXT NOT NULL,
				token TEXT NOT NULL,
				locked_until {{ts}} NOT NULL,
				created_at {{ts}} NOT NULL
			)`,
			`CREATE INDEX jobs_due ON jobs (state, run_at)`,
			`CREATE INDEX jobs_incident ON jobs (incident_id)`,
		},
		postgres: []string{
			// The audit log is append-only: even a direct SQL session
			// cannot change or remove entries without first dropping
			// this trigger, which needs the table owner's rights.
			`CREATE FUNCTION tresor_audit_append_only() RETURNS trigger AS $$
			BEGIN
				RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP;
			END;
			$$ LANGUAGE plpgsql`,
			`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE OR DELETE ON audit_entries
				FOR EACH ROW EXECUTE FUNCTION tresor_audit_append_only()`,
			`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
				FOR EACH STATEMENT EXECUTE FUNCTION tresor_audit_append_only()`,
		},
	},
	{
		version: 2,
		name:    "web sessions and second factors",
		sql: []string{
			`CREATE TABLE sessions (
				token_hash TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users(id),
				stage TEXT NOT NULL,
				csrf TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				last_seen_at {{ts}} NOT NULL
			)`,
			`CREATE INDEX sessions_user ON sessions (user_id)`,
			`CREATE INDEX sessions_last_seen ON sessions (last_seen_at)`,
			// secret_sealed is the TOTP secret encrypted by the web layer
			// (AES-256-GCM); the plain secret is never stored.
			`CREATE TABLE second_factors (
				user_id TEXT PRIMARY KEY REFERENCES users(id),
				secret_sealed TEXT NOT NULL,
				last_step BIGINT NOT NULL,
				enabled_at {{ts}} NOT NULL
			)`,
			// Recovery codes are kept as SHA-256 hashes only.
			`CREATE TABLE recovery_codes (
				user_id TEXT NOT NULL REFERENCES users(id),
				code_hash TEXT NOT NULL,
				PRIMARY KEY (user_id, code_hash)
			)`,
		},
	},
	{
		version: 3,
		name:    "whatsapp captures and linked devices",
		sql: []string{
			// A received message is kept only sealed (AES-256-GCM by
			// the wa adapter): key, info and protobuf are in sealed
			// (base64); only the message id and the times are plain.
			`CREATE TABLE wa_captures (
				worker_id TEXT NOT NULL REFERENCES users(id),
				message_id TEXT NOT NULL,
				sealed TEXT NOT NULL,
				captured_at {{ts}} NOT NULL,
				expires_at {{ts}} NOT NULL,
				PRIMARY KEY (worker_id, message_id)
			)`,
			`CREATE INDEX wa_captures_recent ON wa_captures (worker_id, captured_at)`,
			`CREATE INDEX wa_captures_expiry ON wa_captures (expires_at)`,
			// The device keys live in whatsmeow's own whatsmeow_* tables;
			// this is Tresor's view of each worker's device.
			`CREATE TABLE wa_devices (
				worker_id TEXT PRIMARY KEY REFERENCES users(id),
				jid TEXT NOT NULL,
				lid TEXT NOT NULL,
				status TEXT NOT NULL,
				detail TEXT NOT NULL,
				flag_label_id TEXT NOT NULL,
				phone_seen_at {{ts}},
				linked_at {{ts}},
				updated_at {{ts}} NOT NULL
			)`,
			`CREATE UNIQUE INDEX wa_devices_jid ON wa_devices (jid) WHERE jid <> ''`,
		},
	},
	{
		version: 4,
		name:    "personal API tokens",
		sql: []string{
			// Only the SHA-256 of a token is stored; the token is shown
			// to its user once.
			`CREATE TABLE api_tokens (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users(id),
				name TEXT NOT NULL,
				token_hash TEXT NOT NULL UNIQUE,
				created_at {{ts}} NOT NULL,
				expires_at {{ts}} NOT NULL,
				last_used_at {{ts}},
				revoked_at {{ts}}
			)`,
			`CREATE INDEX api_tokens_user ON api_tokens (user_id)`,
		},
	},
	{
		version: 5,
		name:    "incident lists in index order",
		sql: []string{
			// The lists read the newest incidents first (ORDER BY
			// created_at DESC, id). With these the database walks an
			// index and stops at the limit instead of sorting every
			// incident (all) or every one of a worker (own).
			`CREATE INDEX incidents_recent ON incidents (created_at DESC, id)`,
			`CREATE INDEX incidents_reporter_recent ON incidents (reporter_id, created_at DESC, id)`,
			// incidents_reporter (reporter_id, created_at) is a prefix
			// of incidents_reporter_recent.
			`DROP INDEX incidents_reporter`,
		},
	},
	{
		version: 6,
		name:    "single-use release download links",
		sql: []string{
			// One link at a time per approved release request; only the
			// SHA-256 of its token is stored.
			`ALTER TABLE requests ADD COLUMN download_token_hash TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE requests ADD COLUMN download_expires_at {{ts}}`,
			`ALTER TABLE requests ADD COLUMN download_used_at {{ts}}`,
		},
	},
	{
		version: 7,
		name:    "release download links counted",
		sql: []string{
			// Links already issued count as one: the new limit applies
			// to them as to every other.
			`ALTER TABLE requests ADD COLUMN download_links INTEGER NOT NULL DEFAULT 0`,
			`UPDATE requests SET download_links = 1 WHERE download_token_hash <> ''`,
		},
	},
	{
		version: 8,
		name:    "throttles of failed attempts",
		sql: []string{
			// One row per throttled key (e.g. an account's step-up); the
			// key holds ids only, never names or addresses in clear.
			`CREATE TABLE throttles (
				key TEXT PRIMARY KEY,
				failures INTEGER NOT NULL,
				window_start {{ts}} NOT NULL,
				locked_until {{ts}} NOT NULL
			)`,
		},
	},
	{
		version: 9,
		name:    "receipt marks media that differ from WhatsApp's file hash; unlink requests between processes",
		sql: []string{
			`ALTER TABLE incidents ADD COLUMN receipt_whatsapp_hash_mismatch {{bool}}`,
			// An unlink asked for in a process that does not hold the
			// worker's device; the holder serves it at its lock check.
			`CREATE TABLE wa_unlink_requests (
				worker_id TEXT PRIMARY KEY REFERENCES users(id),
				requested_at {{ts}} NOT NULL
			)`,
		},
	},
	{
		version: 10,
		name:    "whatsapp captures lost, for the worker to see",
		sql: []string{
			`ALTER TABLE wa_devices ADD COLUMN lost_captures INTEGER NOT NULL DEFAULT 0`,
			`ALTER TABLE wa_devices ADD COLUMN lost_at {{ts}}`,
		},
	},
	{
		version: 11,
		name:    "incidents of messages Tresor did not capture",
		sql: []string{
			// Why only the metadata is known (outside the window, before
			// linking, view-once, lost) and what the worker chose.
			`ALTER TABLE incidents ADD COLUMN not_captured TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE incidents ADD COLUMN uncaptured_choice TEXT NOT NULL DEFAULT ''`,
		},
	},
	{
		version: 12,
		name:    "messages described by the worker",
		sql: []string{
			// Without a linked device the worker describes the message as
			// WhatsApp shows it: chat name or number, time received, kind.
			`ALTER TABLE incidents ADD COLUMN msg_seen_chat TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE incidents ADD COLUMN msg_received_at {{ts}}`,
			`ALTER TABLE incidents ADD COLUMN msg_kind TEXT NOT NULL DEFAULT ''`,
		},
	},
	{
		version: 13,
		name:    "e-mail notifications",
		sql: []string{
			// Where an account's notifications go; '' receives none.
			`ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT ''`,
			// A notification job names whom it tells (a user id) and
			// which fixed notice; the mail text is never stored.
			`ALTER TABLE jobs ADD COLUMN recipient_id TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE jobs ADD COLUMN notice TEXT NOT NULL DEFAULT ''`,
		},
	},
	{
		version: 14,
		name:    "witnessed checkpoints",
		sql: []string{
			// One row per checkpoint and witness key: the checkpoint
			// note with the server's and that witness's signatures.
			`CREATE TABLE audit_cosignatures (
				size BIGINT NOT NULL,
				witness TEXT NOT NULL,
				note TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				PRIMARY KEY (size, witness)
			)`,
		},
		postgres: []string{
			// Saved checkpoints and cosignatures are append-only like the
			// log they vouch for: removing the witnessed ones would hide
			// a rewrite.
			`CREATE FUNCTION tresor_append_only() RETURNS trigger AS $$
			BEGIN
				RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
			END;
			$$ LANGUAGE plpgsql`,
			`CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
				FOR EACH ROW EXECUTE FUNCTION tresor_append_only()`,
			`CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
				FOR EACH STATEMENT EXECUTE FUNCTION tresor_append_only()`,
			`CREATE TRIGGER audit_cosignatures_no_update BEFORE UPDATE OR DELETE ON audit_cosignatures
				FOR EACH ROW EXECUTE FUNCTION tresor_append_only()`,
			`CREATE TRIGGER audit_cosignatures_no_truncate BEFORE TRUNCATE ON audit_cosignatures
				FOR EACH STATEMENT EXECUTE FUNCTION tresor_append_only()`,
		},
	},
	{
		version: 15,
		name:    "bundle intents",
		sql: []string{
			// A bundle is announced here, in its own committed
			// transaction, before the vault publishes it; the incident's
			// commit marks it committed. Pending intents past the grace
			// period are orphans the sweeper destroys. No foreign key:
			// the incident of an upload that crashed never existed.
			`CREATE TABLE bundle_intents (
				bundle_id TEXT PRIMARY KEY,
				incident_id TEXT NOT NULL,
				kind TEXT NOT NULL,
				state TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				retry_at {{ts}},
				version BIGINT NOT NULL
			)`,
			`CREATE INDEX bundle_intents_incident ON bundle_intents (incident_id)`,
			`CREATE INDEX bundle_intents_state ON bundle_intents (state, created_at)`,
		},
	},
	{
		version: 16,
		name:    "separation of duties",
		sql: []string{
			// Who created an account and who last reset its password or
			// second factor, and when: approval pages warn about them.
			`ALTER TABLE users ADD COLUMN created_by TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN reset_by TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE users ADD COLUMN reset_at BIGINT`,
			// A one-time password set by an admin must be changed first.
			`ALTER TABLE users ADD COLUMN must_change_password {{bool}} NOT NULL DEFAULT {{false}}`,
			// An approving account an admin created waits for approval.
			`ALTER TABLE users ADD COLUMN needs_approval {{bool}} NOT NULL DEFAULT {{false}}`,
			// Account changes waiting for a second person.
			`CREATE TABLE account_requests (
				id TEXT PRIMARY KEY,
				kind TEXT NOT NULL,
				subject_id TEXT NOT NULL REFERENCES users(id),
				requester_id TEXT NOT NULL,
				role TEXT NOT NULL DEFAULT '',
				password_hash TEXT NOT NULL DEFAULT '',
				state TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				expires_at {{ts}} NOT NULL,
				decider_id TEXT NOT NULL DEFAULT '',
				reason TEXT NOT NULL DEFAULT '',
				decided_at {{ts}},
				version BIGINT NOT NULL
			)`,
			`CREATE INDEX account_requests_state ON account_requests (state, created_at)`,
		},
	},
	{
		version: 17,
		name:    "external identities",
		sql: []string{
			// An account signed in through an OpenID Connect provider is
			// keyed by the provider's issuer and subject, never by a user
			// name: names change and are reused, (issuer, subject) is not.
			// One account has at most one external identity.
			`CREATE TABLE external_identities (
				issuer TEXT NOT NULL,
				subject TEXT NOT NULL,
				user_id TEXT NOT NULL UNIQUE REFERENCES users(id),
				created_at {{ts}} NOT NULL,
				last_sign_in_at {{ts}} NOT NULL,
				PRIMARY KEY (issuer, subject)
			)`,
		},
	},
	{
		version: 18,
		name:    "identity provider tokens",
		sql: []string{
			// The provider's latest refresh token and ID token of the
			// person, each sealed (AES-256-GCM under a key derived from
			// the server's secret key, bound to issuer and subject); the
			// plain tokens are never stored. checked_at is when the
			// provider last vouched for the person (sign-in or periodic
			// check), 0 for never.
			`ALTER TABLE external_identities ADD COLUMN refresh_sealed TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE external_identities ADD COLUMN id_token_sealed TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE external_identities ADD COLUMN checked_at BIGINT NOT NULL DEFAULT 0`,
			`CREATE INDEX external_identities_checked ON external_identities (checked_at)`,
		},
	},
	{
		version: 19,
		name:    "step-up at the identity provider",
		sql: []string{
			// Until when a fresh re-authentication at the identity
			// provider may serve as the next approval's step-up; cleared
			// by that approval (one use). NULL: none.
			`ALTER TABLE external_identities ADD COLUMN step_up_until {{ts}}`,
		},
	},
	{
		version: 20,
		name:    "used logout tokens",
		sql: []string{
			// The identity provider's back-channel logout tokens used,
			// by issuer and jti, kept until they expire (then the
			// relying party refuses them anyway) so that none is used
			// twice; forgotten at the next logout after that.
			`CREATE TABLE logout_tokens (
				issuer TEXT NOT NULL,
				jti TEXT NOT NULL,
				expires_at {{ts}} NOT NULL,
				PRIMARY KEY (issuer, jti)
			)`,
			`CREATE INDEX logout_tokens_expiry ON logout_tokens (expires_at)`,
		},
	},
	{
		version: 21,
		name:    "rewrap intents",
		sql: []string{
			// A rewrap announces the ciphertext it is about to put in
			// place of a bundle before it replaces it, so that a run
			// that died between the replacement and the receipt's update
			// can be completed, and only that ciphertext is accepted.
			// finished_at NULL: pending.
			`CREATE TABLE rewrap_intents (
				bundle_id TEXT NOT NULL,
				new_ciphertext_sha256 TEXT NOT NULL,
				incident_id TEXT NOT NULL,
				old_ciphertext_sha256 TEXT NOT NULL,
				new_ciphertext_size BIGINT NOT NULL,
				manifest_sha256 TEXT NOT NULL,
				recipients TEXT NOT NULL,
				created_at {{ts}} NOT NULL,
				finished_at {{ts}},
				PRIMARY KEY (bundle_id, new_ciphertext_sha256)
			)`,
		},
	},
}

// LatestVersion is the schema version this build expects.
func LatestVersion() int { return migrations[len(migrations)-1].version }

// ErrStaleSchema: the database's schema is not the one this build expects.
var ErrStaleSchema = errors.New("database schema is not up to date")

func (s *Store) expand(stmt string) string {
	r := map[Dialect]*strings.Replacer{
		SQLite:   strings.NewReplacer("{{serial}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{ts}}", "BIGINT", "{{bool}}", "BOOLEAN", "{{false}}", "0"),
		Postgres: strings.NewReplacer("{{serial}}", "BIGSERIAL PRIMARY KEY", "{{ts}}", "BIGINT", "{{bool}}", "BOOLEAN", "{{false}}", "FALSE"),
	}[s.dialect]
	return r.Replace(stmt)
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// SchemaVersion returns the highest applied migration, 0 for an empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	db := s.db.WithContext(ctx)
	if !db.Migrator().HasTable("schema_migrations") {
		if err := db.Error; err != nil {
			return 0, translate(err)
		}
		return 0, nil
	}
	var v *int
	if err := db.Raw(`SELECT MAX(version) FROM schema_migrations`).Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("failed to read schema version: %w", translate(err))
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// CheckSchema returns ErrStaleSchema, with what to run, unless the
// database has exactly the schema this build expects.
func (s *Store) CheckSchema(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	switch latest := LatestVersion(); {
	case v < latest:
		return fmt.Errorf("%w: the database is at version %d, this build needs %d; run 'tresor migrate' first", ErrStaleSchema, v, latest)
	case v > latest:
		return fmt.Errorf("%w: the database is at version %d, newer than this build (%d); run a newer tresor", ErrStaleSchema, v, latest)
	}
	return nil
}

// Migrate applies every pending migration, each in its own transaction
// together with its record in schema_migrations. It returns the versions applied.
func (s *Store) Migrate(ctx context.Context, now time.Time) ([]int, error) {
	if err := s.db.WithContext(ctx).Exec(createMigrationsTable).Error; err != nil {
		return nil, fmt.Errorf("failed to create schema_migrations: %w", translate(err))
	}
	current, err := s.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if current > LatestVersion() {
		return nil, s.CheckSchema(ctx)
	}
	var applied []int
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			stmts := m.sql
			if s.dialect == Postgres {
				stmts = append(append([]string(nil), stmts...), m.postgres...)
			}
			for _, stmt := range stmts {
				if err := tx.Exec(s.expand(stmt)).Error; err != nil {
					return fmt.Errorf("%s: %w", firstLine(stmt), translate(err))
				}
			}
			return tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, now.UnixMicro()).Error
		})
		if err != nil {
			return applied, fmt.Errorf("failed to apply migration %d (%s): %w", m.version, m.name, err)
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
