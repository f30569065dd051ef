// Package audit implements Tresor's tamper-evident audit log.
//
// Every step of an incident (flagging, securing, approvals, revocation, each
// confirmed deletion step, handover, destruction) is recorded as an [Entry].
// An entry never holds evidence content: only who did what, when, to which
// incident, and a few small facts (ids, hashes, reasons) in Details.
//
// # Structure
//
// Entries are numbered 1, 2, 3, … without gaps ([Entry.Seq]). Each entry is
// sealed ([Seal]) with the SHA-256 hash of its canonical encoding
// ([Entry.Encode]), and that encoding includes the hash of the previous entry
// ([Entry.PrevHash]), so the entries form a hash chain. The store keeps the
// sequence number and hash of the last entry in a separate head row ([Head]),
// updated in the same transaction as each append.
//
// The encodings are also the leaves of an RFC 6962 Merkle tree
// (golang.org/x/mod/sumdb/tlog); leaf i is entry Seq i+1. The tree of the
// first N entries is summarised by a [tlog.Tree] (N and root hash). A
// checkpoint is such a tree signed as a note (golang.org/x/mod/sumdb/note,
// text format of C2SP tlog-checkpoint, see [FormatCheckpoint]). Auditors
// keep signed checkpoints off the server and later prove, offline, that the
// log still extends them ([Verify], [CheckConsistency]) and that a given
// entry is in them ([CheckInclusion]).
//
// # What Verify detects
//
// [Verify] reads the log once, in Seq order, and reports a [*TamperError]
// (errors.Is(err, [ErrTampered])) naming the first entry found wrong if any
// of the following happened after the entries were sealed:
//
//   - modification of any field of any entry (Seq, Time, Actor, Action,
//     IncidentID, Details, PrevHash or Hash): the recomputed hash no longer
//     matches, or, if the attacker recomputed it, the next entry's PrevHash
//     no longer matches;
//   - deletion of an entry in the middle or at the start: a gap in Seq, or, if
//     the attacker renumbered the following entries, broken hashes;
//   - insertion of an entry, or reordering (swapping) of entries: Seq out of
//     order, or broken hashes and links when renumbered;
//   - truncation (deletion of the last entries) and appending of entries
//     outside the store: the last entry differs from the head row;
//   - any of the above, even with the whole chain and the head row rewritten
//     consistently, in the first N entries covered by a checkpoint passed to
//     Verify: the Merkle root of the first N entries differs from the
//     checkpoint, or the log has fewer than N entries (truncation).
//
// # What Verify cannot detect
//
// The hash chain and the Merkle tree are computed from the log alone; there
// is no secret in them. An attacker with write access to the database who
// rewrites the whole log consistently (recomputing every hash) and updates
// the head row produces a log that verifies — unless Verify is given a signed
// checkpoint that the rewritten log does not extend. Truncation at the end is
// detected only against the head row or a saved checkpoint; an attacker who
// truncates and also rolls back the head row is caught only by a checkpoint
// taken after the removed entries were written. This is why the
// data-protection officer regularly saves signed checkpoints somewhere the
// server cannot write (offline, on paper, with another organisation) and
// passes them to Verify, and why the checkpoint signing key should not be
// the only copy on the server.
//
// # Witnessed checkpoints
//
// The server's signing key proves little against whoever can read the data
// folder. A witness (the data-protection officer) holds its own note key,
// kept off the server. Before it adds its signature to a checkpoint note
// ([Cosign]) it checks that the checkpoint is signed by the server and that
// the new tree extends the last tree it cosigned (an RFC 6962 consistency
// proof, tlog.CheckTree). A witness therefore never signs two trees of which
// one does not extend the other: whoever holds the server's signing key can
// rewrite the log and sign the rewritten tree, but cannot get it cosigned,
// and every cosigned note kept before the rewrite proves it to Verify
// ([OpenCosigned]). The server accepts a cosigned note only for a
// checkpoint it saved, keeping only its own and valid witness signatures
// ([AddCosignatures]).
//
// Checkpoints given to Verify are trusted: they should come from
// [OpenCheckpoint] with the auditor's verifier key. A checkpoint the log does
// not extend is reported as tampering, because Verify cannot tell a forged
// checkpoint from a rewritten log.
//
// Verify needs memory proportional to log₂ of the number of entries (plus
// the checkpoints and the largest entry), never the whole log, so the store
// can stream entries from the database. The head row and the entries must be
// read from the same snapshot (for example one read-only, repeatable-read
// transaction); otherwise an append between the two reads is reported as
// tampering.
//
// # Exports
//
// [WriteJSONL] writes entries so that [ReadJSONL] reads them back exactly,
// for offline verification with [SliceSource] and [Verify]. [WriteCSV] is for
// people and spreadsheets: cells that a spreadsheet would run as a formula
// are prefixed with a single quote, so a CSV export cannot be verified.
package audit
