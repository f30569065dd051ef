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
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
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
	v, err := openVault(ctx, cfg, time.Now, true, true)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	stepUp, auth := testFactors(t, s, nil)
	svc := incident.NewService(s, pol, evidencevault.New(v), nil, incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}), stepUp)
	worker, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: "wanda", Role: incident.RoleWorker, Password: "long enough 1"})
	if err != nil {
		t.Fatal(err)
	}
	sup, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: "susi", Role: incident.RoleSupervisor, Password: "long enough 2"})
	if err != nil {
		t.Fatal(err)
	}
	auth.Enroll(t, sup.ID)
	inc, err := svc.FlagUpload(ctx, worker.Actor(), incident.FlagInput{Category: "threat", Platform: policies.Platform("android")},
		incident.Part{Name: "drohung.png", MediaType: "image/png", Size: 17, Content: strings.NewReader("\x89PNG\r\n\x1a\nPNG bytes")})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := svc.Requests(ctx, sup.Actor(), incident.RequestFilter{IncidentID: inc.ID})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests: %v %v", reqs, err)
	}
	if _, err := svc.Decide(ctx, sup.Actor(), reqs[0].ID, true, "sichern", auth.Code(t, sup.ID)); err != nil {
		t.Fatal(err)
	}
	for {
		ran, err := svc.RunDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			break
		}
	}
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
