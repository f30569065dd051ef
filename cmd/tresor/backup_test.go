package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/types"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/wa"
)

// drillEnv is one installation's environment: its data folder and
// database, the vault shared (the vault is backed up on its own).
type drillEnv map[string]string

func (e drillEnv) cli(stdin string) (*cli, *bytes.Buffer, *bytes.Buffer) {
	var out, errs bytes.Buffer
	return &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errs, getenv: func(k string) string { return e[k] }, now: time.Now}, &out, &errs
}

// run runs a tresor command and fails the test unless it exits 0.
func (e drillEnv) run(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	c, out, errs := e.cli(stdin)
	if code := c.dispatch(context.Background(), args); code != 0 {
		t.Fatalf("tresor %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out.String()
}

// TestRestoreDrill is the restore drill on SQLite always and on
// PostgreSQL when TRESOR_TEST_DATABASE_URL is set: an installation with
// users, incidents whose evidence is sealed in the vault, a linked
// WhatsApp device and a saved audit checkpoint is backed up and
// restored into an empty data folder and an empty database; then
// 'audit verify' and 'vault verify' pass, the restored database holds
// what the original did, and the device must be linked again, its old
// keys gone.
func TestRestoreDrill(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		drill(t, "sqlite:"+filepath.Join(dir, "a", "tresor.db"), "sqlite:"+filepath.Join(dir, "b", "tresor.db"))
	})
	if os.Getenv("TRESOR_TEST_DATABASE_URL") == "" {
		return
	}
	t.Run("postgres", func(t *testing.T) {
		drill(t, freshPGDatabase(t), freshPGDatabase(t))
	})
}

// freshPGDatabase creates a database of its own for the test (pg_dump
// dumps whole databases) and drops it afterwards.
func freshPGDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TRESOR_TEST_DATABASE_URL")
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "tresor_drill_" + hex.EncodeToString(b[:])
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)").Error; err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
		if db, err := admin.DB(); err == nil {
			_ = db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

func drill(t *testing.T, srcURL, dstURL string) {
	ctx := context.Background()
	root := t.TempDir()
	vaultDir := filepath.Join(root, "vault")
	src := drillEnv{"TRESOR_DATA_DIR": filepath.Join(root, "a"), "TRESOR_DATABASE_URL": srcURL, "TRESOR_VAULT_DIR": vaultDir,
		"TRESOR_VAULT_IDENTITY_OUT": filepath.Join(root, "identity.txt")}
	src.run(t, "admin password 1\n", "init")

	// Incidents sealed through the real workflow and vault, and a linked
	// WhatsApp device with Signal state.
	c, _, _ := src.cli("")
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.openStore(ctx, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	w := newSecuring(ctx, t, cfg, s)
	for _, content := range []string{"\x89PNG\r\n\x1a\nPNG bytes", "\x89PNG\r\n\x1a\nother bytes"} {
		w.approved(content)
	}
	w.runJobs()
	worker := w.worker
	own := types.JID{User: "4915112345678", Device: 7, Server: types.DefaultUserServer}
	linkDevice(ctx, t, s, worker.ID, own)
	before := snapshotOf(ctx, t, s)
	if len(before.receipts) != 2 {
		t.Fatalf("sealed %d bundles, want 2", len(before.receipts))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	src.run(t, "", "audit", "checkpoint")
	entries := auditEntries(t, src.run(t, "", "audit", "verify"))

	bdir := filepath.Join(root, "backup")
	out := src.run(t, "", "backup", "-o", bdir)
	if !strings.Contains(out, "2 receipt(s)") {
		t.Errorf("backup said %q", out)
	}
	if _, err := os.Stat(bdir + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the partial folder is left: %v", err)
	}
	checkPrivate(t, bdir)
	if _, err := os.Stat(filepath.Join(bdir, "keys", "secret.key")); err != nil {
		t.Error(err)
	}
	filepath.WalkDir(bdir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, _ := os.ReadFile(p); bytes.Contains(data, []byte("AGE-SECRET-KEY-")) {
				t.Errorf("%s holds a vault identity", p)
			}
		}
		return nil
	})
	if got := auditEntries(t, src.run(t, "", "audit", "verify")); got != entries+1 {
		t.Errorf("the backup added %d audit entries, want 1", got-entries)
	}
	c2, _, errs := src.cli("")
	if code := c2.dispatch(ctx, []string{"backup", "-o", bdir}); code != 1 || !strings.Contains(errs.String(), "not empty") {
		t.Errorf("backup over a backup: exit %d, %s", code, errs)
	}

	// Restore into an empty place, with the vault where it was.
	dst := drillEnv{"TRESOR_DATA_DIR": filepath.Join(root, "b"), "TRESOR_DATABASE_URL": dstURL, "TRESOR_VAULT_DIR": vaultDir}
	out = dst.run(t, "", "restore", bdir)
	if !strings.Contains(out, "1 WhatsApp device(s) must be linked again") {
		t.Errorf("restore said %q", out)
	}
	checkPrivate(t, filepath.Join(root, "b"))
	if got := auditEntries(t, dst.run(t, "", "audit", "verify")); got != entries+1 {
		t.Errorf("restored log has %d entries, want %d (the backup's and the restore's)", got, entries+1)
	}
	for _, r := range before.receipts {
		out := dst.run(t, "", "vault", "verify", "--receipt", filepath.Join(bdir, "receipts", r.BundleID+".json"), r.BundleID)
		if !strings.Contains(out, r.CiphertextSHA256) {
			t.Errorf("vault verify %s: %q", r.BundleID, out)
		}
	}
	for _, k := range []string{"secret.key", "wa-capture.key", "audit-signing.key", "audit-signing.key.pub", "vault-recipients.txt"} {
		a, err := os.ReadFile(filepath.Join(root, "a", k))
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(root, "b", k)); err != nil || !bytes.Equal(a, b) {
			t.Errorf("restored %s differs: %v", k, err)
		}
	}

	dc, _, _ := dst.cli("")
	dcfg, err := loadConfig(dc.getenv)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dc.openStore(ctx, dcfg, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	after := snapshotOf(ctx, t, ds)
	if strings.Join(after.incidents, ",") != strings.Join(before.incidents, ",") || strings.Join(after.users, ",") != strings.Join(before.users, ",") {
		t.Errorf("restored %v / %v, want %v / %v", after.incidents, after.users, before.incidents, before.users)
	}
	for i := range before.receipts {
		if after.receipts[i].CiphertextSHA256 != before.receipts[i].CiphertextSHA256 {
			t.Errorf("receipt %d differs", i)
		}
	}
	d, err := ds.Device(ctx, worker.ID)
	if err != nil || d.Status != incident.DeviceRelink || d.JID != "" {
		t.Errorf("restored device %+v, %v: want status relink without address", d, err)
	}
	db, err := ds.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"whatsmeow_device", "whatsmeow_sessions", "whatsmeow_identity_keys", "whatsmeow_pre_keys"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s holds %d rows after the restore (%v): old Signal state came back", table, n, err)
		}
	}
	trail, err := svcFor(ds).Trail(ctx, incident.Actor{ID: "cli", Role: incident.RoleAuditor}, incident.AuditFilter{})
	if err != nil || len(trail) == 0 || trail[len(trail)-1].Action != string(incident.ActionBackupRestored) {
		t.Errorf("last entry after restore: %v", err)
	}

	// A second restore into the now filled place is refused; so is one
	// into an empty folder with the filled database, leaving the folder
	// as it was.
	c3, _, errs := dst.cli("")
	if code := c3.dispatch(ctx, []string{"restore", bdir}); code != 1 || !strings.Contains(errs.String(), "restore fills only an empty") {
		t.Errorf("restore over a restore: exit %d, %s", code, errs)
	}
	again := drillEnv{"TRESOR_DATA_DIR": filepath.Join(root, "c"), "TRESOR_DATABASE_URL": dstURL, "TRESOR_VAULT_DIR": vaultDir}
	c4, _, errs := again.cli("")
	if code := c4.dispatch(ctx, []string{"restore", bdir}); code != 1 || !strings.Contains(errs.String(), "restore fills only an empty") {
		t.Errorf("restore into a filled database: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(root, "c")); !os.IsNotExist(err) {
		t.Errorf("a refused restore wrote into the data folder: %v", err)
	}
}

func svcFor(s *sqlstore.Store) *incident.Service {
	pol, _ := policies.Default()
	return incident.NewService(s, pol, nil, nil)
}

// linkDevice stores a linked device for the worker, with whatsmeow keys
// and a Signal session, as a paired phone leaves them.
func linkDevice(ctx context.Context, t *testing.T, s *sqlstore.Store, workerID string, own types.JID) {
	t.Helper()
	db, err := s.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	container, err := wa.OpenDeviceStore(ctx, db, string(s.Dialect()))
	if err != nil {
		t.Fatal(err)
	}
	dev := container.NewDevice()
	dev.ID = &own
	dev.Account = &waAdv.ADVSignedDeviceIdentity{Details: []byte{1}, AccountSignature: make([]byte, 64),
		AccountSignatureKey: make([]byte, 32), DeviceSignature: make([]byte, 64)}
	if err := container.PutDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if err := dev.Sessions.PutSession(ctx, "4915100000000.0", []byte("signal session")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.PutDevice(ctx, incident.LinkedDevice{WorkerID: workerID, JID: own.String(), Status: incident.DeviceConnected,
		LinkedAt: now, PhoneSeenAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

type dbSnapshot struct {
	incidents, users []string
	receipts         []incident.Receipt
}

func snapshotOf(ctx context.Context, t *testing.T, s *sqlstore.Store) dbSnapshot {
	t.Helper()
	var snap dbSnapshot
	err := s.View(ctx, func(tx incident.Tx) error {
		incs, err := tx.Incidents(ctx, incident.IncidentFilter{})
		if err != nil {
			return err
		}
		for _, inc := range incs {
			snap.incidents = append(snap.incidents, inc.ID+":"+string(inc.State)+":"+string(inc.Evidence))
		}
		users, err := tx.Users(ctx)
		for _, u := range users {
			snap.users = append(snap.users, u.Username+":"+string(u.Role))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if snap.receipts, err = s.Receipts(ctx); err != nil {
		t.Fatal(err)
	}
	return snap
}

// auditEntries reads the entry count from 'audit verify'.
func auditEntries(t *testing.T, out string) int {
	t.Helper()
	var n int
	i := strings.Index(out, "audit log ok: ")
	if i < 0 {
		t.Fatalf("audit verify said %q", out)
	}
	if _, err := fmt.Sscan(out[i+len("audit log ok: "):], &n); err != nil {
		t.Fatalf("audit verify said %q: %v", out, err)
	}
	return n
}

// checkPrivate requires every folder under root to be 0700 and every
// file 0600.
func checkPrivate(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
