package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

func captureStore(t *testing.T, s incident.Store) incident.CaptureStore {
	t.Helper()
	cs, ok := s.(incident.CaptureStore)
	if !ok {
		t.Skipf("%T does not implement incident.CaptureStore", s)
	}
	return cs
}

func testCaptures(t *testing.T, s incident.Store) {
	ctx := context.Background()
	cs := captureStore(t, s)
	addUser(t, s, "w1")
	addUser(t, s, "w2")
	c := func(worker, id string, at time.Time, sealed string) incident.CapturedMessage {
		return incident.CapturedMessage{WorkerID: worker, MessageID: id, Sealed: []byte(sealed), CapturedAt: at, ExpiresAt: at.Add(72 * time.Hour)}
	}
	first := c("w1", "m1", t0, "\x00sealed\xff")
	must(t, cs.PutCapture(ctx, first))
	// A redelivery keeps the stored capture and is no error.
	must(t, cs.PutCapture(ctx, c("w1", "m1", t0.Add(time.Minute), "other")))
	got, err := cs.Capture(ctx, "w1", "m1")
	must(t, err)
	if !bytes.Equal(got.Sealed, first.Sealed) || !got.CapturedAt.Equal(t0) || !got.ExpiresAt.Equal(first.ExpiresAt) || got.WorkerID != "w1" {
		t.Fatalf("capture = %+v, want %+v", got, first)
	}
	if _, err := cs.Capture(ctx, "w2", "m1"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("another worker's capture: %v, want ErrNotFound", err)
	}
	must(t, cs.ResealCapture(ctx, "w1", "m1", []byte("resealed")))
	if got, err := cs.Capture(ctx, "w1", "m1"); err != nil || string(got.Sealed) != "resealed" || !got.CapturedAt.Equal(t0) {
		t.Fatalf("after reseal: %+v, %v", got, err)
	}
	if err := cs.ResealCapture(ctx, "w2", "m1", []byte("x")); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("reseal of a missing capture: %v, want ErrNotFound", err)
	}
	must(t, cs.ResealCapture(ctx, "w1", "m1", first.Sealed))
	if err := cs.PutCapture(ctx, incident.CapturedMessage{WorkerID: "w1"}); !errors.Is(err, incident.ErrInvalidInput) {
		t.Fatalf("capture without id: %v, want ErrInvalidInput", err)
	}
	must(t, cs.PutCapture(ctx, c("w1", "m2", t0.Add(time.Hour), "b")))
	must(t, cs.PutCapture(ctx, c("w1", "m3", t0.Add(2*time.Hour), "c")))
	must(t, cs.PutCapture(ctx, c("w2", "m9", t0, "z")))

	list, err := cs.Captures(ctx, "w1", t0, 0)
	must(t, err)
	if ids := captureIDs(list); ids != "m3 m2 m1" {
		t.Fatalf("captures = %s, want newest first m3 m2 m1", ids)
	}
	list, err = cs.Captures(ctx, "w1", t0, 2)
	must(t, err)
	if ids := captureIDs(list); ids != "m3 m2" {
		t.Fatalf("limited captures = %s", ids)
	}
	// m1 expires at t0+72h: not listed from then on.
	list, err = cs.Captures(ctx, "w1", t0.Add(72*time.Hour), 0)
	must(t, err)
	if ids := captureIDs(list); ids != "m3 m2" {
		t.Fatalf("captures after m1 expired = %s", ids)
	}

	// Extending only moves the expiry later.
	must(t, cs.ExtendCapture(ctx, "w1", "m1", t0.Add(30*24*time.Hour)))
	must(t, cs.ExtendCapture(ctx, "w1", "m1", t0.Add(time.Hour)))
	if got, err = cs.Capture(ctx, "w1", "m1"); err != nil || !got.ExpiresAt.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("after extend: %+v, %v", got, err)
	}
	if err := cs.ExtendCapture(ctx, "w1", "nope", t0); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("extend missing: %v, want ErrNotFound", err)
	}

	n, err := cs.PurgeCaptures(ctx, t0.Add(72*time.Hour+time.Hour))
	must(t, err)
	if n != 2 { // m2 (expires t0+73h) and w2's m9; m1 was extended, m3 expires later
		t.Fatalf("purged %d, want 2", n)
	}
	if _, err := cs.Capture(ctx, "w1", "m2"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("purged capture still there: %v", err)
	}
	must(t, cs.DeleteCapture(ctx, "w1", "m3"))
	must(t, cs.DeleteCapture(ctx, "w1", "m3"))
	n, err = cs.DeleteCaptures(ctx, "w1")
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d of w1's captures, want 1 (m1)", n)
	}
	if list, err = cs.Captures(ctx, "w1", t0, 0); err != nil || len(list) != 0 {
		t.Fatalf("captures after delete: %v, %v", list, err)
	}
}

func captureIDs(list []incident.CapturedMessage) string {
	var b bytes.Buffer
	for i, c := range list {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.MessageID)
	}
	return b.String()
}

func testLinkedDevices(t *testing.T, s incident.Store) {
	ctx := context.Background()
	cs := captureStore(t, s)
	addUser(t, s, "w1")
	addUser(t, s, "w2")
	if _, err := cs.Device(ctx, "w1"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("missing device: %v, want ErrNotFound", err)
	}
	linking := incident.LinkedDevice{WorkerID: "w1", Status: incident.DeviceLinking, UpdatedAt: t0}
	must(t, cs.PutDevice(ctx, linking))
	got, err := cs.Device(ctx, "w1")
	must(t, err)
	if got != linking {
		t.Fatalf("device = %+v, want %+v", got, linking)
	}
	linked := incident.LinkedDevice{WorkerID: "w1", JID: "491701234567:12@s.whatsapp.net", LID: "1234567890@lid",
		Status: incident.DeviceConnected, Detail: "ok", FlagLabelID: "7", PhoneSeenAt: t0.Add(time.Minute),
		LinkedAt: t0, UpdatedAt: t0.Add(time.Minute)}
	must(t, cs.PutDevice(ctx, linked))
	if got, err = cs.Device(ctx, "w1"); err != nil || got != linked {
		t.Fatalf("device after update = %+v, %v; want %+v", got, err, linked)
	}
	// One WhatsApp account is linked to one worker only.
	other := linked
	other.WorkerID = "w2"
	if err := cs.PutDevice(ctx, other); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("same JID for a second worker: %v, want ErrDuplicate", err)
	}
	must(t, cs.PutDevice(ctx, incident.LinkedDevice{WorkerID: "w2", Status: incident.DeviceLinking, UpdatedAt: t0}))
	list, err := cs.Devices(ctx)
	must(t, err)
	if len(list) != 2 || list[0] != linked || list[1].WorkerID != "w2" {
		t.Fatalf("devices = %+v", list)
	}
	// Lost captures are counted on the row, inside a transaction, and
	// kept by a later PutDevice of the row read back.
	must(t, s.Tx(ctx, func(tx incident.Tx) error { return tx.NoteCaptureLost(ctx, "w1", t0.Add(time.Hour)) }))
	must(t, s.Tx(ctx, func(tx incident.Tx) error { return tx.NoteCaptureLost(ctx, "w1", t0.Add(2*time.Hour)) }))
	got, err = cs.Device(ctx, "w1")
	must(t, err)
	if got.LostCaptures != 2 || !got.LostAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after two losses: %d lost, last %v", got.LostCaptures, got.LostAt)
	}
	got.Detail = "reconnected"
	must(t, cs.PutDevice(ctx, got))
	if again, err := cs.Device(ctx, "w1"); err != nil || again != got {
		t.Fatalf("device after put = %+v, %v; want %+v", again, err, got)
	}
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.NoteCaptureLost(ctx, "nobody", t0) }); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("loss without a device row: %v, want ErrNotFound", err)
	}
	// A failing transaction keeps no count.
	failed := errors.New("rolled back")
	err = s.Tx(ctx, func(tx incident.Tx) error {
		must(t, tx.NoteCaptureLost(ctx, "w1", t0.Add(3*time.Hour)))
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("tx = %v", err)
	}
	if again, _ := cs.Device(ctx, "w1"); again.LostCaptures != 2 {
		t.Fatalf("lost captures = %d after a rolled-back tx, want 2", again.LostCaptures)
	}
}

func testUnlinkRequests(t *testing.T, s incident.Store) {
	ctx := context.Background()
	cs := captureStore(t, s)
	addUser(t, s, "w1")
	addUser(t, s, "w2")
	if ok, err := cs.UnlinkRequested(ctx, "w1"); err != nil || ok {
		t.Fatalf("fresh store: requested %v, %v", ok, err)
	}
	must(t, cs.RequestUnlink(ctx, "w1", t0))
	must(t, cs.RequestUnlink(ctx, "w1", t0.Add(time.Minute))) // asked again: still one
	if ok, err := cs.UnlinkRequested(ctx, "w1"); err != nil || !ok {
		t.Fatalf("after the request: %v, %v", ok, err)
	}
	if ok, err := cs.UnlinkRequested(ctx, "w2"); err != nil || ok {
		t.Fatalf("another worker: %v, %v", ok, err)
	}
	must(t, cs.ClearUnlinkRequest(ctx, "w1"))
	must(t, cs.ClearUnlinkRequest(ctx, "w1")) // clearing nothing is fine
	if ok, err := cs.UnlinkRequested(ctx, "w1"); err != nil || ok {
		t.Fatalf("after clearing: %v, %v", ok, err)
	}
}
