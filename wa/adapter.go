package wa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// Client is the part of *whatsmeow.Client the adapter calls. Requests are
// always built with whatsmeow's own builders; tests substitute the
// sending methods only.
type Client interface {
	BuildRevoke(chat, sender types.JID, id types.MessageID) *waE2E.Message
	SendMessage(ctx context.Context, to types.JID, message *waE2E.Message, extra ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error)
	SendAppState(ctx context.Context, patch appstate.PatchInfo) error
	DownloadToFile(ctx context.Context, msg whatsmeow.DownloadableMessage, file whatsmeow.File) error
	GetGroupInfo(ctx context.Context, jid types.JID) (*types.GroupInfo, error)
	SendMediaRetryReceipt(ctx context.Context, message *types.MessageInfo, mediaKey []byte) error
	FetchAppState(ctx context.Context, name appstate.WAPatchName, fullSync, onlyIfNotSynced bool) error
	SendPeerMessage(ctx context.Context, message *waE2E.Message) (whatsmeow.SendResponse, error)
}

var _ Client = (*whatsmeow.Client)(nil)

// Store is where the adapter keeps captures and device status, and reads
// users. *sqlstore.Store is one.
type Store interface {
	incident.Store
	incident.CaptureStore
	// LockDevice takes the lock that lets one process connect a worker's
	// device; ok is false when another process holds it.
	LockDevice(ctx context.Context, workerID string) (lock incident.DeviceLock, ok bool, err error)
}

// Flagger opens incidents. *incident.Service is one.
type Flagger interface {
	Flag(ctx context.Context, a incident.Actor, in incident.FlagInput) (incident.Incident, error)
	RecordCaptureLost(ctx context.Context, l incident.CaptureLoss, note func(ctx context.Context, tx incident.Tx) error) error
	Policy() *policies.Policy
}

// Defaults of Options.
const (
	// DefaultRevokeWindow is how long after sending WhatsApp lets a sender
	// revoke a message for everyone (about 2 days 12 hours since 2022, per
	// WhatsApp's help pages; the client does not enforce it).
	DefaultRevokeWindow = 60 * time.Hour
	// RevokeMargin: Tresor revokes for everyone only until this long
	// before RevokeWindow ends, so that clock skew, a queued job and the
	// send itself cannot take a revoke past WhatsApp's limit, where the
	// server would acknowledge it and the phones ignore it. Past it the
	// message is deleted for the linked account only.
	RevokeMargin = time.Hour
	// DefaultFlagHold keeps a flagged message's capture beyond the capture
	// window, so that securing can wait for four-eyes approval; WhatsApp
	// keeps media on its servers for about this long.
	DefaultFlagHold = 30 * 24 * time.Hour
	// PhoneWarningAfter: WhatsApp drops a linked device when the phone has
	// been offline for about 14 days; warn at 12.
	PhoneWarningAfter = 12 * 24 * time.Hour
	// handlerTimeout bounds the database work of one event.
	handlerTimeout = 30 * time.Second
	// phoneSeenEvery limits how often phone sightings are written.
	phoneSeenEvery = time.Minute
	// recentLimit bounds RecentMessages.
	recentLimit = 200
)

// Options are the settings an Adapter and a Manager share.
type Options struct {
	// TempDir holds the encrypted media files while a download is sealed
	// ("" is os.TempDir()).
	TempDir string
	// RevokeWindow, FlagHold: see DefaultRevokeWindow and DefaultFlagHold.
	RevokeWindow time.Duration
	FlagHold     time.Duration
	// Log receives operational messages without message content. Nil
	// discards them.
	Log *slog.Logger
	// Clock replaces time.Now in tests.
	Clock func() time.Time
	// RetryWindow bounds the handler's database retries before it falls
	// back to Spool (DefaultRetryWindow).
	RetryWindow time.Duration
	// Spool keeps what the database did not take within RetryWindow, until
	// it is back (see OpenSpool). Nil: such captures are recorded as lost.
	Spool *Spool
	// Sleep waits between retries; tests replace it. Nil: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o Options) withDefaults() Options {
	if o.RevokeWindow <= 0 {
		o.RevokeWindow = DefaultRevokeWindow
	}
	if o.FlagHold <= 0 {
		o.FlagHold = DefaultFlagHold
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.RetryWindow <= 0 {
		o.RetryWindow = DefaultRetryWindow
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

// Adapter connects one worker's linked device to Tresor: its Handle turns
// whatsmeow events into captures, incidents and device status, and its
// FetchContent and Revoke serve the incident.Messenger port for that
// worker's incidents.
type Adapter struct {
	worker  string
	cli     Client
	dev     *store.Device
	store   Store
	flagger Flagger
	sealer  *Sealer
	opts    Options

	mu            sync.Mutex // guards read-modify-write of the device row, lastPhoneSeen and sync
	lastPhoneSeen time.Time
	sync          syncRecovery
	bg            sync.WaitGroup // app-state recovery running in the background
	gone          bool           // WhatsApp let the device go for good

	// onGone is called when WhatsApp let the device go for good (set by
	// the Manager, which then drops the device).
	onGone func()

	sendMu    sync.Mutex // serializes revokes and app-state patches
	notBefore time.Time  // no sends before this after a rate limit
	backoff   time.Duration
}

// NewAdapter returns the adapter of worker's device. dev is the whatsmeow
// device store the client runs on (its own addresses and LID map).
func NewAdapter(worker string, cli Client, dev *store.Device, st Store, f Flagger, s *Sealer, opts Options) (*Adapter, error) {
	switch {
	case worker == "":
		return nil, errors.New("adapter needs a worker id")
	case cli == nil, dev == nil, st == nil, f == nil, s == nil:
		return nil, errors.New("adapter needs a client, a device, a store, a flagger and a sealer")
	}
	return &Adapter{worker: worker, cli: cli, dev: dev, store: st, flagger: f, sealer: s, opts: opts.withDefaults()}, nil
}

func (a *Adapter) now() time.Time { return a.opts.Clock().UTC().Truncate(time.Microsecond) }

func (a *Adapter) policy() *policies.Policy { return a.flagger.Policy() }

// sealContext binds a sealed record to its worker and message.
func sealContext(worker, messageID string) []byte {
	return []byte("tresor-wa-capture-v1\x00" + worker + "\x00" + messageID)
}

// capture seals and stores a message that arrived at at. It returns only
// once the record is committed.
func (a *Adapter) capture(ctx context.Context, rec record, at time.Time) error {
	plain, err := rec.marshal()
	if err != nil {
		return err
	}
	sealed, err := a.sealer.Seal(plain, sealContext(a.worker, rec.ID))
	clear(plain)
	if err != nil {
		return fmt.Errorf("failed to seal message %s: %w", rec.ID, err)
	}
	c := incident.CapturedMessage{WorkerID: a.worker, MessageID: rec.ID, Sealed: sealed, CapturedAt: at, ExpiresAt: at.Add(a.captureWindow())}
	if err := a.store.PutCapture(ctx, c); err != nil {
		return fmt.Errorf("failed to store message %s: %w", rec.ID, err)
	}
	return nil
}

// captureWindow is the policy's capture window (72h when unset).
func (a *Adapter) captureWindow() time.Duration {
	if w := a.policy().CaptureWindow; w > 0 {
		return w
	}
	return 72 * time.Hour
}

// reseal replaces the stored capture of rec, keeping its times.
func (a *Adapter) reseal(ctx context.Context, rec record) error {
	plain, err := rec.marshal()
	if err != nil {
		return err
	}
	sealed, err := a.sealer.Seal(plain, sealContext(a.worker, rec.ID))
	clear(plain)
	if err != nil {
		return fmt.Errorf("failed to seal message %s: %w", rec.ID, err)
	}
	return a.store.ResealCapture(ctx, a.worker, rec.ID, sealed)
}

// openCapture returns a captured message's record.
func (a *Adapter) openCapture(c incident.CapturedMessage) (record, error) {
	plain, err := a.sealer.Open(c.Sealed, sealContext(c.WorkerID, c.MessageID))
	if err != nil {
		return record{}, fmt.Errorf("failed to open capture of message %s: %w", c.MessageID, err)
	}
	defer clear(plain)
	return parseRecord(plain)
}

// RecentMessages lists the metadata of the worker's messages captured
// within the capture window, newest first, for picking one to flag.
func (a *Adapter) RecentMessages(ctx context.Context) ([]incident.MessageRef, error) {
	list, err := a.store.Captures(ctx, a.worker, a.now(), recentLimit)
	if err != nil {
		return nil, err
	}
	refs := make([]incident.MessageRef, 0, len(list))
	for _, c := range list {
		rec, err := a.openCapture(c)
		if err != nil {
			return nil, err
		}
		if rec.gap() != "" {
			continue // nothing to secure; a star on it says why
		}
		ref, err := rec.ref()
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// altOf returns the other address form (LID or phone number) of j from
// whatsmeow's LID map, or an empty JID.
func (a *Adapter) altOf(ctx context.Context, j types.JID) types.JID {
	if j.IsEmpty() || a.dev.LIDs == nil {
		return types.EmptyJID
	}
	alt, err := a.dev.GetAltJID(ctx, j.ToNonAD())
	if err != nil {
		a.opts.Log.Debug("no alternative address known", "err", incident.ErrorClass(err))
		return types.EmptyJID
	}
	return alt
}
