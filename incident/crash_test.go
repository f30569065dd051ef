package incident_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/policies"
)

// blockingVault seals by writing a file per bundle id, announces that it
// is in the middle of sealing, and then hangs until the process is killed.
type blockingVault struct{ dir string }

func (v blockingVault) Seal(ctx context.Context, id string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
	if err := os.WriteFile(filepath.Join(v.dir, id), []byte("half a bundle"), 0o600); err != nil {
		return incident.Receipt{}, err
	}
	if err := os.WriteFile(filepath.Join(v.dir, "sealing"), nil, 0o600); err != nil {
		return incident.Receipt{}, err
	}
	select {} // killed here
}

func (blockingVault) Destroy(ctx context.Context, id string) (incident.Destruction, error) {
	return incident.Destruction{}, incident.ErrNotFound
}

// TestCrashHelper is the child process of TestKilledMidJob.
func TestCrashHelper(t *testing.T) {
	dbURL, dir := os.Getenv("TRESOR_CRASH_DB"), os.Getenv("TRESOR_CRASH_DIR")
	if dbURL == "" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(s, pol, blockingVault{dir}, &fakeMessenger{}, incident.WithClock(func() time.Time {
		return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	}))
	// The notifications run first; the secure job then blocks in the vault.
	for {
		ran, err := svc.RunDue(ctx)
		if !ran || err != nil {
			t.Fatalf("RunDue returned although the vault blocks: %v %v", ran, err)
		}
	}
}

// TestKilledMidJob kills a process with SIGKILL while it seals evidence,
// then restarts the work: the job finishes exactly once in effect.
func TestKilledMidJob(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d)
			inc := w.flag("MSGK", "violence")
			if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "sichern", w.code(w.sup1)); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			dbURL := w.dbURL
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "TRESOR_CRASH_DB="+dbURL, "TRESOR_CRASH_DIR="+dir)
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				if _, err := os.Stat(filepath.Join(dir, "sealing")); err == nil {
					break
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("helper never reached the vault:\n%s", out.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait() // killed: the error is expected
			if got := w.get(inc.ID); got.State != incident.StateSecuring || got.Evidence != incident.EvidencePending {
				t.Fatalf("the killed job left a visible effect: %+v", got)
			}
			// Restart: the lease of the dead process runs out, then the
			// job runs again and completes once.
			w.clock.Advance(6 * time.Minute)
			w.runJobs()
			got := w.get(inc.ID)
			if got.State != incident.StateWalkthrough || got.Receipt == nil {
				t.Fatalf("after restart: %+v", got)
			}
			secured := 0
			for _, a := range w.actions(inc.ID) {
				if a == "evidence.secured" {
					secured++
				}
			}
			if secured != 1 || len(w.vault.sealed) != 1 || len(w.msgr.revoked) != 1 {
				t.Fatalf("secured %d times, %d bundles, %d revokes; want 1 each", secured, len(w.vault.sealed), len(w.msgr.revoked))
			}
			var jobs []incident.Job
			if err := w.store.Tx(w.ctx, func(tx incident.Tx) (err error) { jobs, err = tx.Jobs(w.ctx, inc.ID); return }); err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				if j.Kind == incident.JobSecure && (j.State != incident.JobDone || j.Attempts != 2) {
					t.Fatalf("secure job = %+v, want done after 2 attempts", j)
				}
			}
			w.verify()
		})
	}
}
