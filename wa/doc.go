// Package wa is Tresor's WhatsApp adapter: each worker's WhatsApp
// (Business) account links Tresor as a companion device through
// go.mau.fi/whatsmeow, and the adapter turns what happens on the phone
// into incidents, fetches a flagged message's content for the vault and
// deletes the message on WhatsApp. It implements incident.Messenger
// ([Manager]) and nothing in package incident depends on it.
//
// # Flagging
//
// A new star on a message (events.Star), a reaction with the policy's
// FlagEmoji sent from the worker's own account (when FlagEmoji is set),
// or the business label whose name is the policy's FlagLabel on a
// message (events.LabelAssociationMessage, the label's id learnt from
// events.LabelEdit) opens an incident for the worker with
// incident.Service.Flag: channel whatsapp, no category, state flagged.
// Flagging is idempotent per message (ErrDuplicate counts as done). Stars
// and labels replayed by a full app-state sync never flag. Addresses are
// kept in both forms, LID and phone number (MessageRef.Sender and
// SenderAlt), and a flag naming either form matches the captured message,
// also through whatsmeow's LID map.
//
// # What is stored, how, and for how long
//
//   - Captures: every received or sent message with text or media is kept
//     as its key, the identifying parts of its info and its protobuf
//     (which holds the media key), sealed with AES-256-GCM ([Sealer]) under
//     a key read from a file given by configuration, and bound to worker
//     and message id. Only the message id and the capture and expiry
//     times are stored in the clear (table wa_captures). Nothing else of
//     the chats is stored: no contact list, no history sync, no push
//     names. A capture lives for the policy's CaptureWindow (default 72h)
//     and is then purged ([Manager.Run], [Manager.Purge]); a flagged
//     message's capture is kept up to FlagHold (default 30 days, about as
//     long as WhatsApp keeps media) so that securing can wait for
//     four-eyes approval, and removed once the message was deleted on
//     WhatsApp, or with all of the worker's captures on Unlink. Edits,
//     reactions, polls, locations and contacts are not captured.
//   - The event handler reports success to whatsmeow only after the
//     capture (or the reaction's incident) is committed, so WhatsApp
//     redelivers what was not stored.
//   - Device status (table wa_devices): the device's address, status
//     and WhatsApp's reason (logged out, stream replaced, temporarily
//     banned, client outdated, …), the id of the flag label and when the
//     phone was last seen; [PhoneWarning] is true 12 days after that,
//     since WhatsApp drops linked devices of phones offline for ~14 days.
//   - Device keys: whatsmeow's own whatsmeow_* tables in the same
//     database ([OpenDeviceStore]); whatsmeow's decrypted-event buffer is
//     off. Whoever has the database has the keys of the linked devices:
//     protect it like the accounts themselves.
//   - Media: [Adapter.FetchContent] downloads with whatsmeow's
//     DownloadToFile into a temporary file whose every byte is encrypted
//     with AES-256-CTR under a random key held only in memory; WhatsApp's
//     encrypted hash, HMAC, file hash and length are checked, and the
//     part's stream checks the file hash again at its end. The file is
//     removed when the part is closed. No plaintext reaches the disk.
//     A 403, 404 or 410 from the media server, or a missing path, asks
//     the phone to upload the media again ([ErrMediaRetryRequested]).
//     Media that pass the encrypted hash and HMAC but not the file hash
//     are sealed with both hashes, marked in manifest and receipt, unless
//     the policy's media_hash_mismatch is refuse.
//   - Schema: whatsmeow's tables are created and upgraded by
//     [MigrateDeviceStore] (`tresor migrate`); [OpenDeviceStore] refuses a
//     stale version ([ErrStaleDeviceStore]) and changes nothing.
//   - Log: whatsmeow's own log goes through [NewWALogger] into the
//     service's log, warnings and errors only, addresses, numbers and
//     binary runs removed ([Redact]).
//
// # Deleting
//
// [Adapter.Revoke] revokes for everyone with whatsmeow's BuildRevoke and
// SendMessage when WhatsApp allows it (the worker's own message, or any
// message of a group the account administers, within RevokeWindow,
// default 60h, less RevokeMargin, 1h), and otherwise deletes the message
// for the linked account with an app-state patch ([BuildDeleteForMe]) in
// the chat form (LID or phone number) the phone used when flagging; the
// revocation's detail says which and what the other participants keep. Sends are serialized per
// device; a rate limit makes every call fail with [ErrRateLimited] for a
// growing back-off so the durable job retries later.
//
// # Not verified without a real phone
//
// WhatsApp's servers cannot be reached from the test environment. The
// tests feed real whatsmeow event and protobuf values into the handler,
// run whatsmeow's real builders and its real DownloadToFile against a
// local TLS server serving media encrypted as WhatsApp encrypts it, and
// use a real incident.Service over SQLite. They do not show, and
// MANUAL_TEST.md checks by hand: pairing by QR or phone code; that the
// phone emits star, reaction and label events as expected (label sync
// is known to be unreliable); whether WhatsApp applies a revoke or a
// delete-for-me patch (the server only acknowledges; the delete-for-me
// index layout, version 3 and timestamp in seconds follow WhatsApp Web
// and have been reported "accepted but nothing deleted" elsewhere); the
// current revoke time limit; media retention on WhatsApp's servers;
// whether the phone-seen signals (own messages and receipts from the
// phone, app-state changes) come often enough; and the risk of WhatsApp
// restricting an account that uses an unofficial client.
package wa
