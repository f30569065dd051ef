package wa

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	wastore "go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"

	"github.com/tresor-evidence/tresor/incident"
)

var (
	// ErrNoDevice: the worker has no linked WhatsApp device in Tresor.
	ErrNoDevice = errors.New("no WhatsApp device is linked for this worker")
	// ErrAlreadyLinked: the worker's device is linked; unlink it first.
	ErrAlreadyLinked = errors.New("a WhatsApp device is linked for this worker already")
	// ErrLinkedElsewhere: another Tresor process on the same database
	// holds the worker's device.
	ErrLinkedElsewhere = errors.New("the WhatsApp device of this worker is used by another Tresor process")
	// ErrNotLinking: PairPhone needs a running Link.
	ErrNotLinking = errors.New("no linking in progress for this worker")
)

// DeviceName is how the phone lists Tresor under "Linked devices" after
// QR linking (whatsmeow's store.DeviceProps.Os, as the bridge sets its
// os_name). PairingClientName is the "Browser (OS)" name whatsmeow needs
// for pairing codes; WhatsApp checks it, and fallbackPairingName is the
// bridge's own choice, used when WhatsApp refuses it.
const (
	DeviceName          = "Tresor"
	PairingClientName   = "Chrome (Tresor)"
	fallbackPairingName = "Chrome (Linux)"
)

// linkConnectWait bounds the wait for WhatsApp's first QR code: without
// it WhatsApp cannot be reached (the bridge waits 30 s, LoginConnectWait).
const linkConnectWait = 30 * time.Second

// ErrWhatsAppUnreachable: linking got no answer from WhatsApp's servers.
var ErrWhatsAppUnreachable = errors.New("WhatsApp cannot be reached from the Tresor server")

// PurgeInterval is how often Run purges expired captures.
const PurgeInterval = 10 * time.Minute

// LockCheckInterval is how often the device locks this process holds are
// checked (see Manager.dropLostLocks).
const LockCheckInterval = 30 * time.Second

// Config wires a Manager.
type Config struct {
	Store   Store              // captures, device status, users: *sqlstore.Store
	Devices *wastore.Container // whatsmeow's device keys: OpenDeviceStore
	Sealer  *Sealer            // encrypts captures at rest
	Options                    // shared with the adapters
	WALog   waLog.Logger       // whatsmeow's own log (nil: none): NewWALogger
	// Proxy, when set, is the http://, https:// or socks5:// proxy
	// through which the devices reach WhatsApp (whatsmeow's
	// SetProxyAddress), for networks without direct internet access.
	Proxy string
	// DB and Dialect ("sqlite" or "postgres") are the database of Devices
	// (as given to OpenDeviceStore): Purge and Unlink trim whatsmeow's
	// rows in it. Nil DB: whatsmeow's rows are left as whatsmeow keeps them.
	DB      *sql.DB
	Dialect string
}

// Manager runs one whatsmeow client per linked device, routes the
// incident.Messenger port to the reporting worker's device, and exposes
// linking and device status to the web layer.
type Manager struct {
	cfg Config

	mu      sync.Mutex
	flagger Flagger
	devices map[string]*linked // by worker id
	// locks are the device locks this process holds, by worker id: with
	// several processes on one database each device is connected by
	// exactly one of them.
	locks map[string]incident.DeviceLock
}

type linked struct {
	cli *whatsmeow.Client
	ad  *Adapter
	// linkReady: WhatsApp sent the first QR code of a running Link, so
	// PairPhone may ask for a pairing code.
	linkReady atomic.Bool
}

var _ incident.Messenger = (*Manager)(nil)

// NewManager returns a Manager. Call SetFlagger with the incident service
// (which in turn takes the Manager as its Messenger) before Run or Link.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.Store == nil || cfg.Devices == nil || cfg.Sealer == nil {
		return nil, errors.New("wa manager needs a store, a device store and a sealer")
	}
	cfg.Options = cfg.Options.withDefaults()
	if cfg.WALog == nil {
		cfg.WALog = waLog.Noop
	}
	// whatsmeow sends these props when a device is linked by QR code;
	// the phone shows Os as the device's name.
	store.DeviceProps.Os = proto.String(DeviceName)
	return &Manager{cfg: cfg, devices: map[string]*linked{}, locks: map[string]incident.DeviceLock{}}, nil
}

// SetFlagger sets who opens incidents: the *incident.Service.
func (m *Manager) SetFlagger(f Flagger) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.flagger = f
}

func (m *Manager) now() time.Time { return m.cfg.Clock().UTC().Truncate(time.Microsecond) }

// newClient creates the client and adapter of a worker's device and
// registers the adapter's handler. The caller holds m.mu.
func (m *Manager) newClient(worker string, dev *store.Device) (*linked, error) {
	if m.flagger == nil {
		return nil, errors.New("wa manager has no flagger: call SetFlagger first")
	}
	cli := whatsmeow.NewClient(dev, m.cfg.WALog)
	if err := cli.SetProxyAddress(m.cfg.Proxy); err != nil {
		return nil, fmt.Errorf("the WhatsApp proxy address is malformed: %w", err)
	}
	configureClient(cli)
	ad, err := NewAdapter(worker, cli, dev, m.cfg.Store, m.flagger, m.cfg.Sealer, m.cfg.Options)
	if err != nil {
		return nil, err
	}
	l := &linked{cli: cli, ad: ad}
	ad.onGone = func() { m.dropDevice(worker, l) }
	cli.AddEventHandlerWithSuccessStatus(ad.Handle)
	m.devices[worker] = l
	return l, nil
}

// configureClient sets what the package doc promises of every client.
func configureClient(cli *whatsmeow.Client) {
	cli.EnableDecryptedEventBuffer = false  // never keep decrypted messages in whatsmeow's tables
	cli.SynchronousAck = true               // the receipt waits for Handle: the capture is kept first
	cli.ManualHistorySyncDownload = true    // never download the chat history the phone offers
	cli.EmitAppStateEventsOnFullSync = true // learn the flag label's id; stars set during a stall
	cli.InitialAutoReconnect = true
}

// dropDevice takes a device WhatsApp will not let back in (logged out,
// replaced, banned, outdated) out of the manager: its client stops and
// its lock is released, so that housekeeping does not reconnect it and
// the worker can link again. The status row says what to do.
func (m *Manager) dropDevice(worker string, l *linked) {
	m.mu.Lock()
	if m.devices[worker] == l {
		delete(m.devices, worker)
		m.unlockDevice(worker)
	}
	m.mu.Unlock()
	// Not from within whatsmeow's event handler, which Disconnect may wait for.
	go l.cli.Disconnect()
	m.cfg.Log.Warn("whatsapp device removed from service: the worker must link the phone again", "worker", worker)
}

// Start connects every linked device stored. Devices whose keys
// whatsmeow removed (logged out while Tresor was down) are marked so.
func (m *Manager) Start(ctx context.Context) error {
	list, err := m.cfg.Store.Devices(ctx)
	if err != nil {
		return err
	}
	var started []*linked
	m.mu.Lock()
	err = m.loadDevices(ctx, list, &started)
	m.mu.Unlock()
	// Connect outside the lock: dialing WhatsApp may take a while.
	for _, l := range started {
		if err := l.cli.Connect(); err != nil {
			m.cfg.Log.Warn("whatsapp connect failed; retrying in the background", "worker", l.ad.worker, "err", incident.ErrorClass(err))
		}
	}
	return err
}

// reconnects reports whether a device of this status is connected by
// Start: not one WhatsApp has let go for good (logged out, replaced,
// banned, outdated, failed) or that was unlinked; those need linking
// again.
func reconnects(s incident.DeviceStatus) bool {
	return s == incident.DeviceConnected || s == incident.DeviceDisconnected || s == incident.DeviceLinking
}

// loadDevices creates the clients of the stored devices. The caller holds m.mu.
func (m *Manager) loadDevices(ctx context.Context, list []incident.LinkedDevice, started *[]*linked) error {
	for _, d := range list {
		if d.JID == "" || !reconnects(d.Status) {
			continue
		}
		if _, ok := m.devices[d.WorkerID]; ok {
			continue
		}
		if ok, err := m.lockDevice(ctx, d.WorkerID); err != nil {
			return err
		} else if !ok {
			m.cfg.Log.Info("whatsapp device is connected by another Tresor process", "worker", d.WorkerID)
			continue
		}
		jid, err := types.ParseJID(d.JID)
		if err != nil {
			return fmt.Errorf("device of worker %s has a malformed address: %w", d.WorkerID, err)
		}
		dev, err := m.cfg.Devices.GetDevice(ctx, jid)
		if err != nil {
			return fmt.Errorf("failed to load the WhatsApp keys of worker %s: %w", d.WorkerID, err)
		}
		if dev == nil {
			m.unlockDevice(d.WorkerID)
			d.Status, d.Detail, d.UpdatedAt = incident.DeviceLoggedOut, "the device keys are gone: link the phone again", m.now()
			if err := m.cfg.Store.PutDevice(ctx, d); err != nil {
				return err
			}
			continue
		}
		l, err := m.newClient(d.WorkerID, dev)
		if err != nil {
			return err
		}
		*started = append(*started, l)
	}
	return nil
}

// Run starts the devices, then purges expired captures and reports
// phones not seen for PhoneWarningAfter every PurgeInterval, until ctx
// ends; then it disconnects every device.
func (m *Manager) Run(ctx context.Context) error {
	if err := m.Start(ctx); err != nil {
		return err
	}
	defer m.Close()
	t := time.NewTicker(PurgeInterval)
	defer t.Stop()
	locks := time.NewTicker(LockCheckInterval)
	defer locks.Stop()
	housekeep := func() {
		if err := m.housekeeping(ctx); err != nil {
			m.cfg.Log.Error("whatsapp housekeeping failed", "err", incident.ErrorClass(err))
		}
	}
	housekeep()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			housekeep()
		case <-locks.C:
			m.serveUnlinkRequests(ctx)
			if m.dropLostLocks(ctx) > 0 {
				housekeep() // reconnects them once their locks are free
			}
			m.replaySpoolLogged(ctx)
		}
	}
}

func (m *Manager) housekeeping(ctx context.Context) error {
	m.replaySpoolLogged(ctx)
	n, err := m.Purge(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		m.cfg.Log.Info("purged expired whatsapp captures", "count", n)
	}
	m.dropLostLocks(ctx)
	// Connect devices whose lock another process released (it stopped),
	// and ours again whose lock was lost and is free.
	if err := m.Start(ctx); err != nil {
		return err
	}
	list, err := m.cfg.Store.Devices(ctx)
	if err != nil {
		return err
	}
	for _, d := range list {
		if PhoneWarning(d, m.now()) {
			m.cfg.Log.Warn("worker's phone not seen: WhatsApp drops the linked device after about 14 days offline",
				"worker", d.WorkerID, "phone_seen_at", d.PhoneSeenAt)
		}
	}
	return nil
}

// Purge removes every capture whose window has ended, and what whatsmeow
// keeps of each linked device that the policy does not name (see
// deviceData.purge); on SQLite it then checkpoints the database log. It
// returns how many captures it removed.
func (m *Manager) Purge(ctx context.Context) (int64, error) {
	n, err := m.cfg.Store.PurgeCaptures(ctx, m.now())
	if err != nil || m.cfg.DB == nil {
		return n, err
	}
	list, err := m.cfg.Store.Devices(ctx)
	if err != nil {
		return n, err
	}
	window := m.bareAdapter("").captureWindow()
	data := m.deviceData()
	for _, d := range list {
		if d.JID == "" {
			continue
		}
		if err := data.purge(ctx, d.JID, d.WorkerID, m.now().Add(-window)); err != nil {
			return n, err
		}
	}
	if err := data.compact(ctx); err != nil {
		// Not worth holding up housekeeping (which also reconnects
		// devices): the next purge checkpoints again.
		m.cfg.Log.Warn("database log not checkpointed after the purge", "err", incident.ErrorClass(err))
	}
	return n, nil
}

func (m *Manager) deviceData() deviceData { return deviceData{db: m.cfg.DB, dialect: m.cfg.Dialect} }

// FlagHold is how long a flagged message's capture is kept at most.
func (m *Manager) FlagHold() time.Duration { return m.cfg.FlagHold }

// Close disconnects every device.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for w, l := range m.devices {
		l.cli.Disconnect()
		delete(m.devices, w)
	}
	for w := range m.locks {
		m.unlockDevice(w)
	}
}

// dropLostLocks disconnects every device whose lock this process may have
// lost (its database connection dropped): another process could take the
// lock and connect the same device, and WhatsApp would then throw one of
// them out. The next Start connects it again once the lock is ours.
func (m *Manager) dropLostLocks(ctx context.Context) (dropped int) {
	// Ask the database outside m.mu: one round trip per lock must not
	// hold up linking and revokes.
	m.mu.Lock()
	held := maps.Clone(m.locks)
	m.mu.Unlock()
	lost := map[string]error{}
	for w, lock := range held {
		if err := lock.Alive(ctx); err != nil {
			lost[w] = err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for w, err := range lost {
		if m.locks[w] != held[w] {
			continue // released or taken anew meanwhile
		}
		dropped++
		m.cfg.Log.Error("lost the whatsapp device lock; disconnecting the device until it can be locked again", "worker", w, "err", incident.ErrorClass(err))
		if l, ok := m.devices[w]; ok {
			l.cli.Disconnect()
			delete(m.devices, w)
		}
		m.unlockDevice(w)
	}
	return dropped
}

// lockDevice takes the worker's device lock unless this process holds it
// already. The caller holds m.mu.
func (m *Manager) lockDevice(ctx context.Context, workerID string) (bool, error) {
	if _, ok := m.locks[workerID]; ok {
		return true, nil
	}
	lock, ok, err := m.cfg.Store.LockDevice(ctx, workerID)
	if err != nil || !ok {
		return false, err
	}
	m.locks[workerID] = lock
	return true, nil
}

// unlockDevice releases the worker's device lock. The caller holds m.mu.
func (m *Manager) unlockDevice(workerID string) {
	lock, ok := m.locks[workerID]
	if !ok {
		return
	}
	delete(m.locks, workerID)
	if err := lock.Release(); err != nil {
		m.cfg.Log.Warn("failed to release the whatsapp device lock", "worker", workerID, "err", incident.ErrorClass(err))
	}
}

// LinkEventKind says what a LinkEvent is.
type LinkEventKind string

const (
	LinkCode    LinkEventKind = "code"    // show Code as a QR code until Timeout
	LinkSuccess LinkEventKind = "success" // the phone linked Tresor
	LinkTimeout LinkEventKind = "timeout" // no code was scanned: start again
	LinkError   LinkEventKind = "error"   // see Err
	// LinkUnreachable: WhatsApp sent no code in time; the server cannot
	// reach it (network, firewall, WhatsApp down). Err says so.
	LinkUnreachable LinkEventKind = "unreachable"
)

// LinkEvent is one step of linking a phone. Code is sensitive: whoever
// scans it links their account to the worker's Tresor device, so show it
// only on the worker's authenticated page.
type LinkEvent struct {
	Kind    LinkEventKind
	Code    string
	Timeout time.Duration
	Err     error
}

// Link starts linking a phone to the worker's new Tresor device and
// streams the QR codes to show; the channel closes after success, timeout
// or error, or when ctx ends. While it runs, PairPhone offers a pairing
// code instead.
func (m *Manager) Link(ctx context.Context, workerID string) (<-chan LinkEvent, error) {
	d, err := m.cfg.Store.Device(ctx, workerID)
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		return nil, err
	}
	if err == nil && d.JID != "" && (d.Status == incident.DeviceConnected || d.Status == incident.DeviceDisconnected) {
		return nil, ErrAlreadyLinked
	}
	m.mu.Lock()
	old, hadOld := m.devices[workerID]
	if hadOld && old.cli.Store.ID != nil && old.cli.IsLoggedIn() {
		m.mu.Unlock()
		return nil, ErrAlreadyLinked
	}
	if ok, err := m.lockDevice(ctx, workerID); err != nil || !ok {
		m.mu.Unlock()
		if err == nil {
			err = ErrLinkedElsewhere
		}
		return nil, err
	}
	delete(m.devices, workerID)
	l, err := m.newClient(workerID, m.cfg.Devices.NewDevice())
	m.mu.Unlock()
	if hadOld {
		old.cli.Disconnect()
	}
	if err != nil {
		return nil, err
	}
	fail := func(err error) (<-chan LinkEvent, error) {
		m.abandonLink(workerID, l)
		return nil, err
	}
	qr, err := l.cli.GetQRChannel(ctx)
	if err != nil {
		return fail(fmt.Errorf("failed to start linking: %w", err))
	}
	if err := m.cfg.Store.PutDevice(ctx, incident.LinkedDevice{WorkerID: workerID, Status: incident.DeviceLinking, UpdatedAt: m.now()}); err != nil {
		return fail(err)
	}
	out := make(chan LinkEvent, 1)
	if err := l.cli.Connect(); err != nil {
		// Said on the linking page, not as a failed request.
		m.abandonLink(workerID, l)
		out <- LinkEvent{Kind: LinkUnreachable, Err: fmt.Errorf("%w: %w", ErrWhatsAppUnreachable, err)}
		close(out)
		return out, nil
	}
	go m.relayLink(ctx, workerID, l, qr, out)
	return out, nil
}

// firstQR waits up to linkConnectWait for the first item of the QR
// channel; ok is false when none came (or the channel closed at once
// with a timeout, whatsmeow's answer to a connection that never came
// up).
func (l *linked) firstQR(ctx context.Context, qr <-chan whatsmeow.QRChannelItem) (whatsmeow.QRChannelItem, bool) {
	t := time.NewTimer(linkConnectWait)
	defer t.Stop()
	select {
	case item, open := <-qr:
		return item, open && item != whatsmeow.QRChannelTimeout
	case <-t.C:
	case <-ctx.Done():
	}
	return whatsmeow.QRChannelItem{}, false
}

func (m *Manager) relayLink(ctx context.Context, workerID string, l *linked, qr <-chan whatsmeow.QRChannelItem, out chan<- LinkEvent) {
	defer close(out)
	// Wait for WhatsApp's first code: without it WhatsApp is not
	// reachable, which is what the worker must be told, not that no code
	// was scanned. PairPhone needs it too (whatsmeow's docs).
	first, ok := l.firstQR(ctx, qr)
	if !ok {
		m.abandonLink(workerID, l)
		select {
		case out <- LinkEvent{Kind: LinkUnreachable, Err: fmt.Errorf("%w: no answer within %s", ErrWhatsAppUnreachable, linkConnectWait)}:
		case <-ctx.Done():
		}
		return
	}
	l.linkReady.Store(true)
	items := make(chan whatsmeow.QRChannelItem, 1)
	items <- first
	go func() {
		defer close(items)
		for item := range qr {
			items <- item
		}
	}()
	for item := range items {
		ev := LinkEvent{Kind: LinkError, Err: item.Error}
		switch {
		case item.Event == whatsmeow.QRChannelEventCode:
			ev = LinkEvent{Kind: LinkCode, Code: item.Code, Timeout: item.Timeout}
		case item == whatsmeow.QRChannelSuccess:
			ev = LinkEvent{Kind: LinkSuccess}
		case item == whatsmeow.QRChannelTimeout:
			ev = LinkEvent{Kind: LinkTimeout}
		case item.Error == nil:
			ev.Err = fmt.Errorf("linking failed: %s", item.Event)
		}
		if ev.Kind == LinkTimeout || ev.Kind == LinkError {
			m.abandonLink(workerID, l)
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			m.abandonLink(workerID, l)
			return
		}
	}
}

// abandonLink drops a link attempt that did not pair.
func (m *Manager) abandonLink(workerID string, l *linked) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l.cli.Store.ID != nil {
		return // paired after all
	}
	l.cli.Disconnect()
	if m.devices[workerID] == l {
		delete(m.devices, workerID)
		m.unlockDevice(workerID)
	}
}

// PairPhone returns the 8-character code to enter on the phone (Linked
// devices → Link with phone number) instead of scanning the QR code. It
// needs a Link running for the worker that has shown its first code.
// phone is the account's number in international format.
func (m *Manager) PairPhone(ctx context.Context, workerID, phone string) (string, error) {
	digits, err := normalizePhone(phone)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	l, ok := m.devices[workerID]
	m.mu.Unlock()
	if !ok || l.cli.Store.ID != nil || !l.linkReady.Load() {
		return "", ErrNotLinking
	}
	code, err := l.cli.PairPhone(ctx, digits, true, whatsmeow.PairClientChrome, PairingClientName)
	var iq *whatsmeow.IQError
	if errors.As(err, &iq) && iq.Code == 400 {
		// WhatsApp accepts only common "Browser (OS)" names.
		m.cfg.Log.Warn("whatsapp refused the pairing name; using the bridge's", "name", PairingClientName)
		code, err = l.cli.PairPhone(ctx, digits, true, whatsmeow.PairClientChrome, fallbackPairingName)
	}
	if err != nil {
		return "", fmt.Errorf("failed to request a pairing code: %w", err)
	}
	return code, nil
}

// normalizePhone turns "+49 170 123-4567" into "491701234567".
func normalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "+"), "00")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '/' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%w: phone number %q has a character other than digits", incident.ErrInvalidInput, s)
		}
	}
	d := b.String()
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", fmt.Errorf("%w: give the phone number in international format, e.g. +49 170 1234567", incident.ErrInvalidInput)
	}
	return d, nil
}

// ErrUnlinkPending: the device is held by another Tresor process, which
// was asked (through the database) to unlink it within LockCheckInterval.
var ErrUnlinkPending = errors.New("the WhatsApp device is connected by another Tresor process, which unlinks it shortly")

// Unlink removes the worker's device: WhatsApp is told to drop it (when
// it can be reached), its keys and every capture of the worker are
// deleted, and the status becomes unlinked. When another process holds
// the device, deleting its keys here would not stop it (whatsmeow writes
// its keys back), so the unlink is requested in the database and that
// process does it at its next lock check; Unlink then returns
// ErrUnlinkPending.
func (m *Manager) Unlink(ctx context.Context, workerID string) error {
	m.mu.Lock()
	l, running := m.devices[workerID]
	if !running {
		ok, err := m.lockDevice(ctx, workerID)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		if !ok {
			m.mu.Unlock()
			if err := m.cfg.Store.RequestUnlink(ctx, workerID, m.now()); err != nil {
				return err
			}
			m.cfg.Log.Info("whatsapp unlink requested from the process holding the device", "worker", workerID)
			return fmt.Errorf("worker %s: %w", workerID, ErrUnlinkPending)
		}
	}
	delete(m.devices, workerID)
	m.mu.Unlock()
	// Hold the lock until the keys are gone: no other process may load
	// them meanwhile.
	defer func() {
		m.mu.Lock()
		m.unlockDevice(workerID)
		m.mu.Unlock()
	}()
	if err := m.cfg.Store.ClearUnlinkRequest(ctx, workerID); err != nil {
		return err
	}
	detail := "unlinked from Tresor"
	ourJID := ""
	if d, err := m.cfg.Store.Device(ctx, workerID); err == nil {
		ourJID = d.JID
	}
	if running && l.cli.Store.ID != nil {
		ourJID = l.cli.Store.ID.String()
	}
	if running {
		if l.cli.Store.ID != nil {
			if err := l.cli.Logout(ctx); err != nil {
				detail = "unlinked in Tresor, but WhatsApp could not be told: remove Tresor under Linked devices on the phone"
				m.cfg.Log.Warn("whatsapp logout failed; deleting the keys locally", "worker", workerID, "err", incident.ErrorClass(err))
				l.cli.Disconnect()
				if err := l.cli.Store.Delete(ctx); err != nil {
					return fmt.Errorf("failed to delete the WhatsApp keys of worker %s: %w", workerID, err)
				}
			}
		} else {
			l.cli.Disconnect()
		}
	} else if err := m.deleteStoredKeys(ctx, workerID); err != nil {
		return err
	}
	if _, err := m.cfg.Store.DeleteCaptures(ctx, workerID); err != nil {
		return err
	}
	if err := m.cfg.Store.PutDevice(ctx, incident.LinkedDevice{WorkerID: workerID, Status: incident.DeviceUnlinked, Detail: detail, UpdatedAt: m.now()}); err != nil {
		return err
	}
	if m.cfg.DB == nil {
		return nil
	}
	data := m.deviceData()
	if ourJID != "" {
		if err := data.forget(ctx, ourJID); err != nil {
			return err
		}
	}
	return data.compact(ctx)
}

// serveUnlinkRequests unlinks the devices this process holds for which
// another process asked (Unlink with ErrUnlinkPending).
func (m *Manager) serveUnlinkRequests(ctx context.Context) {
	m.mu.Lock()
	held := slices.Collect(maps.Keys(m.devices))
	m.mu.Unlock()
	for _, w := range held {
		asked, err := m.cfg.Store.UnlinkRequested(ctx, w)
		if err != nil {
			m.cfg.Log.Error("cannot read whatsapp unlink requests", "worker", w, "err", incident.ErrorClass(err))
			continue
		}
		if !asked {
			continue
		}
		if err := m.Unlink(ctx, w); err != nil {
			m.cfg.Log.Error("requested whatsapp unlink failed; retrying at the next check", "worker", w, "err", incident.ErrorClass(err))
			continue
		}
		m.cfg.Log.Info("whatsapp device unlinked as another process asked", "worker", w)
	}
}

// deleteStoredKeys removes the keys of a device that is not running.
func (m *Manager) deleteStoredKeys(ctx context.Context, workerID string) error {
	d, err := m.cfg.Store.Device(ctx, workerID)
	if errors.Is(err, incident.ErrNotFound) {
		return fmt.Errorf("worker %s: %w", workerID, ErrNoDevice)
	}
	if err != nil {
		return err
	}
	if d.JID == "" {
		return nil
	}
	jid, err := types.ParseJID(d.JID)
	if err != nil {
		return fmt.Errorf("device of worker %s has a malformed address: %w", workerID, err)
	}
	dev, err := m.cfg.Devices.GetDevice(ctx, jid)
	if err != nil {
		return fmt.Errorf("failed to load the WhatsApp keys of worker %s: %w", workerID, err)
	}
	if dev == nil {
		return nil
	}
	if err := m.cfg.Devices.DeleteDevice(ctx, dev); err != nil {
		return fmt.Errorf("failed to delete the WhatsApp keys of worker %s: %w", workerID, err)
	}
	return nil
}

// DeviceInfo is a worker's device status for the web pages.
type DeviceInfo struct {
	incident.LinkedDevice
	// PhoneWarning: tell the worker to open WhatsApp on the phone soon.
	PhoneWarning bool
}

// Device returns the worker's device status; ErrNotFound (wrapped) when
// the worker never linked one.
func (m *Manager) Device(ctx context.Context, workerID string) (DeviceInfo, error) {
	d, err := m.cfg.Store.Device(ctx, workerID)
	if err != nil {
		return DeviceInfo{}, err
	}
	return DeviceInfo{LinkedDevice: d, PhoneWarning: PhoneWarning(d, m.now())}, nil
}

// Devices returns every worker's device status, for the admin.
func (m *Manager) Devices(ctx context.Context) ([]DeviceInfo, error) {
	list, err := m.cfg.Store.Devices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceInfo, len(list))
	for i, d := range list {
		out[i] = DeviceInfo{LinkedDevice: d, PhoneWarning: PhoneWarning(d, m.now())}
	}
	return out, nil
}

func (m *Manager) adapter(workerID string) (*Adapter, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.devices[workerID]
	if !ok {
		return nil, false
	}
	return l.ad, true
}

// RecentMessages lists the metadata of the worker's messages captured
// within the capture window, newest first: no content.
func (m *Manager) RecentMessages(ctx context.Context, workerID string) ([]incident.MessageRef, error) {
	if ad, ok := m.adapter(workerID); ok {
		return ad.RecentMessages(ctx)
	}
	// Captures outlive a stopped client; they open with the same key.
	ad := &Adapter{worker: workerID, store: m.cfg.Store, sealer: m.cfg.Sealer, opts: m.cfg.Options}
	return ad.RecentMessages(ctx)
}

// FetchContent implements incident.Messenger with the reporter's device.
func (m *Manager) FetchContent(ctx context.Context, inc incident.Incident) ([]incident.Part, error) {
	ad, ok := m.adapter(inc.ReporterID)
	if !ok {
		return nil, fmt.Errorf("cannot fetch the content of message %s: %w", inc.Message.ID, ErrNoDevice)
	}
	return ad.FetchContent(ctx, inc)
}

// Revoke implements incident.Messenger with the reporter's device. With
// no usable device nothing can be done on WhatsApp, and the walkthrough
// covers deleting on the phone.
func (m *Manager) Revoke(ctx context.Context, inc incident.Incident) (incident.Revocation, error) {
	ad, ok := m.adapter(inc.ReporterID)
	if ok {
		d, err := m.cfg.Store.Device(ctx, inc.ReporterID)
		if err != nil && !errors.Is(err, incident.ErrNotFound) {
			return incident.Revocation{}, err
		}
		if err == nil && (d.Status == incident.DeviceLoggedOut || d.Status == incident.DeviceUnlinked) {
			ok = false
		}
	}
	if !ok {
		d, err := m.cfg.Store.Device(ctx, inc.ReporterID)
		if err != nil && !errors.Is(err, incident.ErrNotFound) {
			return incident.Revocation{}, err
		}
		if err == nil && d.JID != "" && (d.Status == incident.DeviceConnected || d.Status == incident.DeviceDisconnected) {
			// Linked, but connected by another Tresor process: retry
			// (that process, or this one after a takeover, will run it).
			return incident.Revocation{}, fmt.Errorf("message %s: %w", inc.Message.ID, ErrLinkedElsewhere)
		}
		return incident.Revocation{Outcome: incident.RevokeNotPossible, At: m.now(),
			Detail: "no WhatsApp device is linked for the reporter: the message must be deleted on the phone (see the walkthrough)"}, nil
	}
	return ad.Revoke(ctx, inc)
}
