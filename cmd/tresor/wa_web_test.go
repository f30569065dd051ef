package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/wa"
	"github.com/tresor-evidence/tresor/web"
)

// TestWAWebAdapter runs the web port over a real Manager and SQLite store,
// without reaching WhatsApp: statuses, the 12-day warning, and the
// manager's errors mapped to the sentinels the web layer understands.
func TestWAWebAdapter(t *testing.T) {
	ctx := context.Background()
	s := sqltest.Open(t, sqltest.Dialects()[0])
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := wa.MigrateDeviceStore(ctx, db, string(s.Dialect())); err != nil {
		t.Fatal(err)
	}
	devices, err := wa.OpenDeviceStore(ctx, db, string(s.Dialect()))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := wa.NewSealer(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	mgr, err := wa.NewManager(wa.Config{Store: s, Devices: devices, Sealer: sealer, Options: wa.Options{Clock: func() time.Time { return now }}})
	if err != nil {
		t.Fatal(err)
	}
	port := waWeb{mgr}
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(s, pol, nil, mgr, incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}))
	mgr.SetFlagger(svc)
	ids := map[string]string{}
	for _, name := range []string{"wanda", "otto"} {
		u, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: name, Role: incident.RoleWorker, Password: "correct horse " + name})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = u.ID
	}
	w1, w2 := ids["wanda"], ids["otto"]

	if _, err := port.Device(ctx, w1); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("never linked: %v", err)
	}
	if _, err := port.PairPhone(ctx, w1, "+49 170 1234567"); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("pairing without linking: %v", err)
	}
	if _, err := port.PairPhone(ctx, w1, "0170 1234567"); !errors.Is(err, incident.ErrInvalidInput) {
		t.Fatalf("national number: %v", err)
	}
	if err := port.Unlink(ctx, w1); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("unlinking nothing: %v", err)
	}
	if refs, err := port.RecentMessages(ctx, w1); err != nil || len(refs) != 0 {
		t.Fatalf("recent: %v, %v", refs, err)
	}
	if got := port.FlagHold(); got != wa.DefaultFlagHold {
		t.Fatalf("flag hold %v", got)
	}

	seen := now.Add(-13 * 24 * time.Hour)
	for _, d := range []incident.LinkedDevice{
		{WorkerID: w1, JID: "491701234567.0:12@s.whatsapp.net", Status: incident.DeviceConnected, PhoneSeenAt: seen, LinkedAt: seen, UpdatedAt: now},
		{WorkerID: w2, Status: incident.DeviceBanned, Detail: "temporarily banned: code 101", UpdatedAt: now},
	} {
		if err := s.PutDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	d, err := port.Device(ctx, w1)
	if err != nil {
		t.Fatal(err)
	}
	want := web.DeviceView{WorkerID: w1, Status: incident.DeviceConnected, PhoneSeenAt: seen, LinkedAt: seen, PhoneWarning: true}
	if !d.PhoneSeenAt.Equal(seen) || !d.LinkedAt.Equal(seen) {
		t.Fatalf("times %v %v", d.PhoneSeenAt, d.LinkedAt)
	}
	d.PhoneSeenAt, d.LinkedAt = want.PhoneSeenAt, want.LinkedAt
	if d != want {
		t.Fatalf("device %+v, want %+v", d, want)
	}
	list, err := port.Devices(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("devices %+v, %v", list, err)
	}
	for _, d := range list {
		if d.WorkerID == w2 && (d.Status != incident.DeviceBanned || d.Detail != "temporarily banned: code 101" || d.PhoneWarning) ||
			d.WorkerID == w1 && !d.PhoneWarning {
			t.Fatalf("device %+v", d)
		}
	}
	if _, err := port.Link(ctx, w1); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("linking a linked device: %v", err)
	}
}

func TestToLinkStep(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		in   wa.LinkEvent
		want web.LinkKind
	}{
		{wa.LinkEvent{Kind: wa.LinkCode, Code: "2@x", Timeout: time.Minute}, web.LinkCode},
		{wa.LinkEvent{Kind: wa.LinkSuccess}, web.LinkSuccess},
		{wa.LinkEvent{Kind: wa.LinkTimeout}, web.LinkTimeout},
		{wa.LinkEvent{Kind: wa.LinkUnreachable, Err: wa.ErrWhatsAppUnreachable}, web.LinkUnreachable},
		{wa.LinkEvent{Kind: wa.LinkError, Err: boom}, web.LinkError},
		{wa.LinkEvent{Kind: "strange"}, web.LinkError},
	} {
		got := toLinkStep(c.in)
		if got.Kind != c.want || got.Code != c.in.Code || got.Timeout != c.in.Timeout {
			t.Errorf("%v: %+v", c.in.Kind, got)
		}
		if c.want == web.LinkError && got.Err == nil {
			t.Errorf("%v: no error", c.in.Kind)
		}
	}
	if err := webError(fmt.Errorf("x: %w", wa.ErrNoDevice)); !errors.Is(err, incident.ErrNotFound) || !errors.Is(err, wa.ErrNoDevice) {
		t.Fatalf("webError: %v", err)
	}
}

// TestFollowLinkPairsAtFirstCode: `tresor wa link --phone` asks for the
// pairing code only once WhatsApp's first QR event came (whatsmeow's
// PairPhone docs), once, and prints no QR code.
func TestFollowLinkPairsAtFirstCode(t *testing.T) {
	var out bytes.Buffer
	c := &cli{stdout: &out}
	events := make(chan wa.LinkEvent, 4)
	pairs := 0
	pair := func() error {
		pairs++
		fmt.Fprintln(&out, "PAIR")
		return nil
	}
	events <- wa.LinkEvent{Kind: wa.LinkCode, Code: "2@first", Timeout: 60 * time.Second}
	events <- wa.LinkEvent{Kind: wa.LinkCode, Code: "2@second", Timeout: 20 * time.Second}
	events <- wa.LinkEvent{Kind: wa.LinkSuccess}
	close(events)
	if err := c.followLink(events, pair); err != nil {
		t.Fatal(err)
	}
	if pairs != 1 || out.String() != "PAIR\nlinked\n" {
		t.Fatalf("paired %d times, printed %q", pairs, out.String())
	}
	// Before the first code nothing is requested: linking that never
	// reaches WhatsApp ends with what to check.
	unreachable := make(chan wa.LinkEvent, 1)
	unreachable <- wa.LinkEvent{Kind: wa.LinkUnreachable, Err: wa.ErrWhatsAppUnreachable}
	close(unreachable)
	pairs = 0
	if err := c.followLink(unreachable, pair); !errors.Is(err, wa.ErrWhatsAppUnreachable) || pairs != 0 {
		t.Fatalf("unreachable: %v, %d pairing requests", err, pairs)
	}
}
