package incident

import (
	"context"
	"time"
)

// CapturedMessage is a WhatsApp message received on a worker's linked
// device, kept for a short time so that it can be flagged and its content
// fetched. Sealed is the message (key, info and protobuf) encrypted by the
// messenger adapter; the store never sees it in the clear. Only the
// message id and the times are stored as they are.
type CapturedMessage struct {
	WorkerID   string
	MessageID  string
	Sealed     []byte
	CapturedAt time.Time
	// ExpiresAt is when the capture is purged: the capture window after it
	// arrived, later while a flagged message waits to be secured.
	ExpiresAt time.Time
}

// DeviceStatus is the state of a worker's linked WhatsApp device.
type DeviceStatus string

const (
	DeviceLinking      DeviceStatus = "linking"      // a QR code or pairing code is shown
	DeviceConnected    DeviceStatus = "connected"    // linked and connected
	DeviceDisconnected DeviceStatus = "disconnected" // linked; the connection dropped and is being retried
	DeviceLoggedOut    DeviceStatus = "logged_out"   // unlinked on the phone or by WhatsApp: link again
	DeviceReplaced     DeviceStatus = "replaced"     // another process uses the same keys
	DeviceBanned       DeviceStatus = "banned"       // WhatsApp temporarily banned the account
	DeviceOutdated     DeviceStatus = "outdated"     // WhatsApp refuses this client version: update Tresor
	DeviceFailed       DeviceStatus = "failed"       // another permanent connection failure
	DeviceUnlinked     DeviceStatus = "unlinked"     // unlinked from Tresor
	DeviceRelink       DeviceStatus = "relink"       // restored from a backup: its keys were discarded, link again
)

// LinkedDevice is what Tresor knows about a worker's linked WhatsApp device.
// The device's keys are kept by the adapter's own store.
type LinkedDevice struct {
	WorkerID string
	JID      string // the companion device's address, empty until paired
	LID      string // the account's LID address, when known
	Status   DeviceStatus
	Detail   string // WhatsApp's reason for the status, for the worker and admin
	// FlagLabelID is the id WhatsApp gave the business label named in the
	// policy, once a label edit revealed it.
	FlagLabelID string
	// PhoneSeenAt is the last sign that the worker's phone was online;
	// WhatsApp drops linked devices of a phone offline for about 14 days.
	PhoneSeenAt time.Time
	LinkedAt    time.Time
	UpdatedAt   time.Time
	// LostCaptures counts the messages and flags the adapter could not
	// keep (see Service.RecordCaptureLost) since the device was linked;
	// LostAt is when the last one was lost. The worker sees both.
	LostCaptures int
	LostAt       time.Time
}

// CaptureStore persists captured messages and linked-device status.
// Implementations must pass the Captures and LinkedDevices tests of
// incident/storetest. Lookups return an error wrapping ErrNotFound when
// nothing matches.
// A DeviceLock is held by the one process that connects a worker's
// WhatsApp device (see the wa package). Alive reports an error once the
// lock may have been lost — on PostgreSQL, when the connection holding
// it dropped and the server released it; Release gives it up.
type DeviceLock interface {
	Alive(ctx context.Context) error
	Release() error
}

type CaptureStore interface {
	// PutCapture stores c. A capture of the same worker and message id
	// that exists already is kept as it is and no error is returned, so
	// that a retry or a replay of the adapter's spool is harmless.
	PutCapture(ctx context.Context, c CapturedMessage) error
	Capture(ctx context.Context, workerID, messageID string) (CapturedMessage, error)
	// ResealCapture replaces the sealed record of an existing capture
	// (e.g. with the new media path WhatsApp gave after a media retry);
	// ErrNotFound when there is none.
	ResealCapture(ctx context.Context, workerID, messageID string, sealed []byte) error
	// Captures lists the worker's captures not expired at now, newest
	// first, at most limit of them (0: no limit).
	Captures(ctx context.Context, workerID string, now time.Time, limit int) ([]CapturedMessage, error)
	// ExtendCapture moves a capture's expiry to until if that is later.
	ExtendCapture(ctx context.Context, workerID, messageID string, until time.Time) error
	// DeleteCapture removes one capture; a missing one is no error.
	DeleteCapture(ctx context.Context, workerID, messageID string) error
	// DeleteCaptures removes every capture of a worker and returns how many.
	DeleteCaptures(ctx context.Context, workerID string) (int64, error)
	// PurgeCaptures removes every capture expired at now (ExpiresAt <= now)
	// and returns how many.
	PurgeCaptures(ctx context.Context, now time.Time) (int64, error)

	// PutDevice stores the worker's device, replacing the stored one. A JID
	// linked to another worker gives ErrDuplicate.
	PutDevice(ctx context.Context, d LinkedDevice) error
	Device(ctx context.Context, workerID string) (LinkedDevice, error)
	// Devices lists every worker's device, by worker id.
	Devices(ctx context.Context) ([]LinkedDevice, error)

	// RequestUnlink records that the worker's device is to be unlinked
	// by the process that holds its DeviceLock (another one); asking
	// again keeps the first request. UnlinkRequested reports whether a
	// request is pending; ClearUnlinkRequest removes it once served.
	RequestUnlink(ctx context.Context, workerID string, at time.Time) error
	UnlinkRequested(ctx context.Context, workerID string) (bool, error)
	ClearUnlinkRequest(ctx context.Context, workerID string) error
}
