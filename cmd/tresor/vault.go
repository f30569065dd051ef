package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"time"

	"filippo.io/age"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/vaultopen"
)

// cmdVault dispatches the vault subcommands.
func (c *cli) cmdVault(ctx context.Context, args []string) error {
	cmds := map[string]command{
		"keygen":  {"generate a vault identity and print its recipient", (*cli).cmdVaultKeygen},
		"seal":    {"seal files into a bundle (administration and tests)", (*cli).cmdVaultSeal},
		"verify":  {"verify bundles, without or with an identity", (*cli).cmdVaultVerify},
		"open":    {"decrypt a bundle into a directory", (*cli).cmdVaultOpen},
		"rewrap":  {"re-encrypt bundles to the current recipients", (*cli).cmdVaultRewrap},
		"export":  {"write a bundle and its chain-of-custody report", (*cli).cmdVaultExport},
		"destroy": {"destroy a bundle and print its certificate", (*cli).cmdVaultDestroy},
		"list":    {"list bundle ids", (*cli).cmdVaultList},
		"bench":   {"measure sealing throughput and memory against age", (*cli).cmdVaultBench},
	}
	maps.Copy(cmds, thresholdVaultCommands()) // vault_combine.go
	return c.subcommand(ctx, "vault", cmds, args)
}

// vaultFlags are the flags that locate the vault.
type vaultFlags struct {
	data       string
	recipients string
}

func (c *cli) vaultFlags(fs *flag.FlagSet) *vaultFlags {
	vf := &vaultFlags{}
	fs.StringVar(&vf.data, "data", "", "data `DIR` (default $TRESOR_DATA_DIR or ./tresor-data); the vault is $TRESOR_VAULT_URL, $TRESOR_VAULT_DIR or DIR/vault")
	fs.StringVar(&vf.recipients, "recipients", "", "recipients `FILE`, one per line (default DIR/vault-recipients.txt)")
	return vf
}

// config resolves the vault's location like every other command does
// (TRESOR_VAULT_DIR, TRESOR_VAULT_RECIPIENTS_FILE, TRESOR_DATA_DIR), with
// --data standing in for TRESOR_DATA_DIR and --recipients overriding.
func (vf *vaultFlags) config(c *cli) (config, error) {
	getenv := c.getenv
	if vf.data != "" {
		getenv = func(k string) string {
			if k == "TRESOR_DATA_DIR" {
				return vf.data
			}
			return c.getenv(k)
		}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return config{}, err
	}
	if vf.recipients != "" {
		cfg.RecipientsFile = vf.recipients
	}
	return cfg, nil
}

// openVault opens the configured vault (TRESOR_VAULT_URL or the folder)
// for a vault command; needRecipients also reads the recipients, for the
// commands that seal.
func (c *cli) openVault(ctx context.Context, vf *vaultFlags, needRecipients bool) (*vault.Vault, error) {
	cfg, err := vf.config(c)
	if err != nil {
		return nil, err
	}
	return openVault(ctx, cfg, c.now, needRecipients, needRecipients)
}

// openVault is the one way serve and the vault commands open the vault.
// create makes a missing vault folder (serve); the folder backend sweeps
// what crashed writers left as it opens.
func openVault(ctx context.Context, cfg config, now func() time.Time, needRecipients, create bool) (*vault.Vault, error) {
	opts := vaultopen.Options{Location: cfg.Vault, AccessKeyID: cfg.S3AccessKeyID, SecretAccessKey: cfg.S3SecretAccessKey,
		Create: create, Vault: []vault.Option{vault.WithToolVersion(toolVersion()), vault.WithClock(now)}}
	if needRecipients {
		opts.RecipientsFile = cfg.RecipientsFile
	}
	return vaultopen.Open(ctx, opts)
}

func readIdentity(path string) ([]vault.Identity, error) {
	if path == "" {
		return nil, usageError("--identity FILE is required")
	}
	return vault.ReadIdentitiesFile(path)
}

func readReceipt(path string) (*vault.Receipt, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read receipt: %w", err)
	}
	r, err := vault.UnmarshalReceipt(data)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func needIDs(fs *flag.FlagSet, min, max int) ([]string, error) {
	ids := fs.Args()
	if len(ids) < min || max > 0 && len(ids) > max {
		if max == 1 {
			return nil, usageError("need exactly one bundle ID")
		}
		return nil, usageError("need at least %d bundle ID", min)
	}
	for i, id := range ids {
		if !vault.ValidID(id) {
			// Not echoed: a mistaken argument may be a secret.
			return nil, fmt.Errorf("%w in argument %d: want 16 to 64 lowercase letters and digits", vault.ErrInvalidID, i+1)
		}
	}
	return ids, nil
}

func (c *cli) cmdVaultKeygen(ctx context.Context, args []string) error {
	// Threshold custody (K of N holders): see vault_keygen_threshold.go.
	if wantsThresholdKeygen(args) {
		return c.cmdVaultKeygenThreshold(ctx, args)
	}
	fs := c.flags("vault keygen", "vault keygen -o FILE [--add] [--data DIR] [--recipients FILE]")
	out := fs.String("o", "", "write the identity to `FILE` (created 0600, never overwritten)")
	add := fs.Bool("add", false, "also append the recipient to the recipients file")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError("need -o FILE and no arguments")
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	content := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n",
		c.now().UTC().Format("2006-01-02T15:04:05Z"), id.Recipient(), id)
	if err := writeNewFile(*out, content); err != nil {
		return fmt.Errorf("failed to write identity: %w", err)
	}
	if *add {
		cfg, err := vf.config(c)
		if err != nil {
			return err
		}
		path := cfg.RecipientsFile
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("failed to create data directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("failed to open recipients file: %w", err)
		}
		_, err = fmt.Fprintf(f, "%s\n", id.Recipient())
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("failed to add recipient: %w", err)
		}
		fmt.Fprintf(c.stderr, "tresor: added recipient to %s\n", path)
	}
	fmt.Fprintf(c.stderr, "tresor: wrote identity to %s: move it offline, it decrypts every bundle sealed to %s\n", *out, id.Recipient())
	fmt.Fprintln(c.stdout, id.Recipient())
	return nil
}

// writeNewFile creates path with mode 0600, failing if it exists.
func writeNewFile(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(err, os.Remove(path))
	}
	return nil
}

func (c *cli) cmdVaultVerify(ctx context.Context, args []string) error {
	fs := c.flags("vault verify", "vault verify [--identity FILE] [--receipt FILE] [--data DIR] [ID...]\n\n"+
		"Without IDs every bundle in the vault is verified. Each is compared with its receipt: from\n"+
		"--receipt, else from the database when it holds one. Without a receipt and without an identity\n"+
		"only the form is checked (age header, payload length): the ciphertext hash is recorded nowhere\n"+
		"to compare with, and the output says so.")
	identity := fs.String("identity", "", "decrypt with the identity in `FILE` and check every part")
	receipt := fs.String("receipt", "", "check against the receipt (JSON) in `FILE`; one ID only")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ids, err := needIDs(fs, 0, 0)
	if err != nil {
		return err
	}
	if *receipt != "" && len(ids) != 1 {
		return usageError("--receipt needs exactly one ID")
	}
	fileReceipt, err := readReceipt(*receipt)
	if err != nil {
		return err
	}
	var idents []vault.Identity
	if *identity != "" {
		if idents, err = readIdentity(*identity); err != nil {
			return err
		}
	}
	v, err := c.openVault(ctx, vf, false)
	if err != nil {
		return err
	}
	// The database's receipts, unless a receipt file stands in for them.
	var known map[string]incident.Incident
	if fileReceipt == nil {
		err := c.withVaultService(ctx, vf, func(svc *incident.Service) error {
			known, err = receiptsByBundle(ctx, svc)
			return err
		})
		if err != nil {
			fmt.Fprintf(c.stderr, "tresor: no receipts from the database (%v): ciphertext hashes are compared with nothing\n", err)
		}
	}
	all := len(ids) == 0
	if all {
		if err := v.List(ctx, func(id string) error {
			ids = append(ids, id)
			return nil
		}); err != nil {
			return err
		}
	}
	var failed int
	for _, id := range ids {
		want, from := fileReceipt, "the receipt file"
		if inc, ok := known[id]; ok {
			r := vaultReceipt(*inc.Receipt)
			want, from = &r, "the database's receipt (incident "+inc.ID+")"
		}
		var rep vault.VerifyReport
		if idents != nil {
			rep, err = v.VerifyWithIdentity(ctx, id, idents, want)
		} else {
			rep, err = v.Verify(ctx, id, want)
		}
		if err != nil {
			if want != nil {
				err = fmt.Errorf("%w (checked against %s)", err, from)
			}
			fmt.Fprintf(c.stderr, "tresor: %s: FAILED: %v\n", id, err)
			failed++
			continue
		}
		fmt.Fprintf(c.stdout, "%s: %s\n", id, verifyLine(rep, want, from, known != nil))
	}
	if all {
		// A receipt whose bundle is gone is a failure too.
		missing := make([]string, 0)
		listed := make(map[string]bool, len(ids))
		for _, id := range ids {
			listed[id] = true
		}
		for id, inc := range known {
			if !listed[id] {
				missing = append(missing, id)
				fmt.Fprintf(c.stderr, "tresor: %s: FAILED: the database's receipt (incident %s) names it, but the vault has no such bundle\n", id, inc.ID)
			}
		}
		failed += len(missing)
		ids = append(ids, missing...)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d bundles failed verification", failed, len(ids))
	}
	if len(ids) == 0 {
		fmt.Fprintln(c.stdout, "no bundles in the vault")
	}
	return nil
}

// verifyLine says exactly what was checked for one bundle.
func verifyLine(rep vault.VerifyReport, want *vault.Receipt, from string, haveDB bool) string {
	var b strings.Builder
	if rep.Decrypted {
		fmt.Fprintf(&b, "decrypted, manifest and %d part(s) ok (manifest sha256 %s); ", len(rep.Manifest.Parts), rep.ManifestSHA256)
	} else {
		b.WriteString("age header well-formed and payload length plausible (not decrypted: no identity); ")
	}
	fmt.Fprintf(&b, "ciphertext sha256 %s, %d bytes, recipients %s; ", rep.CiphertextSHA256, rep.CiphertextSize, strings.Join(rep.StanzaTypes, ","))
	switch {
	case want != nil:
		fmt.Fprintf(&b, "matches %s", from)
	case rep.Decrypted:
		b.WriteString("no receipt: the parts match the manifest inside the bundle, but whether this is the ciphertext that was sealed is not checked")
	case haveDB:
		b.WriteString("no receipt in the database (sealed by 'vault seal', or not recorded): the ciphertext hash is recorded nowhere, so alterations are NOT checked (give --receipt FILE or --identity FILE)")
	default:
		b.WriteString("no receipt: the ciphertext hash is recorded nowhere to compare with, so alterations are NOT checked (give --receipt FILE, run where the database is, or --identity FILE)")
	}
	return b.String()
}

func (c *cli) cmdVaultList(ctx context.Context, args []string) error {
	fs := c.flags("vault list", "vault list [--data DIR]\n\n"+
		"Prints one bundle id a line. A bundle no incident refers to is marked \"orphan\" (the\n"+
		"service destroys it, or will once the storage's retention allows) or \"unrecorded\"\n"+
		"(being sealed, or left by a crash and destroyed after the grace period).")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	v, err := c.openVault(ctx, vf, false)
	if err != nil {
		return err
	}
	marks := c.bundleStatuses(ctx, vf)
	return v.List(ctx, func(id string) error {
		var err error
		if m := marks[id]; m != "" {
			_, err = fmt.Fprintf(c.stdout, "%s\t%s\n", id, m)
		} else {
			_, err = fmt.Fprintln(c.stdout, id)
		}
		return err
	})
}

func (c *cli) cmdVaultDestroy(ctx context.Context, args []string) error {
	fs := c.flags("vault destroy", "vault destroy [--data DIR] ID")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ids, err := needIDs(fs, 1, 1)
	if err != nil {
		return err
	}
	v, err := c.openVault(ctx, vf, false)
	if err != nil {
		return err
	}
	cert, err := v.Destroy(ctx, ids[0])
	if err != nil {
		return err
	}
	return printJSON(c.stdout, map[string]any{
		"bundle_id": cert.BundleID, "ciphertext_sha256": cert.CiphertextSHA256,
		"ciphertext_size": cert.CiphertextSize, "destroyed_at": cert.DestroyedAt,
		"backend": cert.Backend, "versions_removed": cert.VersionsRemoved,
	})
}
