package wa

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waAdv"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

func newManager(t *testing.T, e *env) *Manager {
	t.Helper()
	db, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Config{Store: e.store, Devices: e.devices, Sealer: e.ad.sealer, Options: Options{TempDir: e.tempDir, Clock: e.clock.Now},
		DB: db, Dialect: string(e.store.Dialect()), Proxy: noWhatsApp})
	if err != nil {
		t.Fatal(err)
	}
	m.SetFlagger(e.svc)
	return m
}

func TestManagerWithoutDevice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := newManager(t, e)
	// Captures written by the worker's adapter are readable while no
	// client runs (the same key opens them).
	e.handle(received("3A00000000000000K1", textMessage(secretText)))
	refs, err := m.RecentMessages(ctx, e.worker.ID)
	if err != nil || len(refs) != 1 || refs[0].ID != "3A00000000000000K1" {
		t.Fatalf("recent = %+v, %v", refs, err)
	}
	inc := incident.Incident{ReporterID: e.worker.ID, Message: incident.MessageRef{ID: "3A00000000000000K1", Chat: youthPN.String()}}
	if _, err := m.FetchContent(ctx, inc); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("FetchContent without device: %v, want ErrNoDevice", err)
	}
	rev, err := m.Revoke(ctx, inc)
	if err != nil || rev.Outcome != incident.RevokeNotPossible || rev.At.IsZero() {
		t.Fatalf("Revoke without device: %+v, %v", rev, err)
	}
	if _, err := m.PairPhone(ctx, e.worker.ID, "+49 170 1234567"); !errors.Is(err, ErrNotLinking) {
		t.Fatalf("PairPhone without Link: %v", err)
	}
	if err := m.Unlink(ctx, e.worker.ID); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Unlink without device: %v", err)
	}
}

func TestManagerStartMarksDevicesWithoutKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := newManager(t, e)
	// Tresor's row says linked, but whatsmeow removed the keys (it does
	// on a logout while Tresor was down).
	if err := e.store.PutDevice(ctx, incident.LinkedDevice{WorkerID: e.worker.ID, JID: ownDev.String(), Status: incident.DeviceConnected,
		LinkedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := m.Device(ctx, e.worker.ID)
	if err != nil || d.Status != incident.DeviceLoggedOut || d.PhoneWarning {
		t.Fatalf("device = %+v, %v", d, err)
	}
	e.handle(received("3A00000000000000L1", textMessage(secretText)))
	if err := m.Unlink(ctx, e.worker.ID); err != nil {
		t.Fatal(err)
	}
	if refs, err := m.RecentMessages(ctx, e.worker.ID); err != nil || len(refs) != 0 {
		t.Fatalf("captures after unlink: %+v, %v", refs, err)
	}
	if d, err := m.Device(ctx, e.worker.ID); err != nil || d.Status != incident.DeviceUnlinked || d.JID != "" {
		t.Fatalf("device after unlink = %+v, %v", d, err)
	}
	// The housekeeping purges expired captures.
	e.handle(received("3A00000000000000L2", textMessage(secretText)))
	e.clock.Advance(e.pol.CaptureWindow)
	if n, err := m.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("purge = %d, %v", n, err)
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+49 170 1234567": "491701234567", "0049-170/1234567": "491701234567", "491701234567": "491701234567",
		"0170 1234567": "", "+49 170 12a": "", "123": "", "": "",
	} {
		got, err := normalizePhone(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("normalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
		if err != nil && !errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("normalizePhone(%q) error %v is not ErrInvalidInput", in, err)
		}
	}
}

func TestSealerKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "capture.key")
	if err := GenerateSealerKey(path); err != nil {
		t.Fatal(err)
	}
	if err := GenerateSealerKey(path); err == nil {
		t.Fatal("an existing key was overwritten")
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v, %v", st, err)
	}
	s, err := LoadSealer(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("hallo"), []byte("ctx"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(sealed, []byte("ctx")); err != nil || string(got) != "hallo" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, []byte("other")); !errors.Is(err, ErrSealed) {
		t.Fatalf("open with other context: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open(sealed, []byte("ctx")); !errors.Is(err, ErrSealed) {
		t.Fatalf("open tampered: %v", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"hex": []byte(hex.EncodeToString(key) + "\n"), "base64": []byte(base64.StdEncoding.EncodeToString(key)), "raw": key,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSealer(p); err != nil {
			t.Errorf("%s key: %v", name, err)
		}
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("c2hvcnQ="), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSealer(short); err == nil {
		t.Fatal("short key accepted")
	}
}

// TestCryptFileRandomAccess writes and reads at random offsets as
// whatsmeow does (sequential writes, ReadAt, in-place WriteAt, Truncate)
// and checks the plaintext round-trips while the disk holds none of it.
func TestCryptFileRandomAccess(t *testing.T) {
	dir := t.TempDir()
	f, err := newCryptFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("KLARTEXT-"), 5000)
	for off := 0; off < len(plain); {
		n := min(1+mrand.IntN(777), len(plain)-off)
		if _, err := f.Write(plain[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
	}
	// Overwrite a range in place, unaligned to the AES block.
	patch := []byte("GEÄNDERT")
	if _, err := f.WriteAt(patch, 12345); err != nil {
		t.Fatal(err)
	}
	copy(plain[12345:], patch)
	if err := f.Truncate(int64(len(plain) - 7)); err != nil {
		t.Fatal(err)
	}
	plain = plain[:len(plain)-7]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("read back %d bytes (equal %v), %v", len(got), bytes.Equal(got, plain), err)
	}
	buf := make([]byte, 100)
	if _, err := f.ReadAt(buf, 999); err != nil || !bytes.Equal(buf, plain[999:1099]) {
		t.Fatalf("ReadAt: %v", err)
	}
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(plain)) {
		t.Fatalf("size %d, %v", end, err)
	}
	scanDir(t, dir, []byte("KLARTEXT"), []byte("GEÄNDERT"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Fatalf("left behind: %v, %v", ents, err)
	}
}

// storePairedDevice stores the worker's device as paired and connected.
// A paired device has its account identity; the values do not matter here.
func storePairedDevice(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	e.dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64),
		AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := e.devices.PutDevice(ctx, e.dev); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutDevice(ctx, incident.LinkedDevice{WorkerID: e.worker.ID, JID: ownDev.String(), Status: incident.DeviceConnected,
		LinkedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
}

// losableStore hands out device locks the test can declare lost, as a
// dropped PostgreSQL connection would.
type losableStore struct {
	Store
	lost *atomic.Bool
}

type losableLock struct {
	incident.DeviceLock
	lost *atomic.Bool
}

func (s losableStore) LockDevice(ctx context.Context, workerID string) (incident.DeviceLock, bool, error) {
	l, ok, err := s.Store.LockDevice(ctx, workerID)
	if !ok || err != nil {
		return l, ok, err
	}
	return losableLock{l, s.lost}, true, nil
}

func (l losableLock) Alive(ctx context.Context) error {
	if l.lost.Load() {
		return errors.New("connection dropped")
	}
	return l.DeviceLock.Alive(ctx)
}

// TestLostDeviceLockDisconnects: a device whose lock was lost is
// disconnected and its lock given up; the next housekeeping connects it
// again once the lock can be taken.
func TestLostDeviceLockDisconnects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	storePairedDevice(t, e)
	lost := &atomic.Bool{}
	m, err := NewManager(Config{Store: losableStore{e.store, lost}, Devices: e.devices, Sealer: e.ad.sealer,
		Options: Options{TempDir: e.tempDir, Clock: e.clock.Now}, Proxy: noWhatsApp})
	if err != nil {
		t.Fatal(err)
	}
	m.SetFlagger(e.svc)
	defer m.Close()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n := m.dropLostLocks(ctx); n != 0 {
		t.Fatalf("dropped %d live locks", n)
	}
	lost.Store(true)
	if n := m.dropLostLocks(ctx); n != 1 {
		t.Fatalf("dropped %d locks, want 1", n)
	}
	if _, ok := m.adapter(e.worker.ID); ok {
		t.Fatal("the device stayed connected without its lock")
	}
	// The lock was given up: another process (here: anyone) may take it.
	other, ok, err := e.store.LockDevice(ctx, e.worker.ID)
	if err != nil || !ok {
		t.Fatalf("lock after it was dropped: %v %v", ok, err)
	}
	if err := other.Release(); err != nil {
		t.Fatal(err)
	}
	lost.Store(false)
	if err := m.housekeeping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.adapter(e.worker.ID); !ok {
		t.Fatal("the device was not connected again")
	}
}

// TestOneProcessPerDevice: two managers on one database (two Tresor
// processes) never both connect a worker's device; when the first stops,
// the second takes the device over at its next housekeeping.
func TestOneProcessPerDevice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	storePairedDevice(t, e)
	first, second := newManager(t, e), newManager(t, e)
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := first.adapter(e.worker.ID); !ok {
		t.Fatal("the first process did not take the device")
	}
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := second.adapter(e.worker.ID); ok {
		t.Fatal("a second process connected the same device")
	}
	if _, err := second.Link(ctx, e.worker.ID); !errors.Is(err, ErrLinkedElsewhere) && !errors.Is(err, ErrAlreadyLinked) {
		t.Fatalf("linking in the second process: %v", err)
	}
	// A revoke job that lands in the second process is retried, not
	// recorded as impossible.
	if _, err := second.Revoke(ctx, incident.Incident{ReporterID: e.worker.ID, Message: incident.MessageRef{ID: "x"}}); !errors.Is(err, ErrLinkedElsewhere) {
		t.Fatalf("revoke in the process without the device: %v", err)
	}
	first.Close()
	if err := second.housekeeping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := second.adapter(e.worker.ID); !ok {
		t.Fatal("the second process did not take the device over")
	}
	second.Close()
}

func TestClientIsConfiguredAsThePackageDocSays(t *testing.T) {
	e := newEnv(t)
	cli := whatsmeow.NewClient(e.dev, nil)
	configureClient(cli)
	if cli.EnableDecryptedEventBuffer || !cli.SynchronousAck || !cli.ManualHistorySyncDownload || !cli.EmitAppStateEventsOnFullSync {
		t.Fatalf("client: buffer %v, synchronous ack %v, manual history %v, full-sync events %v",
			cli.EnableDecryptedEventBuffer, cli.SynchronousAck, cli.ManualHistorySyncDownload, cli.EmitAppStateEventsOnFullSync)
	}
}
