package wa

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"

	"go.mau.fi/whatsmeow/proto/waAdv"

	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// TestDeviceStoreServedByANonOwner: on PostgreSQL, `tresor migrate` runs
// whatsmeow's upgrades as the owner; a role with only row rights then
// opens and uses the device store, and is told to run migrate (instead
// of failing an ALTER TABLE) when whatsmeow's tables are stale.
func TestDeviceStoreServedByANonOwner(t *testing.T) {
	ownerURL := sqltest.URL(t, sqlstore.Postgres)
	owner := sqltest.OpenURL(t, ownerURL)
	ctx := context.Background()
	odb, err := owner.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := MigrateDeviceStore(ctx, odb, "postgres"); err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	role := "tresor_serve_" + hex.EncodeToString(b[:])
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT USAGE ON SCHEMA " + schemaOf(t, ownerURL) + " TO " + role,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schemaOf(t, ownerURL) + " TO " + role,
	} {
		if _, err := odb.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := odb.ExecContext(context.Background(), q); err != nil {
				t.Error(err)
			}
		}
	})
	u, err := url.Parse(ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	serve, err := sqlstore.Open(ctx, u.String(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve.Close() })
	sdb, err := serve.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenDeviceStore(ctx, sdb, "postgres")
	if err != nil {
		t.Fatalf("the serving role cannot open the device store: %v", err)
	}
	dev := c.NewDevice()
	own := ownDev
	dev.ID, dev.LID = &own, ownLID
	dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64),
		AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := c.PutDevice(ctx, dev); err != nil {
		t.Fatalf("the serving role cannot store a device: %v", err)
	}
	if _, err := sdb.ExecContext(ctx, "ALTER TABLE whatsmeow_device ADD COLUMN probe TEXT"); err == nil {
		t.Fatal("the serving role may change the schema; the test proves nothing")
	}

	if _, err := odb.ExecContext(ctx, "ALTER TABLE whatsmeow_device DROP COLUMN companion_meta_nonce"); err != nil {
		t.Fatal(err)
	}
	if _, err := odb.ExecContext(ctx, "UPDATE whatsmeow_version SET version = 14"); err != nil { // as before upgrade 15
		t.Fatal(err)
	}
	if _, err := OpenDeviceStore(ctx, sdb, "postgres"); !errors.Is(err, ErrStaleDeviceStore) {
		t.Fatalf("stale store opened by the serving role: %v, want ErrStaleDeviceStore", err)
	}
	from, to, err := MigrateDeviceStore(ctx, odb, "postgres")
	if err != nil || from != 14 || to != DeviceStoreVersion() {
		t.Fatalf("migrate = %d → %d, %v", from, to, err)
	}
	if _, err := OpenDeviceStore(ctx, sdb, "postgres"); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
}

func schemaOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}

// Two schemas of one PostgreSQL database (two installations, or parallel
// tests) each get whatsmeow's tables: whatsmeow's own upgrader looks for
// its version table in every schema, so the second migration failed with
// "relation whatsmeow_version does not exist".
func TestDeviceStoreMigratesBesideAnotherSchema(t *testing.T) {
	ctx := context.Background()
	for i := range 2 {
		st := sqltest.OpenURL(t, sqltest.URL(t, sqlstore.Postgres))
		db, err := st.SQLDB()
		if err != nil {
			t.Fatal(err)
		}
		if _, to, err := MigrateDeviceStore(ctx, db, "postgres"); err != nil || to != DeviceStoreVersion() {
			t.Fatalf("schema %d: migrated to %d: %v", i+1, to, err)
		}
		if _, err := OpenDeviceStore(ctx, db, "postgres"); err != nil {
			t.Fatalf("schema %d: %v", i+1, err)
		}
	}
}
