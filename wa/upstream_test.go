package wa

import (
	"context"
	"flag"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

var updateUpstream = flag.Bool("update-upstream", false, "rewrite testdata/whatsmeow_*.golden from the whatsmeow in go.mod")

// adapterEvents are the whatsmeow events the adapter handles (Handle,
// status.go). Add a type here when the adapter starts to depend on it.
var adapterEvents = []any{
	events.Message{}, events.Star{}, events.LabelEdit{}, events.LabelAssociationMessage{}, events.Receipt{},
	events.PairSuccess{}, events.Connected{}, events.Disconnected{}, events.MediaRetry{}, events.DeleteForMe{},
	events.LoggedOut{}, events.StreamReplaced{}, events.TemporaryBan{}, events.ClientOutdated{}, events.ConnectFailure{},
	events.QR{}, events.PairError{},
}

// TestWhatsmeowSchemaUnchanged breaks when an upgrade of whatsmeow
// changes its store schema: the tables and columns `tresor migrate`
// creates (whatsmeow's own upgrades) and the version serve insists on.
// Then read whatsmeow's new upgrade files, say in README which table
// holds what, check the purge and unlink code, and run with
// -update-upstream.
func TestWhatsmeowSchemaUnchanged(t *testing.T) {
	st := sqltest.Open(t, sqlstore.SQLite)
	db, err := st.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	from, to, err := MigrateDeviceStore(ctx, db, "sqlite")
	if err != nil || from != 0 || to != DeviceStoreVersion() {
		t.Fatalf("MigrateDeviceStore = %d → %d, %v; want 0 → %d", from, to, err, DeviceStoreVersion())
	}
	rows, err := db.QueryContext(ctx, "SELECT m.name, p.name, p.type, p.pk FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type='table' AND m.name LIKE 'whatsmeow%' ORDER BY m.name, p.cid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "version %d\n", to)
	for rows.Next() {
		var table, col, typ string
		var pk int
		if err := rows.Scan(&table, &col, &typ, &pk); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s.%s %s pk=%d\n", table, col, typ, pk)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/whatsmeow_schema.golden", b.String())
}

// TestWhatsmeowEventsUnchanged breaks when an upgrade of whatsmeow
// changes an event type the adapter reads: its fields and their types,
// one level into named struct types of whatsmeow.
func TestWhatsmeowEventsUnchanged(t *testing.T) {
	var b strings.Builder
	seen := map[reflect.Type]bool{}
	var describe func(reflect.Type, int)
	describe = func(rt reflect.Type, depth int) {
		if seen[rt] || rt.Kind() != reflect.Struct {
			return
		}
		seen[rt] = true
		var lines []string
		var nested []reflect.Type
		for f := range rt.Fields() {
			if !f.IsExported() {
				continue
			}
			lines = append(lines, fmt.Sprintf("%s.%s %s", rt.String(), f.Name, f.Type.String()))
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if strings.HasPrefix(ft.PkgPath(), "go.mau.fi/whatsmeow/types") && depth < 2 {
				nested = append(nested, ft)
			}
		}
		sort.Strings(lines)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		for _, n := range nested {
			describe(n, depth+1)
		}
	}
	for _, e := range adapterEvents {
		describe(reflect.TypeOf(e), 0)
	}
	golden(t, "testdata/whatsmeow_events.golden", b.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *updateUpstream {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("whatsmeow changed what the adapter depends on (%s); review the change, then run go test -run Whatsmeow ./wa/ -update-upstream.\ngot:\n%s", path, got)
	}
}
