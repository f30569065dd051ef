// Package account keeps what makes a person signed in to Tresor, and the
// rules about it: web sessions, personal API tokens, and the second factor
// (a TOTP secret, its single-use steps and recovery codes).
//
// Guarantees, each tested by the conformance suite in
// [github.com/tresor-evidence/tresor/account/accounttest] (run on SQLite
// always and on PostgreSQL when TRESOR_TEST_DATABASE_URL is set) or by
// this package's tests:
//
//   - Neither a session token nor an API token is stored: only its
//     SHA-256 ([HashToken]), so a leaked database hands out no sign-in.
//   - A TOTP secret is stored only sealed (AES-256-GCM under the server's
//     secret key, bound to its user and purpose, [Factors]); a sealed
//     secret copied to another account does not open.
//   - Every TOTP code and every recovery code works once, also when two
//     requests present it at the same time ([Store.UseTOTPStep],
//     [Store.UseRecoveryCode]).
//   - [EndAccess] ends every session and revokes every API token of an
//     account. Run with the [Store] of a transaction (the incident
//     store's Tx.Accounts), it commits or rolls back with that
//     transaction, and so with the audit entry of the change that needs
//     it: nothing is passed in a context, so code inside a transaction
//     cannot reach around it by mistake (on SQLite that would wait for
//     the transaction's own connection forever).
//
// What an account is (name, role, password, disabled) stays in package
// incident, whose workflow and audit log need it in the same transaction
// as every other change; moving users here would split the audit log's
// transaction in two. The operations that change an account
// (incident.Service.SetUserDisabled, SetUserRole, ResetSecondFactor,
// ChangePassword, RecordAuthChange) run there, and call this package's
// rules with the transaction's [Store].
//
// This package imports no adapter: no web framework, no ORM.
package account
