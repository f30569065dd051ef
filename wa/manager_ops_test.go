package wa

import (
	"context"
	"errors"
	"testing"

	"go.mau.fi/whatsmeow/proto/waCompanionReg"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// noWhatsApp is a proxy address nothing listens on: the managers of the
// tests never reach the network, and connecting fails at once, as it
// does on a server that cannot reach WhatsApp.
const noWhatsApp = "http://127.0.0.1:1"

// TestPermanentDisconnectDropsDevice: a device WhatsApp lets go for good
// leaves the manager (client stopped, lock released), its status says
// what to do, and housekeeping does not connect it again.
func TestPermanentDisconnectDropsDevice(t *testing.T) {
	for _, tc := range []struct {
		name string
		evt  events.PermanentDisconnect
		want incident.DeviceStatus
	}{
		{"logged out on the phone", &events.LoggedOut{Reason: events.ConnectFailureLoggedOut}, incident.DeviceLoggedOut},
		{"replaced by another program", &events.StreamReplaced{}, incident.DeviceReplaced},
		{"temporarily banned", &events.TemporaryBan{Code: events.TempBanSentToTooManyPeople}, incident.DeviceBanned},
		{"client outdated (405)", &events.ClientOutdated{}, incident.DeviceOutdated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			storePairedDevice(t, e)
			m := newManager(t, e)
			defer m.Close()
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
			ad, ok := m.adapter(e.worker.ID)
			if !ok {
				t.Fatal("device not started")
			}
			if !ad.Handle(tc.evt) {
				t.Fatal("handler failed")
			}
			if _, ok := m.adapter(e.worker.ID); ok {
				t.Fatal("the device stayed in the manager")
			}
			d, err := m.Device(ctx, e.worker.ID)
			if err != nil || d.Status != tc.want || d.Detail == "" {
				t.Fatalf("device = %+v, %v; want status %s with WhatsApp's reason", d, err, tc.want)
			}
			// The lock is free: this or another process may link anew.
			lock, ok, err := e.store.LockDevice(ctx, e.worker.ID)
			if err != nil || !ok {
				t.Fatalf("lock after the device left: %v %v", ok, err)
			}
			if err := lock.Release(); err != nil {
				t.Fatal(err)
			}
			if err := m.housekeeping(ctx); err != nil {
				t.Fatal(err)
			}
			if _, ok := m.adapter(e.worker.ID); ok {
				t.Fatal("housekeeping connected a device WhatsApp let go")
			}
		})
	}
}

// TestLinkWithoutWhatsApp: when WhatsApp cannot be reached, linking says
// so (instead of "no code was scanned in time"), gives the device lock
// back, and a pairing code is not requested.
func TestLinkWithoutWhatsApp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := newManager(t, e)
	defer m.Close()
	steps, err := m.Link(ctx, e.worker.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []LinkEvent
	for ev := range steps {
		got = append(got, ev)
	}
	if len(got) != 1 || got[0].Kind != LinkUnreachable || !errors.Is(got[0].Err, ErrWhatsAppUnreachable) {
		t.Fatalf("link events = %+v, want one LinkUnreachable", got)
	}
	if _, err := m.PairPhone(ctx, e.worker.ID, "+49 170 1234567"); !errors.Is(err, ErrNotLinking) {
		t.Fatalf("PairPhone after a failed link: %v", err)
	}
	lock, ok, err := e.store.LockDevice(ctx, e.worker.ID)
	if err != nil || !ok {
		t.Fatalf("lock after the failed link: %v %v", ok, err)
	}
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestQRLinkingNamesTheDeviceTresor: the registration payload whatsmeow
// sends when a new device is linked by QR code carries "Tresor" as the
// name the phone shows.
func TestQRLinkingNamesTheDeviceTresor(t *testing.T) {
	e := newEnv(t)
	newManager(t, e)
	p := e.devices.NewDevice().GetClientPayload()
	var props waCompanionReg.DeviceProps
	if err := proto.Unmarshal(p.GetDevicePairingData().GetDeviceProps(), &props); err != nil {
		t.Fatal(err)
	}
	if props.GetOs() != DeviceName {
		t.Fatalf("device props name the device %q, want %q", props.GetOs(), DeviceName)
	}
}

// TestUnlinkOfADeviceHeldElsewhere: two Tresor processes on one database
// (PostgreSQL when TRESOR_TEST_DATABASE_URL is set). Unlinking in the one
// that does not hold the device deletes no keys there (the holder would
// write them back) but asks the holder through the database; the holder
// unlinks at its lock check: client stopped, whatsmeow's keys and the
// captures deleted, lock released, status unlinked.
func TestUnlinkOfADeviceHeldElsewhere(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			ctx := context.Background()
			storePairedDevice(t, e)
			holder, other := newManager(t, e), newManager(t, e)
			defer holder.Close()
			defer other.Close()
			if err := holder.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if _, ok := holder.adapter(e.worker.ID); !ok {
				t.Fatal("the holder did not take the device")
			}
			e.handle(received("3A00000000000000U1", textMessage(secretText)))

			if err := other.Unlink(ctx, e.worker.ID); !errors.Is(err, ErrUnlinkPending) {
				t.Fatalf("Unlink in the other process: %v, want ErrUnlinkPending", err)
			}
			if dev, err := e.devices.GetDevice(ctx, ownDev); err != nil || dev == nil {
				t.Fatalf("the other process deleted the keys under the holder: %v, %v", dev, err)
			}
			if _, ok := holder.adapter(e.worker.ID); !ok {
				t.Fatal("the device stopped before the holder saw the request")
			}

			holder.serveUnlinkRequests(ctx) // what Run does every LockCheckInterval
			if _, ok := holder.adapter(e.worker.ID); ok {
				t.Fatal("the holder kept the device")
			}
			if dev, err := e.devices.GetDevice(ctx, ownDev); err != nil || dev != nil {
				t.Fatalf("whatsmeow's keys after the unlink: %v, %v", dev, err)
			}
			if refs, err := holder.RecentMessages(ctx, e.worker.ID); err != nil || len(refs) != 0 {
				t.Fatalf("captures after the unlink: %d, %v", len(refs), err)
			}
			if dv, err := other.Device(ctx, e.worker.ID); err != nil || dv.Status != incident.DeviceUnlinked {
				t.Fatalf("status seen by the other process: %+v, %v", dv, err)
			}
			if asked, err := e.store.UnlinkRequested(ctx, e.worker.ID); err != nil || asked {
				t.Fatalf("request after it was served: %v, %v", asked, err)
			}
			lock, ok, err := e.store.LockDevice(ctx, e.worker.ID)
			if err != nil || !ok {
				t.Fatalf("lock after the unlink: %v %v", ok, err)
			}
			if err := lock.Release(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
