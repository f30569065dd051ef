package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/wa"
)

// writeNew writes data to a new file with mode perm; it never overwrites.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("failed to sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to close %s: %w", path, err)
	}
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// ensureAuditKey creates the checkpoint signing key pair on first use.
func (c *cli) ensureAuditKey(cfg config) error {
	ok, err := exists(cfg.AuditKeyFile)
	if err != nil || ok {
		return err
	}
	skey, vkey, err := audit.GenerateKey(rand.Reader, "tresor-audit")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.AuditKeyFile), 0o700); err != nil {
		return fmt.Errorf("failed to create key directory: %w", err)
	}
	if err := writeNew(cfg.AuditKeyFile, []byte(skey+"\n"), 0o600); err != nil {
		return err
	}
	if err := writeNew(cfg.AuditKeyFile+".pub", []byte(vkey+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created audit signing key %s (public key for auditors: %s.pub)\n", cfg.AuditKeyFile, cfg.AuditKeyFile)
	return nil
}

// ensureSecretKey creates the key that encrypts second-factor secrets in
// the database; it lives in a file so that a database dump alone does not
// reveal them.
func (c *cli) ensureSecretKey(cfg config) error {
	ok, err := exists(cfg.SecretKeyFile)
	if err != nil || ok {
		return err
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return fmt.Errorf("failed to generate secret key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.SecretKeyFile), 0o700); err != nil {
		return fmt.Errorf("failed to create key directory: %w", err)
	}
	return writeNew(cfg.SecretKeyFile, []byte(hex.EncodeToString(key[:])+"\n"), 0o600)
}

// readSecretKey reads the 32-byte key written by ensureSecretKey.
func readSecretKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read secret key (run 'tresor init'): %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("secret key %s: want 64 hex digits (32 bytes)", path)
	}
	return key, nil
}

// ensureVaultRecipients creates a vault key pair on first use: the
// server keeps only the public recipient; the identity goes to a file
// outside the data folder, to be moved offline.
func (c *cli) ensureVaultRecipients(cfg config) error {
	ok, err := exists(cfg.RecipientsFile)
	if err != nil || ok {
		return err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return fmt.Errorf("failed to generate vault key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.RecipientsFile), 0o700); err != nil {
		return fmt.Errorf("failed to create data folder: %w", err)
	}
	identity := fmt.Sprintf("# Tresor vault identity, created %s\n# public key: %s\n%s\n",
		c.now().UTC().Format("2006-01-02T15:04:05Z"), id.Recipient(), id)
	if err := writeNew(cfg.IdentityOut, []byte(identity), 0o600); err != nil {
		return fmt.Errorf("failed to write the vault identity (move or delete an old one first): %w", err)
	}
	recipients := fmt.Sprintf("# Evidence is encrypted to these age recipients, one per line.\n%s\n", id.Recipient())
	if err := writeNew(cfg.RecipientsFile, []byte(recipients), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, `
  ********************************************************************
  WARNING: the vault identity (the private key that opens evidence) was
  written to %s
  Move it OFFLINE now (a USB stick in a safe, a hardware token), and
  delete it from this server. The server needs only the public
  recipient in %s to seal evidence.
  ********************************************************************

`, cfg.IdentityOut, cfg.RecipientsFile)
	return nil
}

// bootstrap prepares a data folder and database: folder, migrations,
// audit signing key and vault recipients.
func (c *cli) bootstrap(ctx context.Context, cfg config, s *sqlstore.Store) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("failed to create data folder: %w", err)
	}
	applied, err := s.Migrate(ctx, c.now())
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		fmt.Fprintf(c.stdout, "database migrated to version %d\n", sqlstore.LatestVersion())
	}
	if err := c.migrateDeviceStore(ctx, s); err != nil {
		return err
	}
	if err := c.ensureAuditKey(cfg); err != nil {
		return err
	}
	if err := c.ensureSecretKey(cfg); err != nil {
		return err
	}
	if ok, err := exists(cfg.WAKeyFile); err != nil {
		return err
	} else if !ok {
		if err := wa.GenerateSealerKey(cfg.WAKeyFile); err != nil {
			return err
		}
	}
	return c.ensureVaultRecipients(cfg)
}

// readSecret reads a password from a file, or the first line of stdin.
func (c *cli) readSecret(file, what string) (string, error) {
	var r io.Reader = c.stdin
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("failed to open %s file: %w", what, err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("failed to read %s: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError("no %s given: pipe it on standard input or use --password-file", what)
	}
	return line, nil
}

// randomPassword returns a 26-character random password.
func randomPassword() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), nil
}

func (c *cli) cmdInit(ctx context.Context, args []string) error {
	fs := c.flags("init", "init [--admin NAME] [--password-file FILE] < password\n\n"+
		"Creates the data folder, migrates the database, creates the audit signing key and\n"+
		"the vault key pair, and the first admin. The admin's password is read from\n"+
		"--password-file or the first line of standard input, never from the command line.\n\n"+envVars)
	admin := fs.String("admin", "admin", "username of the first admin")
	pwFile := fs.String("password-file", "", "file holding the admin's password")
	if err := parse(fs, args); err != nil {
		return err
	}
	return c.withStore(ctx, false, func(s *sqlstore.Store, cfg config) error {
		return c.initialise(ctx, s, cfg, *admin, *pwFile)
	})
}

// initialise prepares everything and creates the first admin.
func (c *cli) initialise(ctx context.Context, s *sqlstore.Store, cfg config, admin, pwFile string) error {
	if err := c.bootstrap(ctx, cfg, s); err != nil {
		return err
	}
	pol, err := loadPolicy(cfg)
	if err != nil {
		return err
	}
	svc := incident.NewService(s, pol, nil, nil, incident.WithClock(c.now))
	users, err := svc.Users(ctx, incident.System)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return fmt.Errorf("already initialised: %d user(s) exist; add more with 'tresor user add'", len(users))
	}
	pw, err := c.readSecret(pwFile, "password")
	if err != nil {
		return err
	}
	u, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: admin, Role: incident.RoleAdmin, Password: pw})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created admin %q\n", u.Username)
	return nil
}
