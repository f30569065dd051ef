package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tresor-evidence/tresor/backup"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/vault"
)

// The files of a backup besides the database.
const (
	backupSecretKey   = backup.KeysDir + "/secret.key"
	backupWAKey       = backup.KeysDir + "/wa-capture.key"
	backupAuditKey    = backup.KeysDir + "/audit-signing.key"
	backupAuditPub    = backup.KeysDir + "/audit-signing.key.pub"
	backupKeysReadme  = backup.KeysDir + "/README.txt"
	backupRecipients  = "vault-recipients.txt"
	backupReadme      = "README.txt"
	backupSQLiteFile  = "database/tresor.db"
	backupPGDumpFile  = "database/tresor.pgdump"
	backupKeysAdvice  = "These keys belong with the database of this backup. Keep this folder on another medium than\nthe rest of the backup (a USB stick in a safe): whoever has both can read the second-factor\nsecrets and captured WhatsApp messages the database holds, and sign audit checkpoints.\nThe vault identity (the key that opens evidence) is never part of a backup.\n"
	backupReadmeText  = "Tresor backup. Restore it with 'tresor restore DIR' into an empty data folder and an empty\ndatabase (see README, \"Backup and restore\"). manifest.json lists every file with its SHA-256.\nreceipts/ holds the receipt of every bundle the database knows, for 'tresor vault verify\n--receipt receipts/ID.json ID'. The vault's bundles are not in the backup: back up the vault\nfolder (ciphertext only) or rely on the S3 bucket's versioning and Object Lock.\n"
	backupUsageDetail = "Writes a consistent snapshot of the database (SQLite: VACUUM INTO; PostgreSQL: pg_dump\n" +
		"--format=custom of one exported snapshot, with the client tools of the server's major\n" +
		"version), the receipt of every bundle, the vault recipients and, in the sub-folder keys/,\n" +
		"the keys that belong with the database (secret.key, wa-capture.key, the audit signing key\n" +
		"and its public key; never the vault identity). manifest.json lists every file with its\n" +
		"SHA-256. The backup is built in DIR.partial and renamed to DIR when complete; an existing\n" +
		"DIR that is not empty is refused. Keep keys/ on another medium than the rest.\n\n"
)

func (c *cli) cmdBackup(ctx context.Context, args []string) error {
	fs := c.flags("backup", "backup -o DIR\n\n"+backupUsageDetail+envVars)
	out := fs.String("o", "", "write the backup to the new folder `DIR`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError("need -o DIR and no arguments")
	}
	return c.withService(ctx, func(svc *incident.Service, s *sqlstore.Store, cfg config) error {
		return c.backup(ctx, svc, s, cfg, *out)
	})
}

// backup writes the backup DIR and records it in the audit log.
func (c *cli) backup(ctx context.Context, svc *incident.Service, s *sqlstore.Store, cfg config, dir string) (err error) {
	schema, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	w, err := backup.Create(dir)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			err = errors.Join(err, w.Abort())
		}
	}()
	m := backup.Manifest{CreatedAt: c.now().UTC(), ToolVersion: toolVersion(), Database: string(s.Dialect()), SchemaVersion: schema}
	receipts, err := c.snapshotDatabase(ctx, s, cfg, w, &m)
	if err != nil {
		return err
	}
	m.Receipts = len(receipts)
	for _, r := range receipts {
		data, err := vault.MarshalReceipt(vaultReceipt(r))
		if err != nil {
			return err
		}
		if err := w.WriteFile(backup.ReceiptsDir+"/"+r.BundleID+".json", append(data, '\n')); err != nil {
			return err
		}
	}
	for _, f := range []struct{ src, rel string }{
		{cfg.SecretKeyFile, backupSecretKey}, {cfg.WAKeyFile, backupWAKey},
		{cfg.AuditKeyFile, backupAuditKey}, {cfg.AuditKeyFile + ".pub", backupAuditPub},
		{cfg.RecipientsFile, backupRecipients},
	} {
		data, err := os.ReadFile(f.src)
		if err != nil {
			return fmt.Errorf("failed to read %s for the backup (run 'tresor init'?): %w", f.src, err)
		}
		if err := w.WriteFile(f.rel, data); err != nil {
			return err
		}
	}
	if err := w.WriteFile(backupKeysReadme, []byte(backupKeysAdvice)); err != nil {
		return err
	}
	if err := w.WriteFile(backupReadme, []byte(backupReadmeText)); err != nil {
		return err
	}
	files := w.Len()
	sum, err := w.Commit(m)
	if err != nil {
		return err
	}
	committed = true
	if err := svc.RecordBackup(ctx, incident.BackupInfo{ManifestSHA256: sum, Files: files, Receipts: len(receipts)}); err != nil {
		return fmt.Errorf("the backup in %s is complete, but its audit entry could not be written: %w", dir, err)
	}
	fmt.Fprintf(c.stdout, "backup written to %s: %s database (schema %d), %d receipt(s), manifest sha256 %s\n",
		dir, m.Database, schema, len(receipts), sum)
	fmt.Fprintf(c.stdout, "keep %s on another medium than the rest of the backup\n", filepath.Join(dir, backup.KeysDir))
	return nil
}

// snapshotDatabase writes the database into the backup and returns the
// receipts of the same snapshot.
func (c *cli) snapshotDatabase(ctx context.Context, s *sqlstore.Store, cfg config, w *backup.Writer, m *backup.Manifest) ([]incident.Receipt, error) {
	switch s.Dialect() {
	case sqlstore.SQLite:
		m.DatabaseFile = backupSQLiteFile
		p, err := w.Path(m.DatabaseFile)
		if err != nil {
			return nil, err
		}
		if err := s.SnapshotSQLite(ctx, p); err != nil {
			return nil, err
		}
		receipts, err := sqlstore.SnapshotReceiptsSQLite(ctx, p)
		if err != nil {
			return nil, err
		}
		return receipts, w.Add(m.DatabaseFile)
	case sqlstore.Postgres:
		m.DatabaseFile = backupPGDumpFile
		p, err := w.Path(m.DatabaseFile)
		if err != nil {
			return nil, err
		}
		major, err := s.ServerVersion(ctx)
		if err != nil {
			return nil, err
		}
		tool, err := findPGTool(ctx, "pg_dump", major)
		if err != nil {
			return nil, err
		}
		var receipts []incident.Receipt
		err = s.ExportSnapshot(ctx, func(ctx context.Context, snapshot string, rs []incident.Receipt) error {
			receipts = rs
			return tool.run(ctx, cfg.DatabaseURL, "--format=custom", "--no-owner", "--no-privileges", "--snapshot="+snapshot, "--file="+p)
		})
		if err != nil {
			return nil, err
		}
		return receipts, w.Add(m.DatabaseFile)
	}
	return nil, fmt.Errorf("cannot back up a %s database", s.Dialect())
}

// vaultReceipt is the vault's form of a receipt the database keeps.
func vaultReceipt(r incident.Receipt) vault.Receipt {
	return vault.Receipt{BundleID: r.BundleID, CiphertextSHA256: r.CiphertextSHA256, CiphertextSize: r.CiphertextSize,
		ManifestSHA256: r.ManifestSHA256, Recipients: r.Recipients, SealedAt: r.SealedAt}
}
