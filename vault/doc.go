// Package vault seals evidence into age-encrypted bundles and keeps them in
// a storage backend: a directory (FSBackend) or S3-compatible object storage
// (package s3backend).
//
// # Bundles
//
// A bundle is one binary age file (age-encryption.org/v1) holding a tar
// stream: manifest.json first, then the parts in manifest order. The
// manifest records the incident, the message metadata, and per part its
// name, media type, size, SHA-256 and WhatsApp's own file hash where known,
// the capture time and the tool version. A bundle opens with standard tools:
//
//	age -d -i key.txt BUNDLE.age | tar -x
//
// A metadata-only bundle (Manifest.MetadataOnly, used when policy forbids
// copying content, e.g. suspected CSAM) holds the manifest alone.
//
// Seal returns a Receipt (bundle id, ciphertext SHA-256 and size, manifest
// SHA-256, recipients' fingerprints, parts) that the caller stores apart
// from the bundle, in its database.
//
// # Guarantees
//
// Encryption. Every bundle is encrypted to all of the vault's recipients
// (X25519 "age1…", post-quantum "age1pq1…", SSH "ssh-ed25519"/"ssh-rsa" keys,
// or age plugin recipients such as "age1yubikey1…") and to nobody else.
// The server needs only these public recipients; a server that holds no
// identity cannot decrypt anything it stored. age authenticates the
// ciphertext in 64 KiB chunks and marks the last chunk, so altering or
// truncating a bundle is detected on decryption.
//
// Plaintext never touches disk. Parts are streamed, never held whole in
// memory. A part whose size and SHA-256 the caller declares is read once,
// straight into the bundle, and its hash is checked as it streams: a part
// that does not match fails the bundle and nothing is published. A part of
// known size given as an io.ReadSeeker is read twice (hashed, then
// encrypted; a change in between fails the bundle). Any other part is
// spooled through a temporary file that is age-encrypted to a fresh X25519
// key held only in memory and is unlinked as soon as it is created. Only
// ciphertext is written to the backend.
//
// Atomic publication. The FSBackend writes a bundle to a locked temporary
// file, fsyncs it, links it into place (never overwriting) and fsyncs the
// directory before Seal returns. A crash at any point leaves either the
// complete bundle or nothing visible; leftovers are never listed and are
// removed by Sweep (and by NewFSBackend). A failing write, e.g. a full disk,
// fails only that bundle. On S3, a bundle becomes visible when its single
// PUT completes.
//
// Verification. Verify needs no key: with the receipt it proves the stored
// ciphertext is bit for bit the one sealed, and it checks that the age
// header is well-formed and has as many recipient stanzas, of the right
// types, as the receipt lists recipients. It cannot prove that the bundle
// decrypts, what the parts contain, or which X25519 keys it is encrypted to
// (their stanzas do not name the recipient). VerifyWithIdentity decrypts
// and checks the manifest and every part's size and SHA-256 as well.
//
// Reading. Open streams the parts to a callback after checking the tar
// layout against the manifest (entries in manifest order, regular files
// only, names that cannot leave a directory); a part's hash is checked
// after the callback has read it, so callers must discard what they
// received when Open fails.
//
// Logging. This package logs nothing. Errors name bundle ids, part names,
// sizes, hashes and recipient strings, never plaintext, message metadata
// or identities (private keys).
//
// # What is out of scope
//
// Deletion or rollback of stored bundles by whoever controls the storage is
// detected (by comparing with receipts) but not prevented, except on S3
// buckets with Object Lock. Memory inspection of the running process and a
// compromised host that steals identities are out of scope.
package vault
