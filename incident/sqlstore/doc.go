// Package sqlstore implements incident.Store and account.Store with GORM
// on SQLite (pure Go, no cgo) and PostgreSQL. [Store.Accounts] runs each
// account call on its own; a transaction's Accounts runs them inside it.
//
// # Guarantees
//
//   - Every method takes the caller's context; every transaction is one
//     database transaction, so a state change, its audit entry and its
//     jobs commit together or not at all.
//   - The schema is created by versioned migrations recorded in
//     schema_migrations; [Store.CheckSchema] refuses a database whose
//     schema is older or newer than this build.
//   - Driver errors become the domain's sentinels at this boundary: no
//     rows → incident.ErrNotFound, unique violations → incident.ErrDuplicate,
//     lost connections → incident.ErrUnavailable.
//   - Audit entries are appended under a lock on the single audit_head
//     row, so concurrent writers form one chain. On PostgreSQL a trigger
//     refuses UPDATE, DELETE and TRUNCATE on audit_entries.
//   - Times are stored as UTC microseconds since the Unix epoch, the same
//     on both databases, so ordering and comparison are exact.
//   - Queries are logged, if at all, without their parameters.
//
// SQLite runs in WAL mode with synchronous=FULL (a committed transaction
// survives power loss) and one connection, because SQLite allows one
// writer at a time and a single connection avoids SQLITE_BUSY.
package sqlstore
