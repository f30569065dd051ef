package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVaultExportIncident seals an incident's evidence through the real
// workflow and vault, then exports it with its receipt and audit trail
// taken from the database.
func TestVaultExportIncident(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	t.Setenv("TRESOR_DATA_DIR", data)
	t.Setenv("TRESOR_VAULT_IDENTITY_OUT", filepath.Join(t.TempDir(), "identity.txt"))
	var out, errs bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errs, getenv: os.Getenv, now: time.Now}
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.openStore(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := c.bootstrap(ctx, cfg, s); err != nil {
		t.Fatal(err)
	}
	w := newSecuring(ctx, t, cfg, s)
	inc := w.approved("\x89PNG\r\n\x1a\nPNG bytes")
	w.runJobs()
	dir := filepath.Join(t.TempDir(), "release")
	if code := c.dispatch(ctx, []string{"vault", "export", "--incident", inc.ID, "-o", dir}); code != 0 {
		t.Fatalf("export exit %d: %s", code, errs.String())
	}
	report, err := os.ReadFile(filepath.Join(dir, "custody.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{inc.Receipt.BundleID, "evidence.staged", "request.approved", "evidence.secured"} {
		if !bytes.Contains(report, []byte(want)) {
			t.Errorf("custody report lacks %q", want)
		}
	}
	if code := c.dispatch(ctx, []string{"vault", "export", "--incident", "nope", "-o", dir + "2"}); code != 1 || !strings.Contains(errs.String(), "not found") {
		t.Fatalf("unknown incident: exit %d, %s", code, errs.String())
	}
}
