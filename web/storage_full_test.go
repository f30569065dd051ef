package web

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tresor-evidence/tresor/incident"
)

// onTinyDisk mounts a 16 MiB tmpfs (root only) and makes it the temporary
// folder, so that the test's database and vault live on a disk the test
// can fill.
func onTinyDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	t.Setenv("TMPDIR", dir)
	return dir
}

// fillDisk writes a file until the disk is full, after emptying SQLite's
// write-ahead log (whose space a write would otherwise reuse); it returns
// the function that frees the room again.
func fillDisk(t *testing.T, e *env, dir string) (free func()) {
	t.Helper()
	db, err := e.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(e.ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err = f.Write(buf); err != nil {
			break
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
}

// A full disk answers 507 with what to do — on the page, in German and
// English, and in the API's error shape — logs it and counts it, and
// keeps nothing of the refused request: no incident, no file in the
// vault. Once there is room, the same upload goes through.
func TestStorageFull(t *testing.T) {
	dir := onTinyDisk(t)
	// A subtest's temporary folders are made in TMPDIR, on the tiny disk.
	t.Run("tmpfs", func(t *testing.T) { storageFull(t, dir) })
}

func storageFull(t *testing.T, dir string) {
	ve := newVaultEnv(t) // database and vault on the tiny disk
	reg := prometheus.NewRegistry()
	if err := ve.srv.registerMetrics(reg); err != nil {
		t.Fatal(err)
	}
	wanda := ve.as("wanda")
	bearer := ve.bearerClient(ve.apiToken("wanda"))
	free := fillDisk(t, ve.env, dir)

	content := pngWith(bytes.Repeat([]byte("evidence"), 64<<10)) // 512 KiB
	w := wanda.upload("threat", "bedrohung.png", bytes.NewReader(content))
	if w.Code != http.StatusInsufficientStorage {
		t.Fatalf("upload on a full disk: %d %s, want 507\n%s", w.Code, w.Header().Get("Location"), ve.log.String())
	}
	for _, want := range []string{"Speicher voll", "sagen Sie Ihrer IT Bescheid", "noch auf Ihrem Gerät", "Es wurde nichts geändert."} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("507 page lacks %q:\n%s", want, w.Body.String())
		}
	}
	wanda.cookies["tresor-lang"] = "en"
	w = wanda.post("/incidents", "category", "threat", "description", "Drohung per Instagram", "platform", "android", "message_id", "wamid1")
	if w.Code != http.StatusInsufficientStorage {
		t.Fatalf("form on a full disk: %d, want 507\n%.500s", w.Code, w.Body.String())
	}
	for _, want := range []string{"Storage full", "tell your IT", "still on your device"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("English 507 page lacks %q:\n%s", want, w.Body.String())
		}
	}
	w = bearer.api(http.MethodPost, "/api/v1/incidents", `{"category":"threat","description":"x","platform":"android","message_id":"wamid2"}`, nil)
	wantAPIError(t, w, http.StatusInsufficientStorage, "storage_full")
	if !strings.Contains(w.Body.String(), "storage is full") {
		t.Errorf("API message does not say what happened: %s", w.Body.String())
	}

	if got := testutil.ToFloat64(ve.srv.metrics.storageFull); got != 3 {
		t.Errorf("tresor_storage_full_total = %v, want 3", got)
	}
	if n := strings.Count(ve.log.String(), "storage full: request refused"); n != 3 {
		t.Errorf("%d storage-full log lines, want 3:\n%s", n, ve.log.String())
	}
	if strings.Contains(ve.log.String(), "Drohung") || strings.Contains(ve.log.String(), "wamid") {
		t.Errorf("the log holds what the caller sent:\n%s", ve.log.String())
	}
	var incs []incident.Incident
	err := ve.store.View(ve.ctx, func(tx incident.Tx) (err error) { incs, err = tx.Incidents(ve.ctx, incident.IncidentFilter{}); return })
	if err != nil || len(incs) != 0 {
		t.Fatalf("incidents after the refused requests: %v %v", incs, err)
	}
	filepath.WalkDir(ve.vaultDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left in the vault: %s", path)
		}
		return nil
	})

	free()
	delete(wanda.cookies, "tresor-lang")
	if w := wanda.upload("threat", "bedrohung.png", bytes.NewReader(content)); w.Code != http.StatusSeeOther {
		t.Fatalf("upload once there is room: %d\n%.500s", w.Code, w.Body.String())
	}
}
