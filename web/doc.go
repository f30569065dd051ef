// Package web is Tresor's browser interface: a Gin router with
// server-rendered, JavaScript-free pages for workers, supervisors,
// auditors and admins.
//
// # Guarantees
//
//   - Every route is declared once, in routes.go, with the roles that may
//     use it; the router reads that table, and tests hold it to a
//     hand-written golden table (routes_golden_test.go) that the role
//     matrix checks every route and role against.
//   - Sessions live on the server; the cookie carries a random 256-bit
//     token of which only the SHA-256 is stored. Sessions end after 30
//     minutes idle or 12 hours in total, and on sign-out.
//   - Supervisors, auditors and admins must sign in with a second factor
//     (TOTP, RFC 6238); approving or rejecting a request needs a fresh code.
//   - Every state-changing request carries a synchronizer token bound to
//     the session and comes from the same origin, or is refused.
//   - Pages show evidence metadata and hashes, never content; the log
//     holds no query strings, form values, user names or error texts,
//     only ids Tresor issued, route patterns and error classes
//     (incident.ErrorClass).
//   - Uploads ("Neue Meldung" → file) are streamed part by part into the
//     vault: the CSRF token is the first part and is checked before any
//     other is read; the file is never parsed into memory or a temporary
//     file, its type is told by its first bytes, and categories whose
//     policy forbids content (suspected CSAM) are refused unread.
//   - The JSON API under /api/v1 (described in openapi.yaml, served at
//     /api/v1/openapi.yaml) takes personal access tokens (stored as
//     SHA-256, expiring, revocable) or the session cookie plus the
//     X-CSRF-Token header; its routes are in the same table and matrix.
//
// Handlers are thin: parse a form, call [incident.Service] with the
// session's actor, render. Domain errors become HTTP statuses in one place
// (errors.go).
package web
