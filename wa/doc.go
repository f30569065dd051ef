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
// Flagging is idempotent per message (ErrDuplicate counts as done).
// Addresses are
// kept in both forms, LID and phone number (MessageRef.Sender and
// SenderAlt), and a flag naming either form matches the captured message,
// also through whatsmeow's LID map.
//
// # App-state sync that recovers
//
// Stars and labels arrive by WhatsApp's app-state sync, which can get
// stuck (a patch that does not decode). As mautrix-whatsapp does, an
// events.AppStateSyncError is answered with a full sync of the
// collection, and when that fails too with a recovery request to the
// phone (whatsmeow.BuildAppStateRecoveryRequest, at most every 48 hours
// per collection; the attempts are kept in memory). whatsmeow dispatches
// the result of both as a full sync (FromFullSync). A star or label from a
// full sync flags only if it was set on the phone after the device was
// linked and within the capture window: one Tresor saw when it was set
// has its incident (ErrDuplicate), so what remains was set while the
// sync was stuck, and its incident is audited as late
// (incident.FlagInput.Late). Stars set before linking never flag.
//
// # No flag lost
//
// One design: the handler retries the database until the capture (or the
// flag) commits, and falls back to an encrypted file when the database
// stays away; it never relies on WhatsApp delivering an event again. With
// whatsmeow's decrypted-event buffer off, the Signal keys of a message are
// spent before the handler runs; a message whose receipt is withheld is
// sent again by the server but no longer decrypts ("old counter"), and
// whatsmeow drops it. App-state events (stars, labels) are never sent
// again at all; whatsmeow ignores their handler's result.
//
//   - The client runs with SynchronousAck (as the bridge does): whatsmeow
//     sends a message's receipt only after Handle returns, and handles the
//     next event of the connection only then.
//   - Handle retries with backoff from 250 ms doubling to 15 s for
//     Options.RetryWindow (DefaultRetryWindow, 2 minutes; whatsmeow
//     moves a node that takes over 5 minutes to the background).
//   - Past the window the capture or flag goes to the [Spool]: an
//     append-only file (DATA/wa-spool) whose every entry is sealed with
//     the capture key and fsynced before Handle returns. [Manager.Run]
//     replays it every 30 s once the database is back (captures keep
//     their arrival time, flags open their incidents) and then deletes it.
//     While it holds entries, new captures and flags join it at once, so
//     that they are applied in arrival order (a capture before the star
//     on it) and a database that is away does not hold up every event.
//   - What reaches neither (the spool cannot be written, a message that
//     cannot be encoded, a spool entry that does not open) is lost, and
//     says so: an audit entry "whatsapp.capture_lost" (worker, what, the
//     message id, a reason code) and a count with the time of the last
//     loss on the worker's device row, shown on the worker's WhatsApp
//     page. With the database away as well, the loss note waits in the
//     spool; failing that, only the log line tells.
//
// A flag on a message Tresor holds no content of opens the incident with
// incident.FlagInput.NotCaptured saying why: view-once (whatsmeow's
// events.UndecryptableMessage with IsUnavailable and UnavailableType
// "view_once": linked devices never get that content, so the adapter
// keeps the message's identity, sealed like a capture, to tell it apart;
// content the phone resends later, events.Message with
// UnavailableRequestID, replaces it),
// before linking (no capture and the device was linked within the capture
// window), outside the window (otherwise), or lost (another unavailable
// type). The worker then chooses what to secure; [Adapter.FetchContent]
// answers such messages with [ErrNotCaptured], which wraps
// incident.ErrPermanent so that the secure job is never retried.
//
// # What is stored, how, and for how long
//
//   - Captures: every received or sent message with text or media is kept
//     as its key, the identifying parts of its info and its protobuf
//     (which holds the media key), sealed with AES-256-GCM ([Sealer]) under
//     a key read from a file given by configuration, and bound to worker
//     and message id. Only the message id and the capture and expiry
//     times are stored in the clear (table wa_captures). Status updates
//     (status@broadcast) and channels (newsletters) are not captured. A
//     capture lives for the policy's CaptureWindow (default 72h)
//     and is then purged ([Manager.Run], [Manager.Purge]); a flagged
//     message's capture is kept up to FlagHold (default 30 days, about as
//     long as WhatsApp keeps media) so that securing can wait for
//     four-eyes approval, and removed once the message was deleted on
//     WhatsApp, or with all of the worker's captures on Unlink. Edits,
//     reactions, polls, locations and contacts are not captured.
//   - History: the client sets ManualHistorySyncDownload and Tresor never
//     downloads the history the phone offers after linking.
//   - What whatsmeow keeps (README, "What whatsmeow keeps"): contact
//     names, push and business names are deleted from whatsmeow_contacts
//     at every purge (every PurgeInterval), privacy tokens and message
//     secrets once older than the capture window (secrets: once Tresor
//     holds no capture of their message), and every row of a device on
//     Unlink. The LID map (phone number ↔ LID of everyone who writes) has
//     no device column, is cached in memory and is needed to send and to
//     match stars: it is kept while any device is linked, and emptied
//     when the last one is unlinked. Signal sessions and identity keys
//     name the contacts' addresses and live as long as the device. On
//     SQLite, secure_delete zeroes deleted rows and free pages, and each
//     purge checkpoints and truncates the WAL.
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
// local TLS server serving media encrypted as WhatsApp encrypts it,
// write whatsmeow's store through its own methods, and use a real
// incident.Service over SQLite. They do not show, and
// MANUAL_TEST.md checks by hand: pairing by QR or phone code; that the
// phone emits star, reaction and label events as expected (label sync
// is known to be unreliable); whether WhatsApp applies a revoke or a
// delete-for-me patch (the server only acknowledges; the delete-for-me
// index layout, version 3 and timestamp in seconds follow WhatsApp Web
// and have been reported "accepted but nothing deleted" elsewhere); the
// current revoke time limit; whether a recovery request is answered
// by the phone and its stars come back with the time they were set;
// media retention on WhatsApp's servers;
// whether the phone-seen signals (own messages and receipts from the
// phone, app-state changes) come often enough; and the risk of WhatsApp
// restricting an account that uses an unofficial client.
package wa
