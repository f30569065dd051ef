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
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

func (c *cli) cmdAudit(ctx context.Context, args []string) error {
	return c.subcommand(ctx, "audit", map[string]command{
		"verify":     {"verify the whole audit log (and saved checkpoints)", (*cli).cmdAuditVerify},
		"checkpoint": {"print (and save) a signed checkpoint of the log", (*cli).cmdAuditCheckpoint},
		"export":     {"export an incident's or a period's entries as JSON lines or CSV", (*cli).cmdAuditExport},
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

// openCheckpoints checks each signed checkpoint and returns its tree.
func openCheckpoints(notes [][]byte, v note.Verifier) ([]tlog.Tree, error) {
	var out []tlog.Tree
	for _, n := range notes {
		t, err := audit.OpenCheckpoint(n, v)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (c *cli) cmdAuditVerify(ctx context.Context, args []string) error {
	var files multiFlag
	fs := c.flags("audit verify", "audit verify [--checkpoint FILE]... [--public-key FILE]\n\n"+
		"Checks every entry's hash and link, the Merkle tree, the head row, every checkpoint saved\n"+
		"in the database and every checkpoint FILE given (a signed note from 'tresor audit checkpoint'\n"+
		"kept off the server). Exits 1 if anything does not match.")
	fs.Var(&files, "checkpoint", "a saved signed checkpoint the log must still extend (repeatable)")
	pub := fs.String("public-key", "", "checkpoint verifier key (default: TRESOR_AUDIT_KEY_FILE + .pub)")
	if err := parse(fs, args); err != nil {
		return err
	}
	return c.withService(ctx, func(svc *incident.Service, s *sqlstore.Store, cfg config) error {
		if *pub == "" {
			*pub = cfg.AuditKeyFile + ".pub"
		}
		return c.verifyAudit(ctx, svc, s, files, *pub)
	})
}

// verifyAudit verifies the log against the given and the saved checkpoints.
func (c *cli) verifyAudit(ctx context.Context, svc *incident.Service, s *sqlstore.Store, files []string, pub string) error {
	var notes [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("failed to read checkpoint: %w", err)
		}
		notes = append(notes, b)
	}
	saved, err := s.Checkpoints(ctx)
	if err != nil {
		return err
	}
	for _, n := range saved {
		notes = append(notes, []byte(n))
	}
	var trees []tlog.Tree
	if len(notes) > 0 {
		v, err := readVerifier(pub)
		if err != nil {
			return err
		}
		if trees, err = openCheckpoints(notes, v); err != nil {
			return err
		}
	}
	res, err := svc.VerifyAudit(ctx, trees...)
	if err != nil {
		if errors.Is(err, audit.ErrTampered) {
			return fmt.Errorf("AUDIT LOG FAILED VERIFICATION: %w", err)
		}
		return err
	}
	fmt.Fprintf(c.stdout, "audit log ok: %d entries, head %s, tree root %s, %d checkpoint(s) extended\n",
		res.Entries, res.Head, res.Tree.Hash, len(trees))
	return nil
}

func (c *cli) cmdAuditCheckpoint(ctx context.Context, args []string) error {
	fs := c.flags("audit checkpoint", "audit checkpoint [--save=false]\n\n"+
		"Verifies the log, then prints a checkpoint (size and Merkle root) signed with the audit key.\n"+
		"Keep the output somewhere the server cannot change it; 'tresor audit verify --checkpoint FILE'\n"+
		"later proves the log still extends it.")
	save := fs.Bool("save", true, "also keep the checkpoint in the database, so every later verify checks it")
	if err := parse(fs, args); err != nil {
		return err
	}
	return c.withService(ctx, func(svc *incident.Service, s *sqlstore.Store, cfg config) error {
		return c.checkpoint(ctx, svc, s, cfg, *save)
	})
}

// checkpoint verifies the log, signs its tree and prints (and saves) the note.
func (c *cli) checkpoint(ctx context.Context, svc *incident.Service, s *sqlstore.Store, cfg config, save bool) error {
	skey, err := os.ReadFile(cfg.AuditKeyFile)
	if err != nil {
		return fmt.Errorf("failed to read audit signing key (run 'tresor init' first): %w", err)
	}
	signer, err := audit.NewSigner(string(skey))
	if err != nil {
		return err
	}
	res, err := svc.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("refusing to sign a log that does not verify: %w", err)
	}
	msg, err := audit.SignCheckpoint(res.Tree, signer)
	if err != nil {
		return err
	}
	if save && res.Tree.N > 0 {
		err := s.SaveCheckpoint(ctx, res.Tree.N, res.Tree.Hash.String(), string(msg), c.now().UnixMicro())
		if err != nil && !errors.Is(err, incident.ErrDuplicate) {
			return err
		}
	}
	_, err = c.stdout.Write(msg)
	return err
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
