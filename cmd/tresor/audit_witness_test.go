package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/policies"
)

// witnessEnv is a server (the real handler on httptest, over SQLite or
// PostgreSQL) and the data-protection officer's machine (a witness key
// and an auditor's API token in files).
type witnessEnv struct {
	t         *testing.T
	ctx       context.Context
	c         *cli
	out, errs *bytes.Buffer
	s         *sqlstore.Store
	svc       *incident.Service
	cfg       config
	url       string
	dpoKey    string // the witness's private key file
	tokenFile string
}

func newWitnessEnv(t *testing.T, d sqlstore.Dialect) *witnessEnv {
	ctx := context.Background()
	dir := t.TempDir()
	dpo := filepath.Join(t.TempDir(), "dpo") // the DPO's machine, not the server's data folder
	if err := os.Mkdir(dpo, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRESOR_DATA_DIR", filepath.Join(dir, "data"))
	t.Setenv("TRESOR_DATABASE_URL", sqltest.URL(t, d))
	t.Setenv("TRESOR_VAULT_IDENTITY_OUT", filepath.Join(dir, "identity.txt"))
	e := &witnessEnv{t: t, ctx: ctx, out: new(bytes.Buffer), errs: new(bytes.Buffer), dpoKey: filepath.Join(dpo, "dpo.key")}
	e.c = &cli{stdin: strings.NewReader(""), stdout: e.out, stderr: e.errs, getenv: os.Getenv, now: time.Now}

	// The DPO creates the witness key; the operator lists its verifier key.
	vkey := e.run("audit", "witness-keygen", "-o", e.dpoKey, "--name", "dpo")
	if fi, err := os.Stat(e.dpoKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("witness key file: %v, %v", fi, err)
	}
	keys := filepath.Join(dir, "witnesses.txt")
	if err := os.WriteFile(keys, []byte("# the DPO\n"+vkey), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRESOR_AUDIT_WITNESS_KEYS_FILE", keys)

	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = cfg
	if e.s, err = e.c.openStore(ctx, cfg, false); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.s.Close() })
	if err := e.c.bootstrap(ctx, cfg, e.s); err != nil {
		t.Fatal(err)
	}
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	witnesses, err := cfg.witnessKeys()
	if err != nil {
		t.Fatal(err)
	}
	e.svc = incident.NewService(e.s, pol, nil, nil, incident.WithWitnessKeys(witnesses...),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}))
	dora := e.addUser("dora", incident.RoleAuditor)
	tok := "tresor_pat_" + strings.Repeat("ab", 16)
	sum := sha256.Sum256([]byte(tok))
	now := time.Now()
	if err := e.s.CreateAPIToken(ctx, account.APIToken{ID: "t1", UserID: dora.ID, Name: "cosign", TokenHash: hex.EncodeToString(sum[:]),
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.tokenFile = filepath.Join(dpo, "token")
	if err := os.WriteFile(e.tokenFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := e.c.handler(cfg, e.svc, pol, e.s, nil, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	e.url = srv.URL
	e.c.client = srv.Client()
	return e
}

func (e *witnessEnv) addUser(name string, role incident.Role) incident.User {
	e.t.Helper()
	u, err := e.svc.AddUser(e.ctx, incident.System, incident.NewUser{Username: name, Role: role, Password: "long enough " + name})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// run runs a command that must succeed and returns its standard output.
func (e *witnessEnv) run(args ...string) string {
	e.t.Helper()
	out, errs, code := e.exec(args...)
	if code != 0 {
		e.t.Fatalf("tresor %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// fail runs a command that must fail and returns its standard error.
func (e *witnessEnv) fail(args ...string) string {
	e.t.Helper()
	out, errs, code := e.exec(args...)
	if code == 0 {
		e.t.Fatalf("tresor %s succeeded, want a refusal: %s", strings.Join(args, " "), out)
	}
	return errs
}

func (e *witnessEnv) exec(args ...string) (string, string, int) {
	e.out.Reset()
	e.errs.Reset()
	code := e.c.dispatch(e.ctx, args)
	return e.out.String(), e.errs.String(), code
}

func (e *witnessEnv) cosign() (string, string, int) {
	return e.exec("audit", "cosign", "--key", e.dpoKey, "--server", e.url,
		"--server-key", e.cfg.AuditKeyFile+".pub", "--token-file", e.tokenFile)
}

// sql runs statements as an attacker with the database owner's rights:
// on PostgreSQL the append-only triggers are switched off first.
func (e *witnessEnv) sql(stmts ...string) {
	e.t.Helper()
	db, err := e.s.SQLDB()
	if err != nil {
		e.t.Fatal(err)
	}
	if e.s.Dialect() == sqlstore.Postgres {
		for _, table := range []string{"audit_entries", "audit_checkpoints", "audit_cosignatures"} {
			stmts = append([]string{"ALTER TABLE " + table + " DISABLE TRIGGER USER"}, stmts...)
		}
	}
	for _, stmt := range stmts {
		if _, err := db.ExecContext(e.ctx, stmt); err != nil {
			e.t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func (e *witnessEnv) entries() []audit.Entry {
	e.t.Helper()
	head, err := e.s.AuditHead(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []audit.Entry
	err = e.s.AuditSource(head.Seq).Scan(e.ctx, func(en audit.Entry) error { out = append(out, en); return nil })
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// rewrite changes entry seq's actor and recomputes every hash after it
// and the head row: a log that verifies on its own.
func (e *witnessEnv) rewrite(seq int64) {
	e.t.Helper()
	es := e.entries()
	var stmts []string
	for i := seq - 1; i < int64(len(es)); i++ {
		var prev *audit.Entry
		if i > 0 {
			prev = &es[i-1]
		}
		if i == seq-1 {
			es[i].Actor = "someone-else"
		}
		es[i] = audit.Seal(prev, es[i])
		prevHash := ""
		if i > 0 {
			prevHash = es[i].PrevHash.String()
		}
		stmts = append(stmts, fmt.Sprintf(`UPDATE audit_entries SET actor = '%s', prev_hash = '%s', hash = '%s' WHERE seq = %d`,
			es[i].Actor, prevHash, es[i].Hash, es[i].Seq))
	}
	last := es[len(es)-1]
	stmts = append(stmts, fmt.Sprintf(`UPDATE audit_head SET seq = %d, hash = '%s' WHERE id = 1`, last.Seq, last.Hash))
	e.sql(stmts...)
}

// truncate removes the entries after seq and rolls the head row back.
func (e *witnessEnv) truncate(seq int64) {
	e.t.Helper()
	es := e.entries()
	e.sql(fmt.Sprintf(`DELETE FROM audit_entries WHERE seq > %d`, seq),
		fmt.Sprintf(`UPDATE audit_head SET seq = %d, hash = '%s' WHERE id = 1`, seq, es[seq-1].Hash))
}

// TestCheckpointRefusesContradictedLog: after a checkpoint was saved, a
// log rewritten or truncated consistently (chain and head row recomputed,
// so that it verifies on its own) is not signed again.
func TestCheckpointRefusesContradictedLog(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		for name, attack := range map[string]func(e *witnessEnv, size int64){
			"entry rewritten": func(e *witnessEnv, _ int64) { e.rewrite(2) },
			"log truncated":   func(e *witnessEnv, size int64) { e.truncate(size - 2) },
		} {
			t.Run(string(d)+"/"+name, func(t *testing.T) {
				e := newWitnessEnv(t, d)
				e.addUser("wanda", incident.RoleWorker)
				e.addUser("otto", incident.RoleWorker)
				cp, err := audit.ParseCheckpoint(strings.SplitN(e.run("audit", "checkpoint"), "\n\n", 2)[0] + "\n")
				if err != nil {
					t.Fatal(err)
				}
				e.addUser("susi", incident.RoleSupervisor)
				attack(e, cp.N)
				if _, err := e.svc.VerifyAudit(e.ctx); err != nil {
					t.Fatalf("the attacked log should verify without checkpoints: %v", err)
				}
				errs := e.fail("audit", "checkpoint")
				for _, want := range []string{"refusing to sign", "AUDIT LOG FAILED VERIFICATION", fmt.Sprintf("checkpoint covers %d entries", cp.N)} {
					if name == "entry rewritten" && strings.HasPrefix(want, "checkpoint covers") {
						want = fmt.Sprintf("the first %d entries do not match a checkpoint", cp.N)
					}
					if !strings.Contains(errs, want) {
						t.Errorf("stderr %q lacks %q", errs, want)
					}
				}
				if cps, err := e.svc.LatestCheckpoint(e.ctx, incident.Actor{ID: "cli", Role: incident.RoleAuditor}); err != nil || cps.Size != cp.N {
					t.Fatalf("latest checkpoint %d, %v: the refused one was saved", cps.Size, err)
				}
			})
		}
	}
}

// TestWitnessedCheckpoints runs the DPO's cosign against a server over
// the real handler, then the attack: someone with the server's audit
// signing key and the database rewrites the log and signs a checkpoint of
// the rewritten log. The witness refuses to cosign it, and verify with the
// witness key detects the rewrite, even after the attacker removed the
// saved checkpoints and cosignatures (the DPO's state file still proves it).
func TestWitnessedCheckpoints(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newWitnessEnv(t, d)
			pub := e.cfg.AuditKeyFile + ".pub"
			state := e.dpoKey + ".state"

			// No checkpoint yet: nothing to cosign.
			if _, errs, code := e.cosign(); code == 0 || !strings.Contains(errs, "404") {
				t.Fatalf("cosign without a checkpoint: exit %d, %s", code, errs)
			}
			e.addUser("wanda", incident.RoleWorker)
			e.run("audit", "checkpoint")
			first, errs, code := e.cosign()
			if code != 0 {
				t.Fatalf("first cosign: %s", errs)
			}
			firstTree, err := audit.OpenCheckpoint(mustRead(t, state), mustVerifier(t, pub))
			if err != nil {
				t.Fatalf("state file: %v", err)
			}
			if !strings.Contains(first, fmt.Sprintf("cosigned checkpoint of %d entries", firstTree.N)) {
				t.Fatalf("first cosign said %q", first)
			}
			if out, _, _ := e.cosign(); !strings.Contains(out, "nothing new") {
				t.Fatalf("second cosign of the same checkpoint: %q", out)
			}

			// The log grows; the next cosign checks a consistency proof.
			e.addUser("otto", incident.RoleWorker)
			e.run("audit", "checkpoint")
			out, errs, code := e.cosign()
			if code != 0 || !strings.Contains(out, fmt.Sprintf("extends the %d entries cosigned before", firstTree.N)) {
				t.Fatalf("cosign after growth: exit %d, %q, %s", code, out, errs)
			}
			witnessed, err := audit.OpenCheckpoint(mustRead(t, state), mustVerifier(t, pub))
			if err != nil || witnessed.N <= firstTree.N {
				t.Fatalf("state after growth: %v, %v", witnessed, err)
			}
			out = e.run("audit", "verify")
			if !strings.Contains(out, fmt.Sprintf("newest witnessed checkpoint: %d entries (2 cosignature(s) checked)", witnessed.N)) {
				t.Fatalf("verify: %q", out)
			}
			e.addUser("susi", incident.RoleSupervisor)

			// The attack: rewrite entry 2 below the witnessed size and
			// sign the rewritten tree with the server's own key.
			e.rewrite(2)
			forged := e.svcTree()
			skey, err := os.ReadFile(e.cfg.AuditKeyFile)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := audit.NewSigner(string(skey))
			if err != nil {
				t.Fatal(err)
			}
			note, err := audit.SignCheckpoint(forged, signer)
			if err != nil {
				t.Fatal(err)
			}
			e.sql(fmt.Sprintf(`INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES (%d, '%s', '%s', 0)`,
				forged.N, forged.Hash, strings.ReplaceAll(string(note), "'", "''")))

			before := mustRead(t, state)
			_, errs, code = e.cosign()
			if code == 0 || !strings.Contains(errs, "REFUSING TO COSIGN") || !strings.Contains(errs, "REWRITTEN") {
				t.Fatalf("cosign of the forged checkpoint: exit %d, %s", code, errs)
			}
			if !bytes.Equal(before, mustRead(t, state)) {
				t.Fatal("a refused cosign changed the state file")
			}
			cs, err := e.svc.Cosignatures(e.ctx, incident.Actor{ID: "cli", Role: incident.RoleAuditor})
			if err != nil || len(cs) != 2 {
				t.Fatalf("cosignatures after the refusal: %d, %v", len(cs), err)
			}
			errs = e.fail("audit", "verify")
			if !strings.Contains(errs, "AUDIT LOG FAILED VERIFICATION") {
				t.Fatalf("verify after the rewrite: %s", errs)
			}

			// The attacker removes every saved checkpoint and
			// cosignature: the log alone verifies, the DPO's state file
			// does not let it.
			e.sql(`DELETE FROM audit_cosignatures`, `DELETE FROM audit_checkpoints`)
			e.run("audit", "verify")
			errs = e.fail("audit", "verify", "--checkpoint", state)
			if !strings.Contains(errs, fmt.Sprintf("the first %d entries do not match a checkpoint", witnessed.N)) {
				t.Fatalf("verify against the DPO's state: %s", errs)
			}
		})
	}
}

// svcTree is the tree of the whole log as it is now.
func (e *witnessEnv) svcTree() tlog.Tree {
	e.t.Helper()
	res, err := e.svc.VerifyAudit(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Tree
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustVerifier(t *testing.T, path string) note.Verifier {
	t.Helper()
	v, err := readVerifier(path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
