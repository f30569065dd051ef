package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/internal/testclock"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
)

// publishThenBlock is the failpoint between publication and commit: it
// seals through the real vault adapter, says which bundle it published,
// and hangs there until the process is killed.
type publishThenBlock struct {
	incident.Vault
	dir string
}

func (v publishThenBlock) Seal(ctx context.Context, id string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
	r, err := v.Vault.Seal(ctx, id, m, parts)
	if err != nil {
		return r, err
	}
	tmp := filepath.Join(v.dir, "published.tmp")
	if err := os.WriteFile(tmp, []byte(r.BundleID+" "+m.IncidentID), 0o600); err != nil {
		return r, err
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "published")); err != nil {
		return r, err
	}
	select {} // killed here, before the incident commits
}

// TestOrphanCrashHelper is the child process of
// TestKilledBetweenPublishAndCommit: a worker uploads a file through the
// real workflow, vault and database configured by the environment.
func TestOrphanCrashHelper(t *testing.T) {
	dir := os.Getenv("TRESOR_ORPHAN_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.openStore(ctx, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	v, err := openVault(ctx, cfg, time.Now, true, true)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := loadPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(s, pol, publishThenBlock{evidencevault.New(v), dir}, nil)
	var worker incident.User
	if err := s.View(ctx, func(tx incident.Tx) (err error) { worker, err = tx.UserByName(ctx, "wanda"); return }); err != nil {
		t.Fatal(err)
	}
	_, err = svc.FlagUpload(ctx, worker.Actor(), incident.FlagInput{Category: "threat", Platform: policies.Platform("android")},
		incident.Part{Name: "drohung.png", MediaType: "image/png", Size: 17, Content: strings.NewReader("\x89PNG\r\n\x1a\nPNG bytes")})
	t.Fatalf("FlagUpload returned although the vault blocks: %v", err)
}

// TestKilledBetweenPublishAndCommit kills an upload with SIGKILL after the
// vault published its bundle and before the incident committed. The
// bundle is then listed as unrecorded, as an orphan once the grace period
// passed, and the next start of `tresor serve` destroys it with an audit
// entry; the audit log verifies. SQLite and PostgreSQL.
func TestKilledBetweenPublishAndCommit(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dbURL := sqltest.URL(t, d)
			env := map[string]string{
				"TRESOR_DATA_DIR":           filepath.Join(t.TempDir(), "data"),
				"TRESOR_DATABASE_URL":       dbURL,
				"TRESOR_VAULT_IDENTITY_OUT": filepath.Join(t.TempDir(), "identity.txt"),
				"TRESOR_LISTEN":             "127.0.0.1:0",
			}
			clock := testclock.New(time.Now().UTC())
			var out, errs syncBuffer
			c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errs, getenv: func(k string) string { return env[k] }, now: clock.Now}
			tresor := func(args ...string) string {
				t.Helper()
				out.Reset()
				errs.Reset()
				if code := c.dispatch(ctx, args); code != 0 {
					t.Fatalf("tresor %s: exit %d: %s", strings.Join(args, " "), code, errs.String())
				}
				return out.String()
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
			pol, err := loadPolicy(cfg)
			if err != nil {
				t.Fatal(err)
			}
			svc := incident.NewService(s, pol, nil, nil, incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}))
			if _, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: "wanda", Role: incident.RoleWorker, Password: "long enough 1"}); err != nil {
				t.Fatal(err)
			}

			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanCrashHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "TRESOR_ORPHAN_CRASH_DIR="+dir)
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var child strings.Builder
			cmd.Stdout, cmd.Stderr = &child, &child
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			published := filepath.Join(dir, "published")
			deadline := time.Now().Add(60 * time.Second)
			for {
				if _, err := os.Stat(published); err == nil {
					break
				}
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("the upload never reached the failpoint:\n%s", child.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait() // killed: the error is expected
			raw, err := os.ReadFile(published)
			if err != nil {
				t.Fatal(err)
			}
			bundleID, incidentID, _ := strings.Cut(string(raw), " ")

			// The bundle is complete and nothing refers to it.
			if _, err := svc.Incident(ctx, incident.System, incidentID); err == nil {
				t.Fatal("the killed upload committed its incident")
			}
			if got := tresor("vault", "list"); got != bundleID+"\tunrecorded\n" {
				t.Fatalf("vault list within the grace period = %q", got)
			}
			clock.Advance(incident.DefaultOrphanGrace + time.Minute)
			if got := tresor("vault", "list"); got != bundleID+"\torphan\n" {
				t.Fatalf("vault list after the grace period = %q", got)
			}

			// The next start sweeps it.
			serveCtx, stop := context.WithCancel(ctx)
			swept := make(chan struct{})
			errs.notify(`"msg":"orphan sweep","component":"jobs","destroyed":1,`, func() { close(swept) })
			served := make(chan int, 1)
			go func() { served <- c.dispatch(serveCtx, []string{"serve"}) }()
			select {
			case <-swept:
			case code := <-served:
				stop()
				t.Fatalf("serve exited %d before sweeping: %s", code, errs.String())
			case <-time.After(60 * time.Second):
				stop()
				t.Fatalf("serve did not sweep the orphan: %s", errs.String())
			}
			stop()
			if code := <-served; code != 0 {
				t.Fatalf("serve exit %d: %s", code, errs.String())
			}
			errs.notify("", nil)

			if got := tresor("vault", "list"); got != "" {
				t.Fatalf("vault list after the sweep = %q", got)
			}
			var entries []string
			if err := s.View(ctx, func(tx incident.Tx) error {
				es, err := tx.AuditEntries(ctx, incident.AuditFilter{IncidentID: incidentID})
				for _, e := range es {
					entries = append(entries, fmt.Sprintf("%s %s %s", e.Action, e.Details["bundle_id"], e.Details["ciphertext_sha256"]))
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || !strings.HasPrefix(entries[0], "evidence.orphan_destroyed "+bundleID+" ") || len(entries[0]) < 64 {
				t.Fatalf("audit entries of the crashed upload: %q", entries)
			}
			var intent incident.BundleIntent
			if err := s.View(ctx, func(tx incident.Tx) (err error) { intent, err = tx.BundleIntent(ctx, bundleID); return }); err != nil || intent.State != incident.IntentDestroyed {
				t.Fatalf("intent %+v %v", intent, err)
			}
			if got := tresor("audit", "verify"); !strings.Contains(got, "ok") {
				t.Fatalf("audit verify: %s", got)
			}
		})
	}
}

// syncBuffer is a buffer serve writes its log into from several
// goroutines; notify calls fn once when the text written contains want.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	fn   func()
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	if b.fn != nil && strings.Contains(b.b.String(), b.want) {
		b.fn()
		b.fn = nil
	}
	return n, err
}

func (b *syncBuffer) notify(want string, fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.want, b.fn = want, fn
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}
