package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

func (c *cli) cmdAudit(ctx context.Context, args []string) error {
	return c.subcommand(ctx, "audit", map[string]command{
		"verify":         {"verify the whole audit log (and saved checkpoints)", (*cli).cmdAuditVerify},
		"checkpoint":     {"print (and save) a signed checkpoint of the log", (*cli).cmdAuditCheckpoint},
		"export":         {"export an incident's or a period's entries as JSON lines or CSV", (*cli).cmdAuditExport},
		"witness-keygen": {"create the data-protection officer's witness key (kept off the server)", (*cli).cmdAuditWitnessKeygen},
		"cosign":         {"on the witness's machine: check the server's latest checkpoint and cosign it", (*cli).cmdAuditCosign},
		"import-opening": {"append a bundle opening recorded offline (vault open --offline)", (*cli).cmdAuditImportOpening},
	}, args)
}

// readVerifier reads the checkpoint verifier key (the .pub file).
func readVerifier(path string) (note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read public key: %w", err)
	}
	return audit.NewVerifier(string(b))
}

func (c *cli) cmdAuditVerify(ctx context.Context, args []string) error {
	var files, witnessFiles multiFlag
	fs := c.flags("audit verify", "audit verify [--checkpoint FILE]... [--public-key FILE] [--witness-key FILE]...\n\n"+
		"Checks every entry's hash and link, the Merkle tree, the head row, every checkpoint saved\n"+
		"in the database, every cosigned checkpoint (each must carry a valid signature by a witness\n"+
		"key) and every checkpoint FILE given (a signed note from 'tresor audit checkpoint' or\n"+
		"'tresor audit cosign', kept off the server). Exits 1 if anything does not match.")
	fs.Var(&files, "checkpoint", "a saved signed checkpoint the log must still extend (repeatable)")
	pub := fs.String("public-key", "", "checkpoint verifier key (default: TRESOR_AUDIT_KEY_FILE + .pub)")
	fs.Var(&witnessFiles, "witness-key", "a witness verifier key file (repeatable; default: TRESOR_AUDIT_WITNESS_KEYS_FILE)")
	if err := parse(fs, args); err != nil {
		return err
	}
	return c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, cfg config) error {
		if *pub == "" {
			*pub = cfg.AuditKeyFile + ".pub"
		}
		if len(witnessFiles) == 0 && cfg.WitnessKeysFile != "" {
			witnessFiles = multiFlag{cfg.WitnessKeysFile}
		}
		return c.verifyAudit(ctx, svc, files, *pub, witnessFiles)
	})
}

// verifyAudit verifies the log against the given, the saved and the
// cosigned checkpoints.
func (c *cli) verifyAudit(ctx context.Context, svc *incident.Service, files []string, pub string, witnessFiles []string) error {
	var notes [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("failed to read checkpoint: %w", err)
		}
		notes = append(notes, b)
	}
	var witnesses []note.Verifier
	for _, f := range witnessFiles {
		vs, err := readWitnessKeys(f)
		if err != nil {
			return err
		}
		witnesses = append(witnesses, vs...)
	}
	v, err := readVerifier(pub)
	if err != nil {
		return err
	}
	res, err := svc.CheckAudit(ctx, v, witnesses, notes...)
	if err != nil {
		if errors.Is(err, audit.ErrTampered) || errors.Is(err, audit.ErrNotWitnessed) || errors.Is(err, audit.ErrCheckpointSignature) {
			return fmt.Errorf("AUDIT LOG FAILED VERIFICATION: %w", err)
		}
		return err
	}
	fmt.Fprintf(c.stdout, "audit log ok: %d entries, head %s, tree root %s, %d checkpoint(s) extended\n",
		res.Entries, res.Head, res.Tree.Hash, res.Checkpoints)
	switch {
	case len(witnesses) == 0:
		fmt.Fprintf(c.stdout, "%d cosigned checkpoint(s) not checked against a witness key (give --witness-key or set TRESOR_AUDIT_WITNESS_KEYS_FILE)\n", res.Cosignatures)
	case res.Witnessed.N == 0:
		fmt.Fprintln(c.stdout, "no witnessed checkpoint yet: run 'tresor audit cosign' on the witness's machine")
	default:
		fmt.Fprintf(c.stdout, "newest witnessed checkpoint: %d entries (%d cosignature(s) checked)\n", res.Witnessed.N, res.Cosignatures)
	}
	return nil
}

// witnessKeys reads the configured witness keys; none when the setting is empty.
func (cfg config) witnessKeys() ([]note.Verifier, error) {
	if cfg.WitnessKeysFile == "" {
		return nil, nil
	}
	return readWitnessKeys(cfg.WitnessKeysFile)
}

// readWitnessKeys reads note verifier keys, one a line; blank lines and
// lines starting with # are skipped.
func readWitnessKeys(path string) ([]note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read witness keys: %w", err)
	}
	var out []note.Verifier
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := audit.NewVerifier(line)
		if err != nil {
			return nil, fmt.Errorf("witness keys %s line %d: %w", path, i+1, err)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("witness keys %s: no key in the file", path)
	}
	return out, nil
}

func (c *cli) cmdAuditCheckpoint(ctx context.Context, args []string) error {
	fs := c.flags("audit checkpoint", "audit checkpoint [--save=false]\n\n"+
		"Verifies the log against every saved and cosigned checkpoint, then prints a checkpoint\n"+
		"(size and Merkle root) signed with the audit key; a log that contradicts a saved checkpoint\n"+
		"is refused. Keep the output somewhere the server cannot change it; 'tresor audit verify\n"+
		"--checkpoint FILE' later proves the log still extends it.")
	save := fs.Bool("save", true, "also keep the checkpoint in the database, so every later verify checks it")
	if err := parse(fs, args); err != nil {
		return err
	}
	return c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, cfg config) error {
		skey, err := os.ReadFile(cfg.AuditKeyFile)
		if err != nil {
			return fmt.Errorf("failed to read audit signing key (run 'tresor init' first): %w", err)
		}
		signer, err := audit.NewSigner(string(skey))
		if err != nil {
			return err
		}
		v, err := readVerifier(cfg.AuditKeyFile + ".pub")
		if err != nil {
			return err
		}
		cp, err := svc.SignCheckpoint(ctx, signer, v, *save)
		if err != nil {
			if errors.Is(err, audit.ErrTampered) {
				return fmt.Errorf("AUDIT LOG FAILED VERIFICATION: %w", err)
			}
			return err
		}
		_, err = io.WriteString(c.stdout, cp.Note)
		return err
	})
}

func (c *cli) cmdAuditExport(ctx context.Context, args []string) error {
	fs := c.flags("audit export", "audit export [--incident ID | --from TIME --to TIME] [--format jsonl|csv] [-o FILE]\n\n"+
		"TIME is RFC 3339 (2026-11-27T00:00:00Z) or a date (2026-11-27). Entries hold no evidence content.")
	incidentID := fs.String("incident", "", "export one incident's entries")
	from := fs.String("from", "", "start of the period (inclusive)")
	to := fs.String("to", "", "end of the period (exclusive)")
	format := fs.String("format", "jsonl", "jsonl or csv")
	out := fs.String("o", "", "write to FILE instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	f := incident.AuditFilter{IncidentID: *incidentID}
	var err error
	if f.From, err = parseTime(*from); err != nil {
		return usageError("--from: %v", err)
	}
	if f.To, err = parseTime(*to); err != nil {
		return usageError("--to: %v", err)
	}
	write := map[string]func(io.Writer, []audit.Entry) error{"jsonl": audit.WriteJSONL, "csv": audit.WriteCSV}[*format]
	if write == nil {
		return usageError("--format must be jsonl or csv, not %q", *format)
	}
	var entries []audit.Entry
	err = c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, _ config) (err error) {
		// The command line runs with the server operator's rights; it
		// reads as an auditor would.
		entries, err = svc.Trail(ctx, incident.Actor{ID: "cli", Role: incident.RoleAuditor}, f)
		return err
	})
	if err != nil {
		return err
	}
	if *out == "" {
		return write(c.stdout, entries)
	}
	file, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create export: %w", err)
	}
	if err := write(file, entries); err != nil {
		_ = file.Close()
		return err
	}
	return file.Close()
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
