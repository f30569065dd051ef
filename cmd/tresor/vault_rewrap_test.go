package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/vault"
)

// TestVaultRewrapKeepsReceipts rotates the vault key with `vault rewrap`
// and then exports the incident: the receipt in the database follows the
// new ciphertext (with an evidence.rewrapped entry), so export and verify
// find the bundle intact. A bundle the identity cannot open is listed and
// the others go on; a bundle already sealed to the current recipients is
// skipped.
func TestVaultRewrapKeepsReceipts(t *testing.T) {
	ctx := context.Background()
	e := newRewrapEnv(ctx, t)
	_, out, errs, root, identity, w, run := e.c, e.out, e.errs, e.root, e.identity, e.w, e.run
	inc := w.approved("\x89PNG\r\n\x1a\nPNG bytes")
	w.runJobs()
	bundle := inc.Receipt.BundleID
	// A bundle sealed to someone else's key: this identity cannot open it.
	other, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ov, err := vault.New(w.vault.Backend(), []vault.Recipient{other.Recipient()}, []string{other.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := ov.Seal(ctx, vault.Manifest{IncidentID: "elsewhere", Category: "other"},
		vault.Part{Name: "x.txt", MediaType: "text/plain", Size: 1, R: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}

	// The new key; the recipients file names only it.
	run(0, "vault", "keygen", "-o", filepath.Join(root, "key2.txt"))
	newRecipients := filepath.Join(root, "new-recipients.txt")
	if err := os.WriteFile(newRecipients, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	run(1, "vault", "rewrap", "--all", "--identity", identity, "--recipients", newRecipients)
	if !strings.Contains(out.String(), `"receipt_updated": true`) || !strings.Contains(out.String(), bundle) ||
		!strings.Contains(errs.String(), foreign.BundleID+": not rewrapped, the identity cannot open it") ||
		!strings.Contains(errs.String(), "1 rewrapped, 0 skipped, 1 not opened, 0 failed") {
		t.Fatalf("rewrap:\n%s%s", out.String(), errs.String())
	}

	// Export takes the receipt from the database and finds the bundle intact.
	dir := filepath.Join(root, "release")
	run(0, "vault", "export", "--incident", inc.ID, "-o", dir)
	report, err := os.ReadFile(filepath.Join(dir, "custody.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(report, []byte("evidence.rewrapped")) || bytes.Contains(report, []byte("altered")) {
		t.Fatalf("custody report after rewrap:\n%s", report)
	}
	got, err := w.svc.Incident(ctx, incident.System, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Receipt.CiphertextSHA256 == inc.Receipt.CiphertextSHA256 || got.Receipt.ManifestSHA256 != inc.Receipt.ManifestSHA256 {
		t.Fatalf("receipt after rewrap: %+v (before %+v)", got.Receipt, inc.Receipt)
	}
	run(0, "vault", "verify", "--identity", filepath.Join(root, "key2.txt"), bundle)
	if !strings.Contains(out.String(), "matches the database's receipt (incident "+inc.ID+")") {
		t.Fatalf("verify after rewrap:\n%s%s", out.String(), errs.String())
	}

	// A second run skips what is already sealed to the current recipients.
	run(0, "vault", "rewrap", "--identity", identity, "--recipients", newRecipients, bundle)
	if !strings.Contains(errs.String(), bundle+": skipped") || out.Len() != 0 {
		t.Fatalf("second rewrap:\n%s%s", out.String(), errs.String())
	}
	if res, err := w.svc.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit log: %v %+v", err, res)
	}
}

// TestVaultRewrapCompletesInterrupted: a rewrap run that dies after
// replacing a bundle and before updating its receipt leaves `vault
// verify` reporting the bundle altered; the next `vault rewrap` finds the
// ciphertext the dead run announced and completes the receipt (one
// evidence.rewrapped entry, marked as completed after an interruption),
// after which verify and `vault export --incident` find it intact. A
// bundle replaced by anything else (here: rewrapped without the database,
// so nothing announced it) is still refused.
func TestVaultRewrapCompletesInterrupted(t *testing.T) {
	ctx := context.Background()
	e := newRewrapEnv(ctx, t)
	c, out, errs, root, identity, w, run := e.c, e.out, e.errs, e.root, e.identity, e.w, e.run
	inc := w.approved("\x89PNG\r\n\x1a\nPNG bytes")
	other := w.approved("\x89PNG\r\n\x1a\nother PNG bytes")
	w.runJobs()
	get := func(id string) incident.Incident {
		t.Helper()
		got, err := w.svc.Incident(ctx, incident.System, id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	inc, other = get(inc.ID), get(other.ID)
	bundle := inc.Receipt.BundleID
	keyfile := func(name string) string {
		run(0, "vault", "keygen", "-o", filepath.Join(root, name+".txt"))
		p := filepath.Join(root, name+"-recipients.txt")
		if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key2 := keyfile("key2")

	// The run dies right after replacing the bundle.
	c.afterRewrapReplace = func(string) error { return errors.New("killed after the replacement") }
	run(1, "vault", "rewrap", "--identity", identity, "--recipients", key2, bundle)
	c.afterRewrapReplace = nil
	run(1, "vault", "verify", bundle)
	if !strings.Contains(out.String()+errs.String(), "altered") {
		t.Fatalf("verify after the interrupted rewrap:\n%s%s", out.String(), errs.String())
	}

	// The next run completes the receipt for exactly that ciphertext.
	run(0, "vault", "rewrap", "--identity", identity, "--recipients", key2, bundle)
	if !strings.Contains(out.String(), `"completed_after_interruption": true`) ||
		!strings.Contains(errs.String(), "1 rewrapped, 0 skipped, 0 not opened, 0 failed") {
		t.Fatalf("rewrap after the interruption:\n%s%s", out.String(), errs.String())
	}
	run(0, "vault", "verify", "--identity", filepath.Join(root, "key2.txt"), bundle)
	if !strings.Contains(out.String(), "matches the database's receipt (incident "+inc.ID+")") {
		t.Fatalf("verify after completion:\n%s%s", out.String(), errs.String())
	}
	dir := filepath.Join(root, "release")
	run(0, "vault", "export", "--incident", inc.ID, "-o", dir)
	report, err := os.ReadFile(filepath.Join(dir, "custody.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(report, []byte(`"evidence.rewrapped"`)) != 1 || !bytes.Contains(report, []byte("completed after an interruption")) ||
		bytes.Contains(report, []byte("altered")) {
		t.Fatalf("custody report after completion:\n%s", report)
	}
	run(0, "vault", "rewrap", "--identity", identity, "--recipients", key2, bundle)
	if !strings.Contains(errs.String(), bundle+": skipped") {
		t.Fatalf("third run:\n%s%s", out.String(), errs.String())
	}

	// The other bundle is replaced without an announcement: refused.
	run(0, "vault", "rewrap", "--without-database", "--identity", identity, "--recipients", keyfile("key3"), other.Receipt.BundleID)
	run(1, "vault", "rewrap", "--identity", filepath.Join(root, "key3.txt"), "--recipients", key2, other.Receipt.BundleID)
	if !strings.Contains(errs.String(), other.Receipt.BundleID+": FAILED, not rewrapped") || !strings.Contains(errs.String(), "no pending rewrap announced") {
		t.Fatalf("rewrap of a bundle replaced by something else:\n%s%s", out.String(), errs.String())
	}
	if got := get(other.ID).Receipt; got.CiphertextSHA256 != other.Receipt.CiphertextSHA256 {
		t.Fatalf("receipt of the refused bundle changed: %+v", got)
	}
	if res, err := w.svc.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit log: %v %+v", err, res)
	}
}

// rewrapEnv is a data directory with a database, a vault and its
// identity, and the workflow to secure evidence into it.
type rewrapEnv struct {
	c              *cli
	out, errs      *bytes.Buffer
	root, identity string
	w              *securing
	ctx            context.Context
	t              *testing.T
}

func newRewrapEnv(ctx context.Context, t *testing.T) *rewrapEnv {
	t.Helper()
	e := &rewrapEnv{out: &bytes.Buffer{}, errs: &bytes.Buffer{}, root: t.TempDir(), ctx: ctx, t: t}
	e.identity = filepath.Join(e.root, "identity.txt")
	env := map[string]string{"TRESOR_DATA_DIR": filepath.Join(e.root, "data"), "TRESOR_VAULT_IDENTITY_OUT": e.identity}
	e.c = &cli{stdin: strings.NewReader(""), stdout: e.out, stderr: e.errs, getenv: func(k string) string { return env[k] }, now: time.Now}
	cfg, err := loadConfig(e.c.getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.c.openStore(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() }) // test cleanup
	if err := e.c.bootstrap(ctx, cfg, s); err != nil {
		t.Fatal(err)
	}
	e.w = newSecuring(ctx, t, cfg, s)
	return e
}

// run runs tresor with args and wants exit status want.
func (e *rewrapEnv) run(want int, args ...string) {
	e.t.Helper()
	e.out.Reset()
	e.errs.Reset()
	if code := e.c.dispatch(e.ctx, args); code != want {
		e.t.Fatalf("tresor %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, e.out.String(), e.errs.String())
	}
}
