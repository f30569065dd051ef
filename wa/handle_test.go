package wa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waSyncAction"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

const secretText = "Treffen heute 17 Uhr am Bahnhof, bring das Video mit"

// received is a direct message from the young person, addressed in the
// LID form with the phone-number form as SenderAlt, as WhatsApp now sends.
func received(id string, msg *waE2E.Message) *events.Message {
	return &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: youthLID, Sender: youthLID, SenderAlt: youthPN, AddressingMode: types.AddressingModeLID},
			ID:            id, Timestamp: t0.Add(-10 * time.Minute), Type: "text", PushName: "Jugendliche*r",
		},
		Message: msg,
	}
}

func textMessage(s string) *waE2E.Message { return &waE2E.Message{Conversation: proto.String(s)} }

func imageMessage() *waE2E.Message {
	return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
		Mimetype: proto.String("image/jpeg"), Caption: proto.String("schau mal"), FileLength: proto.Uint64(4096),
		FileSHA256: bytes.Repeat([]byte{0xab}, 32), FileEncSHA256: bytes.Repeat([]byte{0xcd}, 32),
		MediaKey: bytes.Repeat([]byte{0x11}, 32), DirectPath: proto.String("/v/t62.7118-24/x.enc"),
	}}
}

func star(chat, sender types.JID, id string, fromMe, starred bool) *events.Star {
	return &events.Star{ChatJID: chat, SenderJID: sender, MessageID: id, IsFromMe: fromMe, Timestamp: t0,
		Action: &waSyncAction.StarAction{Starred: proto.Bool(starred)}}
}

func TestCaptureIsSealedAtRest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.handle(received("3A0000000000000001", textMessage(secretText)))

	c, err := e.store.Capture(ctx, e.worker.ID, "3A0000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if !c.ExpiresAt.Equal(t0.Add(e.pol.CaptureWindow)) {
		t.Fatalf("expires %v, want capture window %v after %v", c.ExpiresAt, e.pol.CaptureWindow, t0)
	}
	for _, secret := range []string{secretText, youthPN.User, youthLID.User, "Jugendliche"} {
		if bytes.Contains(c.Sealed, []byte(secret)) {
			t.Fatalf("sealed capture contains %q in the clear", secret)
		}
	}
	// Nothing in the database files either (SQLite keeps them in one
	// directory with the WAL).
	db, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(FULL)"); err != nil {
		t.Fatal(err)
	}
	var path string
	if err := db.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
		t.Fatal(err)
	}
	scanDir(t, filepath.Dir(path), []byte(secretText), []byte("Bahnhof"))

	// A moved row (another message id) does not open.
	c.MessageID = "3A0000000000000002"
	if _, err := e.ad.openCapture(c); !errors.Is(err, ErrSealed) {
		t.Fatalf("capture under another id opened: %v", err)
	}

	refs, err := e.ad.RecentMessages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := incident.MessageRef{ID: "3A0000000000000001", Chat: youthLID.String(), Sender: youthLID.String(), SenderAlt: youthPN.String(),
		SentAt: t0.Add(-10 * time.Minute)}
	if len(refs) != 1 || refs[0] != want {
		t.Fatalf("recent = %+v, want %+v", refs, want)
	}
}

// scanDir fails if any file under dir contains one of the needles.
func scanDir(t *testing.T, dir string, needles ...[]byte) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s contains plaintext %q", p, n[:min(len(n), 16)])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStarFlagsCapturedMessage(t *testing.T) {
	e := newEnv(t)
	e.handle(received("3A00000000000000A1", imageMessage()))
	// The phone stars it, naming the chat by its phone-number form.
	e.handle(star(youthPN, types.EmptyJID, "3A00000000000000A1", false, true))

	list := e.incidents()
	if len(list) != 1 {
		t.Fatalf("incidents = %d, want 1", len(list))
	}
	inc := list[0]
	if inc.State != incident.StateFlagged || inc.Channel != incident.ChannelWhatsApp || inc.Category != "" || inc.ReporterID != e.worker.ID {
		t.Fatalf("incident = %+v", inc)
	}
	// The chat keeps the phone's form (the star's), for delete-for-me.
	want := incident.MessageRef{ID: "3A00000000000000A1", Chat: youthPN.String(), Sender: youthLID.String(), SenderAlt: youthPN.String(),
		SentAt: t0.Add(-10 * time.Minute), MediaType: "image/jpeg", FileSHA256: strings.Repeat("ab", 32), Size: 4096}
	if inc.Message != want {
		t.Fatalf("message = %+v\nwant %+v", inc.Message, want)
	}
	// The flagged capture is kept beyond the window for securing.
	c, err := e.store.Capture(context.Background(), e.worker.ID, "3A00000000000000A1")
	if err != nil || !c.ExpiresAt.Equal(t0.Add(DefaultFlagHold)) {
		t.Fatalf("capture after flag: %+v, %v", c.ExpiresAt, err)
	}
	// Starring again (from another device) opens nothing new; unstarring
	// never flags, nor does a full sync's star on a device not linked.
	e.handle(star(youthLID, types.EmptyJID, "3A00000000000000A1", false, true))
	e.handle(star(youthLID, types.EmptyJID, "3A00000000000000A1", false, false))
	old := star(youthLID, types.EmptyJID, "3A00000000000000A9", false, true)
	old.FromFullSync = true
	e.handle(old)
	if n := len(e.incidents()); n != 1 {
		t.Fatalf("incidents = %d after duplicate/unstar/full sync, want 1", n)
	}
	if d := e.device(); !d.PhoneSeenAt.Equal(t0) {
		t.Fatalf("phone seen at %v, want %v (the star came from the phone)", d.PhoneSeenAt, t0)
	}
}

func TestStarMatchesLIDThroughWhatsmeowMap(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A message that arrived in phone-number form without SenderAlt…
	evt := received("3A00000000000000B1", textMessage(secretText))
	evt.Info.Chat, evt.Info.Sender, evt.Info.SenderAlt = youthPN, youthPN, types.EmptyJID
	e.handle(evt)
	// …starred with its LID form: matched through whatsmeow's LID map.
	if err := e.devices.LIDMap.PutLIDMapping(ctx, youthLID, youthPN); err != nil {
		t.Fatal(err)
	}
	e.handle(star(youthLID, types.EmptyJID, "3A00000000000000B1", false, true))
	list := e.incidents()
	if len(list) != 1 {
		t.Fatalf("incidents = %d", len(list))
	}
	if m := list[0].Message; m.Chat != youthLID.String() || m.Sender != youthPN.String() || m.SenderAlt != youthLID.String() || m.SentAt.IsZero() {
		t.Fatalf("message = %+v, want the captured one with the LID as SenderAlt and the phone's (LID) chat", m)
	}
}

func TestStarOfUncapturedMessageFlagsByKey(t *testing.T) {
	e := newEnv(t)
	e.handle(star(groupJID, youthPN, "3A00000000000000C1", false, true))
	e.handle(star(youthPN, types.EmptyJID, "3A00000000000000C2", true, true))
	got := map[string]incident.MessageRef{}
	for _, inc := range e.incidents() {
		got[inc.Message.ID] = inc.Message
	}
	if m := got["3A00000000000000C1"]; m.Chat != groupJID.String() || m.Sender != youthPN.String() || m.FromMe {
		t.Fatalf("group message = %+v", m)
	}
	if m := got["3A00000000000000C2"]; m.Chat != youthPN.String() || m.Sender != ownDev.ToNonAD().String() || !m.FromMe {
		t.Fatalf("own message = %+v", m)
	}
}

func TestReactionFlagsFromOwnDeviceOnly(t *testing.T) {
	e := newEnv(t, func(p *policies.Policy) { p.FlagEmoji = "📌" })
	e.handle(received("3A00000000000000D1", textMessage(secretText)))
	react := func(fromMe bool, emoji string, key *waCommon.MessageKey) *events.Message {
		evt := received("3A00000000000000R"+emoji, &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Key: key, Text: proto.String(emoji)}})
		evt.Info.IsFromMe = fromMe
		if fromMe {
			evt.Info.Sender = ownPN
		}
		return evt
	}
	key := &waCommon.MessageKey{RemoteJID: proto.String(youthLID.String()), FromMe: proto.Bool(false), ID: proto.String("3A00000000000000D1")}
	e.handle(react(false, "📌", key)) // the young person's reaction
	e.handle(react(true, "👍", key))  // another emoji
	e.handle(react(true, "", key))   // a removed reaction
	e.handle(react(true, "📌", nil))  // malformed: no key
	if n := len(e.incidents()); n != 0 {
		t.Fatalf("incidents = %d, want 0", n)
	}
	e.handle(react(true, "📌", key))
	list := e.incidents()
	if len(list) != 1 || list[0].Message.ID != "3A00000000000000D1" || list[0].Message.SenderAlt != youthPN.String() {
		t.Fatalf("incidents = %+v", list)
	}
	// Reactions are never captured as messages.
	if refs, err := e.ad.RecentMessages(context.Background()); err != nil || len(refs) != 1 {
		t.Fatalf("recent = %+v, %v", refs, err)
	}
}

func TestLabelFlags(t *testing.T) {
	e := newEnv(t) // the default policy's flag label is "Tresor"
	e.handle(received("3A00000000000000F1", imageMessage()))
	labelMsg := func(label, id string) *events.LabelAssociationMessage {
		return &events.LabelAssociationMessage{JID: youthPN, LabelID: label, MessageID: id, Timestamp: t0,
			Action: &waSyncAction.LabelAssociationAction{Labeled: proto.Bool(true)}}
	}
	e.handle(labelMsg("5", "3A00000000000000F1")) // label id not known yet
	e.handle(&events.LabelEdit{LabelID: "4", Action: &waSyncAction.LabelEditAction{Name: proto.String("Neuer Kunde")}})
	e.handle(&events.LabelEdit{LabelID: "5", FromFullSync: true, Action: &waSyncAction.LabelEditAction{Name: proto.String(" tresor ")}})
	if id := e.device().FlagLabelID; id != "5" {
		t.Fatalf("flag label id = %q, want 5", id)
	}
	e.handle(labelMsg("4", "3A00000000000000F1")) // another label
	if n := len(e.incidents()); n != 0 {
		t.Fatalf("incidents = %d before the flag label was applied", n)
	}
	e.handle(labelMsg("5", "3A00000000000000F1"))
	list := e.incidents()
	if len(list) != 1 || list[0].Message.MediaType != "image/jpeg" || list[0].Message.Sender != youthLID.String() {
		t.Fatalf("incidents = %+v", list)
	}
	// Deleting the label stops flagging with it.
	e.handle(&events.LabelEdit{LabelID: "5", Action: &waSyncAction.LabelEditAction{Name: proto.String("Tresor"), Deleted: proto.Bool(true)}})
	if id := e.device().FlagLabelID; id != "" {
		t.Fatalf("flag label id = %q after deletion", id)
	}
	e.handle(labelMsg("5", "3A00000000000000F2"))
	if n := len(e.incidents()); n != 1 {
		t.Fatalf("incidents = %d after the label was deleted", n)
	}
}

func TestMalformedEventsDoNotPanic(t *testing.T) {
	e := newEnv(t, func(p *policies.Policy) { p.FlagEmoji = "📌" })
	for _, evt := range []any{
		nil,
		&events.Message{},
		(*events.Message)(nil),
		&events.Message{Message: &waE2E.Message{}},
		&events.Message{Info: types.MessageInfo{ID: "x"}, Message: &waE2E.Message{ImageMessage: &waE2E.ImageMessage{}}},
		&events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{IsFromMe: true}}, Message: &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Text: proto.String("📌")}}},
		&events.Message{Info: types.MessageInfo{MessageSource: types.MessageSource{IsFromMe: true}}, Message: &waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{Text: proto.String("📌"), Key: &waCommon.MessageKey{ID: proto.String("y"), RemoteJID: proto.String("not a jid@@")}}}},
		&events.Star{},
		(*events.Star)(nil),
		&events.Star{MessageID: "z"},
		&events.LabelEdit{},
		&events.LabelEdit{LabelID: "1"},
		&events.LabelAssociationMessage{},
		&events.LabelAssociationMessage{LabelID: "1", MessageID: "z"},
		(*events.LoggedOut)(nil),
		(*events.TemporaryBan)(nil),
		(*events.ConnectFailure)(nil),
		(*events.Receipt)(nil),
		(*events.PairSuccess)(nil),
		&events.PairSuccess{},
		(*events.DeleteForMe)(nil),
		(*events.UndecryptableMessage)(nil),
		&events.UndecryptableMessage{IsUnavailable: true, UnavailableType: events.UnavailableTypeViewOnce},
	} {
		if !e.ad.Handle(evt) {
			t.Errorf("Handle(%#v) = false", evt)
		}
	}
}

func TestDeviceStatusEvents(t *testing.T) {
	e := newEnv(t)
	e.handle(&events.PairSuccess{ID: ownDev, LID: ownLID, Platform: "android"})
	d := e.device()
	if d.JID != ownDev.String() || d.LID != ownLID.String() || d.Status != incident.DeviceConnected || !d.LinkedAt.Equal(t0) {
		t.Fatalf("after pairing: %+v", d)
	}
	for _, tc := range []struct {
		evt    any
		status incident.DeviceStatus
		detail string
	}{
		{&events.Connected{}, incident.DeviceConnected, ""},
		{&events.Disconnected{}, incident.DeviceDisconnected, "reconnecting"},
		{&events.StreamReplaced{}, incident.DeviceReplaced, "stream replaced"},
		{&events.TemporaryBan{Code: events.TempBanBlockedByUsers, Expire: time.Hour}, incident.DeviceBanned, "102"},
		{&events.ClientOutdated{}, incident.DeviceOutdated, "client outdated"},
		{&events.ConnectFailure{Reason: events.ConnectFailureCATInvalid}, incident.DeviceFailed, "414"},
		{&events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureMainDeviceGone}, incident.DeviceLoggedOut, "primary device was logged out"},
	} {
		e.handle(tc.evt)
		d := e.device()
		if d.Status != tc.status || !strings.Contains(d.Detail, tc.detail) {
			t.Errorf("%T: status %s %q, want %s containing %q", tc.evt, d.Status, d.Detail, tc.status, tc.detail)
		}
		if d.JID != ownDev.String() {
			t.Errorf("%T: JID lost: %+v", tc.evt, d)
		}
	}
}

func TestPhoneWarningAfter12Days(t *testing.T) {
	e := newEnv(t)
	e.handle(&events.PairSuccess{ID: ownDev, LID: ownLID})
	// A message the worker sent on the phone (device 0) shows it online.
	e.clock.Advance(24 * time.Hour)
	own := received("3A00000000000000G1", textMessage("Hallo"))
	own.Info.IsFromMe, own.Info.Sender, own.Info.Chat = true, ownPN, youthPN
	e.handle(own)
	if d := e.device(); !d.PhoneSeenAt.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("phone seen at %v", d.PhoneSeenAt)
	}
	// One sent from another companion device (device 7) does not.
	e.clock.Advance(2 * time.Hour)
	other := received("3A00000000000000G2", textMessage("Hallo"))
	other.Info.IsFromMe, other.Info.Sender = true, ownDev
	e.handle(other)
	if d := e.device(); !d.PhoneSeenAt.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("phone seen at %v after a companion's message", d.PhoneSeenAt)
	}
	seen := t0.Add(24 * time.Hour)
	if PhoneWarning(e.device(), seen.Add(PhoneWarningAfter-time.Minute)) {
		t.Fatal("warning before 12 days")
	}
	if !PhoneWarning(e.device(), seen.Add(PhoneWarningAfter)) {
		t.Fatal("no warning after 12 days")
	}
	e.handle(&events.LoggedOut{})
	if PhoneWarning(e.device(), seen.Add(30*24*time.Hour)) {
		t.Fatal("warning for a logged-out device: it needs linking, not the phone")
	}
}

func TestCapturesArePurgedAfterTheWindow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.handle(received("3A00000000000000H1", textMessage(secretText)))
	e.handle(received("3A00000000000000H2", imageMessage()))
	e.handle(star(youthLID, types.EmptyJID, "3A00000000000000H2", false, true)) // flagged: kept
	e.clock.Advance(e.pol.CaptureWindow)
	n, err := e.store.PurgeCaptures(ctx, e.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	refs, err := e.ad.RecentMessages(ctx)
	if err != nil || len(refs) != 1 || refs[0].ID != "3A00000000000000H2" {
		t.Fatalf("recent after purge = %+v, %v", refs, err)
	}
	e.clock.Advance(DefaultFlagHold)
	if n, err := e.store.PurgeCaptures(ctx, e.clock.Now()); err != nil || n != 1 {
		t.Fatalf("purged %d, %v after the flag hold; want 1", n, err)
	}
}

func TestStatusUpdatesAndChannelsAreNotCaptured(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	channel := types.NewJID("120363000000000099", types.NewsletterServer)
	for i, chat := range []types.JID{types.StatusBroadcastJID, channel} {
		evt := received(fmt.Sprintf("3A00000000000000S%d", i), imageMessage())
		evt.Info.Chat = chat
		e.handle(evt)
		if _, err := e.store.Capture(ctx, e.worker.ID, evt.Info.ID); !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("message in %s captured: %v", chat, err)
		}
	}
	// The same message in a chat is.
	e.handle(received("3A00000000000000S9", imageMessage()))
	if _, err := e.store.Capture(ctx, e.worker.ID, "3A00000000000000S9"); err != nil {
		t.Fatal(err)
	}
}
