package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// TestThresholdOpeningRecorded: evidence secured through the real workflow
// into a vault sealed to 2-of-3 holders; one holder is refused, two open
// it and the opening is in the audit log; an offline opening's record is
// imported later, marked as such; a worker cannot open.
func TestThresholdOpeningRecorded(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	t.Setenv("TRESOR_DATA_DIR", data)
	t.Setenv("TRESOR_VAULT_IDENTITY_OUT", filepath.Join(t.TempDir(), "identity.txt"))
	var out, errs bytes.Buffer
	stdin := &bytes.Buffer{}
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	c := &cli{stdin: stdin, stdout: &out, stderr: &errs, getenv: os.Getenv, now: func() time.Time { return clock }}
	run := func(args ...string) int {
		out.Reset()
		errs.Reset()
		return c.dispatch(ctx, args)
	}
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
	holders := filepath.Join(t.TempDir(), "holders")
	if code := run("vault", "keygen", "--holders", "3", "--threshold", "2", "-o", holders); code != 0 {
		t.Fatalf("keygen: %s", errs.String())
	}
	recipient := strings.TrimSpace(out.String())
	if !strings.HasPrefix(recipient, "age1tresor1") {
		t.Fatalf("keygen printed %q", recipient)
	}
	if err := os.WriteFile(cfg.RecipientsFile, []byte(recipient+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := newSecuring(ctx, t, cfg, s)
	svc, sup := w.svc, w.sup
	auditor, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: "anna", Role: incident.RoleAuditor, Password: "long enough 3"})
	if err != nil {
		t.Fatal(err)
	}
	inc := w.approved("\x89PNG\r\n\x1a\nPNG bytes")
	w.runJobs()
	inc, err = svc.Incident(ctx, sup.Actor(), inc.ID)
	if err != nil || inc.Receipt == nil {
		t.Fatalf("secured: %+v %v", inc, err)
	}
	bundle := inc.Receipt.BundleID
	h := func(i int) string { return filepath.Join(holders, "holder-"+string(rune('0'+i))+".txt") }
	openings := func() []map[string]string {
		t.Helper()
		entries, err := svc.Trail(ctx, auditor.Actor(), incident.AuditFilter{IncidentID: inc.ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]string
		for _, e := range entries {
			if e.Action == string(incident.ActionEvidenceOpened) {
				got = append(got, e.Details)
			}
		}
		return got
	}

	dir := filepath.Join(t.TempDir(), "out")
	if code := run("vault", "open", "--identity", h(2), "--operator", "susi", "-o", dir, bundle); code != 1 ||
		!strings.Contains(errs.String(), "1 of 2 given, 1 more holder needed") {
		t.Fatalf("one holder: exit %d, %s", code, errs.String())
	}
	if code := run("vault", "open", "--identity", h(1), "--identity", h(3), "--operator", "wanda", "-o", dir, bundle); code != 1 ||
		!strings.Contains(errs.String(), "only supervisors and auditors") {
		t.Fatalf("worker: exit %d, %s", code, errs.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 { // not even the lock file
		t.Fatalf("refused openings left files: %v", entries)
	}
	if len(openings()) != 0 {
		t.Fatal("a refused opening was recorded")
	}
	if code := run("vault", "open", "--identity", h(1), "--identity", h(3), "--operator", "susi", "-o", dir, bundle); code != 0 {
		t.Fatalf("two holders: %s", errs.String())
	}
	if got, err := os.ReadFile(filepath.Join(dir, "upload.png")); err != nil || string(got) != "\x89PNG\r\n\x1a\nPNG bytes" {
		t.Fatalf("opened part: %q %v", got, err)
	}
	got := openings()
	if len(got) != 1 || got[0]["bundle"] != bundle || got[0]["imported"] != "false" ||
		!strings.Contains(got[0]["keys"], "holder 1 of 3") || !strings.Contains(got[0]["keys"], "holder 3 of 3") {
		t.Fatalf("opening entries: %v", got)
	}

	// Offline: printed record, imported later by someone else.
	if code := run("vault", "open", "--offline", "--identity", h(2), "--identity", h(3), "--operator", "anna", "-o", dir+"2", bundle); code != 0 {
		t.Fatalf("offline: %s", errs.String())
	}
	record := out.String()
	if !strings.Contains(record, openingRecordFormat) || len(openings()) != 1 {
		t.Fatalf("offline record %q, entries %d", record, len(openings()))
	}
	clock = clock.Add(48 * time.Hour)
	stdin.WriteString(record)
	if code := run("audit", "import-opening"); code != 0 {
		t.Fatalf("import: %s", errs.String())
	}
	got = openings()
	if len(got) != 2 || got[1]["imported"] != "true" || got[1]["opened_at"] != "2026-11-27T10:00:00Z" || !strings.Contains(got[1]["keys"], "holder 2 of 3") {
		t.Fatalf("imported entry: %v", got)
	}
	// The same record again is refused and appends nothing; another
	// opening of the bundle (another time) is imported.
	stdin.WriteString(record)
	if code := run("audit", "import-opening"); code != 1 || !strings.Contains(errs.String(), "opening record already imported") ||
		!strings.Contains(errs.String(), "nothing was appended") {
		t.Fatalf("second import: exit %d %s", code, errs.String())
	}
	if got := openings(); len(got) != 2 {
		t.Fatalf("after a second import: %d entries, want 2", len(got))
	}
	stdin.WriteString(strings.Replace(record, "2026-11-27T10:00:00Z", "2026-11-27T11:00:00Z", 1))
	if code := run("audit", "import-opening"); code != 0 {
		t.Fatalf("import of another opening: exit %d %s", code, errs.String())
	}
	if got = openings(); len(got) != 3 || got[2]["opened_at"] != "2026-11-27T11:00:00Z" {
		t.Fatalf("another opening of the bundle: %v", got)
	}
	stdin.WriteString(strings.Replace(record, "2026-11-27T10:00:00Z", "2026-11-29T10:06:00Z", 1))
	if code := run("audit", "import-opening"); code != 1 || !strings.Contains(errs.String(), "opening time is in the future") {
		t.Fatalf("import of a future opening: exit %d %s", code, errs.String())
	}
	stdin.WriteString(strings.Replace(record, "anna", "wanda", 1))
	if code := run("audit", "import-opening"); code != 1 || !strings.Contains(errs.String(), "only supervisors and auditors") {
		t.Fatalf("import under a worker: exit %d %s", code, errs.String())
	}
	stdin.WriteString(`{"format":"other"}`)
	if code := run("audit", "import-opening"); code != 1 || !strings.Contains(errs.String(), "not an opening record") {
		t.Fatalf("import junk: exit %d %s", code, errs.String())
	}
	if res, err := svc.VerifyAudit(ctx); err != nil || res.Entries == 0 {
		t.Fatalf("audit log: %v", err)
	}
}
