package wa

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// contact is someone who writes to the worker, as whatsmeow learns them.
type contact struct {
	pn, lid                    types.JID
	first, full, push, company string
}

func contactNo(i int) contact {
	return contact{
		pn:    types.NewJID(fmt.Sprintf("49170555%05d", i), types.DefaultUserServer),
		lid:   types.NewJID(fmt.Sprintf("3000000%08d", i), types.HiddenUserServer),
		first: fmt.Sprintf("Vorname%02d", i), full: fmt.Sprintf("Vorname%02d Nachname%02d", i, i),
		push: fmt.Sprintf("Spitzname%02d", i), company: fmt.Sprintf("Betrieb%02d GmbH", i),
	}
}

func (c contact) needles() [][]byte {
	return [][]byte{[]byte(c.pn.User), []byte(c.lid.User), []byte(c.first), []byte(c.full), []byte(c.push), []byte(c.company)}
}

// sqliteFiles returns the raw bytes of the database, its WAL and its
// shared-memory index: rows, free pages and log alike.
func sqliteFiles(t *testing.T, e *env) map[string][]byte {
	t.Helper()
	db, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	var path string
	if err := db.QueryRowContext(context.Background(), "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

// found lists the needles that occur in any of the files.
func found(files map[string][]byte, needles [][]byte) []string {
	var out []string
	for _, n := range needles {
		for p, b := range files {
			if bytes.Contains(b, n) {
				out = append(out, fmt.Sprintf("%q in %s", n, p))
			}
		}
	}
	return out
}

// TestNothingOfContactsWithoutIncidentRemains simulates a day of traffic
// through whatsmeow's own store calls (what it does on every message,
// contact sync and privacy token) and Tresor's handler, one contact's
// message flagged, then the capture window's purge and an unlink, and
// reads the SQLite files byte by byte.
func TestNothingOfContactsWithoutIncidentRemains(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) { dayOfTrafficThenUnlink(t, d) })
	}
}

func dayOfTrafficThenUnlink(t *testing.T, dialect sqlstore.Dialect) {
	e := newEnvOn(t, dialect)
	ctx := context.Background()
	storePairedDevice(t, e)
	m := newManager(t, e)
	dev, err := e.devices.GetDevice(ctx, ownDev)
	if err != nil || dev == nil {
		t.Fatalf("paired device: %v", err)
	}
	youth := contact{pn: youthPN, lid: youthLID, first: "Jugendliche", full: "Jugendliche Person", push: "Jugendliche*r", company: "Schule"}
	contacts := []contact{youth}
	for i := 1; i <= 12; i++ {
		contacts = append(contacts, contactNo(i))
	}
	for i, c := range contacts {
		e.clock.Advance(2 * time.Hour) // a day of traffic
		now := e.clock.Now()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// What whatsmeow stores by itself while messages and app state arrive.
		must(e.devices.LIDMap.PutLIDMapping(ctx, c.lid, c.pn))
		must(dev.Contacts.PutContactName(ctx, c.pn, c.first, c.full))
		_, _, err := dev.Contacts.PutPushName(ctx, c.lid, c.push)
		must(err)
		_, _, err = dev.Contacts.PutBusinessName(ctx, c.pn, c.company)
		must(err)
		must(dev.ChatSettings.PutMutedUntil(ctx, c.lid, now.Add(8*time.Hour)))
		must(dev.ChatSettings.PutArchived(ctx, c.pn, true))
		must(dev.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: c.lid, Token: []byte(c.pn.User), Timestamp: now}))
		must(dev.Sessions.PutSession(ctx, c.lid.SignalAddress().String(), []byte("session of "+c.pn.User)))
		must(dev.Identities.PutIdentity(ctx, c.lid.SignalAddress().String(), [32]byte{byte(i)}))
		id := fmt.Sprintf("3A0000000000DAY%03d", i)
		must(dev.MsgSecrets.PutMessageSecret(ctx, c.lid, c.lid, id, bytes.Repeat([]byte{byte(i)}, 32)))
		// And what Tresor's handler does with the message.
		e.handle(&events.Message{Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: c.lid, Sender: c.lid, SenderAlt: c.pn, AddressingMode: types.AddressingModeLID},
			ID:            id, Timestamp: now, Type: "text", PushName: c.push,
		}, Message: textMessage(secretText)})
	}
	e.handle(star(youthLID, types.EmptyJID, "3A0000000000DAY000", false, true))
	if n := len(e.incidents()); n != 1 {
		t.Fatalf("incidents = %d, want the youth's", n)
	}
	var needles [][]byte
	for _, c := range contacts[1:] {
		needles = append(needles, c.needles()...)
	}
	db, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	sqlite := dialect == sqlstore.SQLite
	if sqlite {
		// The scan sees them while they are kept (it can fail).
		if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(FULL)"); err != nil {
			t.Fatal(err)
		}
		if got := found(sqliteFiles(t, e), needles); len(got) < len(needles) {
			t.Fatalf("before purge only %d of %d needles found: the scan would prove nothing", len(got), len(needles))
		}
	}

	// The capture window ends: contacts and chat settings go, old tokens
	// and secrets too.
	e.clock.Advance(e.pol.CaptureWindow + time.Hour)
	if _, err := m.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT COUNT(*) FROM whatsmeow_contacts", "SELECT COUNT(*) FROM whatsmeow_chat_settings", "SELECT COUNT(*) FROM whatsmeow_privacy_tokens"} {
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%s = %d, %v after the window's purge", q, n, err)
		}
	}
	var secrets int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM whatsmeow_message_secrets").Scan(&secrets); err != nil || secrets != 1 {
		t.Fatalf("message secrets = %d, %v; want only the flagged message's", secrets, err)
	}

	if err := m.Unlink(ctx, e.worker.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"device", "sessions", "identity_keys", "contacts", "chat_settings", "privacy_tokens", "message_secrets", "lid_map"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM whatsmeow_"+table).Scan(&n); err != nil || n != 0 {
			t.Fatalf("whatsmeow_%s has %d rows, %v after the unlink", table, n, err)
		}
	}
	if sqlite {
		if got := found(sqliteFiles(t, e), needles); len(got) > 0 {
			t.Fatalf("after purge and unlink the database files still hold:\n%v", got)
		}
	}
	// The incident keeps what it needs of the youth.
	if list := e.incidents(); len(list) != 1 || list[0].Message.SenderAlt != youthPN.String() {
		t.Fatalf("incident after unlink = %+v", list)
	}
}
