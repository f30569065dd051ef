package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tresor-evidence/tresor/backup"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/wa"
)

// errNotEmptyTarget: a restore found something where it would write.
var errNotEmptyTarget = errors.New("restore fills only an empty data folder and an empty database")

func (c *cli) cmdRestore(ctx context.Context, args []string) error {
	fs := c.flags("restore", "restore [--keys KEYSDIR] DIR\n\n"+
		"Checks every file of the backup DIR against its manifest (SHA-256), then fills an empty\n"+
		"data folder (it may already hold the vault folder) and an empty database: the keys first,\n"+
		"then the database. Linked WhatsApp devices come back marked 'link again': their old keys\n"+
		"are not restored. Afterwards run 'tresor audit verify' and 'tresor vault verify'.\n\n"+envVars)
	keys := fs.String("keys", "", "the backup's keys/ folder, when it is kept apart from DIR")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("need exactly one backup folder")
	}
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		return err
	}
	b, err := backup.Open(fs.Arg(0), *keys)
	if err != nil {
		return err
	}
	return c.restore(ctx, cfg, b)
}

// restoreKeys maps the backup's key files to where the configuration
// keeps them.
func restoreKeys(cfg config) []struct{ rel, dst string } {
	return []struct{ rel, dst string }{
		{backupSecretKey, cfg.SecretKeyFile}, {backupWAKey, cfg.WAKeyFile},
		{backupAuditKey, cfg.AuditKeyFile}, {backupAuditPub, cfg.AuditKeyFile + ".pub"},
		{backupRecipients, cfg.RecipientsFile},
	}
}

func (c *cli) restore(ctx context.Context, cfg config, b *backup.Backup) (err error) {
	dialect, dsn, err := sqlstore.ParseURL(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if string(dialect) != b.Manifest.Database {
		return fmt.Errorf("the backup holds a %s database, but TRESOR_DATABASE_URL names %s: restore into the same kind of database", b.Manifest.Database, dialect)
	}
	// Everything is checked before anything is written, so that a refused
	// restore leaves the place as empty as it found it.
	if err := emptyDataDir(cfg); err != nil {
		return err
	}
	for _, k := range restoreKeys(cfg) {
		if ok, err := exists(k.dst); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%w: %s exists", errNotEmptyTarget, k.dst)
		}
	}
	var sqlitePath string
	var pg *sqlstore.Store
	var tool pgTool
	switch dialect {
	case sqlstore.SQLite:
		sqlitePath, _, _ = strings.Cut(dsn, "?")
		for _, p := range []string{sqlitePath, sqlitePath + "-wal", sqlitePath + ".restoring"} {
			if ok, err := exists(p); err != nil {
				return err
			} else if ok {
				return fmt.Errorf("%w: %s exists (if an earlier restore was interrupted, delete it)", errNotEmptyTarget, p)
			}
		}
	case sqlstore.Postgres:
		if pg, tool, err = c.openEmptyPostgres(ctx, cfg); err != nil {
			return err
		}
		defer closeStore(pg, &err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("failed to create the data folder: %w", err)
	}
	// The keys first: a database without its keys would make the next
	// 'tresor init' or 'serve' create new ones, which cannot read what
	// the database holds.
	for _, k := range restoreKeys(cfg) {
		if err := os.MkdirAll(filepath.Dir(k.dst), 0o700); err != nil {
			return fmt.Errorf("failed to create %s: %w", filepath.Dir(k.dst), err)
		}
		if err := b.CopyTo(k.rel, k.dst); err != nil {
			return err
		}
	}
	if dialect == sqlstore.SQLite {
		return c.restoreSQLite(ctx, cfg, b, sqlitePath)
	}
	return c.restorePostgres(ctx, cfg, b, pg, tool)
}

// openEmptyPostgres opens the configured PostgreSQL database, refuses it
// unless it is empty, and finds a pg_restore that can load into it.
func (c *cli) openEmptyPostgres(ctx context.Context, cfg config) (*sqlstore.Store, pgTool, error) {
	s, err := c.openStore(ctx, cfg, false)
	if err != nil {
		return nil, pgTool{}, err
	}
	fail := func(err error) (*sqlstore.Store, pgTool, error) {
		return nil, pgTool{}, errors.Join(err, s.Close())
	}
	if err := s.CheckEmpty(ctx); err != nil {
		if errors.Is(err, sqlstore.ErrNotEmpty) {
			return fail(fmt.Errorf("%w: %v (create a new database, or drop and create this one, then run the restore again)", errNotEmptyTarget, err))
		}
		return fail(err)
	}
	major, err := s.ServerVersion(ctx)
	if err != nil {
		return fail(err)
	}
	tool, err := findPGTool(ctx, "pg_restore", major)
	if err != nil {
		return fail(err)
	}
	return s, tool, nil
}

// emptyDataDir refuses a data folder holding anything but the vault.
func emptyDataDir(cfg config) error {
	entries, err := os.ReadDir(cfg.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to look at the data folder: %w", err)
	}
	for _, e := range entries {
		if filepath.Join(cfg.DataDir, e.Name()) == filepath.Clean(cfg.VaultDir) {
			continue
		}
		return fmt.Errorf("%w: the data folder %s holds %s (restore into a new, empty folder; if an earlier restore was interrupted, empty it and the database first)",
			errNotEmptyTarget, cfg.DataDir, e.Name())
	}
	return nil
}

// restoreSQLite restores into DB.restoring, completes the restore there
// and renames it into place: the database appears complete or not at all.
func (c *cli) restoreSQLite(ctx context.Context, cfg config, b *backup.Backup, path string) (err error) {
	tmp := path + ".restoring"
	defer func() {
		if err != nil {
			for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
				if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
					err = errors.Join(err, rerr)
				}
			}
		}
	}()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("failed to create the database folder: %w", err)
	}
	if err := b.CopyTo(b.Manifest.DatabaseFile, tmp); err != nil {
		return err
	}
	s, err := sqlstore.Open(ctx, "sqlite:"+tmp, sqlstore.Options{Log: c.stderr})
	if err != nil {
		return err
	}
	if err := c.completeRestore(ctx, cfg, s, b); err != nil {
		return errors.Join(err, s.Close())
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("failed to close the restored database: %w", err)
	}
	// Closing the last connection folds the log into the file; a log
	// left beside it would be lost by the rename.
	if st, err := os.Stat(tmp + "-wal"); err == nil && st.Size() > 0 {
		return fmt.Errorf("the restored database's log %s-wal was not folded in; run the restore again", tmp)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("failed to move the restored database into place: %w", err)
	}
	return syncPath(filepath.Dir(path))
}

// restorePostgres loads the dump into the empty database s in one
// transaction, without the data of whatsmeow's device tables.
func (c *cli) restorePostgres(ctx context.Context, cfg config, b *backup.Backup, s *sqlstore.Store, tool pgTool) (err error) {
	archive := b.Path(b.Manifest.DatabaseFile)
	list, err := tool.restoreList(ctx, archive)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tresor-restore-")
	if err != nil {
		return fmt.Errorf("failed to create a temporary folder: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = rerr
		}
	}()
	listFile := filepath.Join(dir, "toc.list")
	if err := writeNew(listFile, list, 0o600); err != nil {
		return err
	}
	if err := tool.run(ctx, cfg.DatabaseURL, "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
		"--use-list="+listFile, archive); err != nil {
		return err
	}
	return c.completeRestore(ctx, cfg, s, b)
}

// completeRestore brings the restored schema up to this build, discards
// every WhatsApp device key, marks the devices for linking again and
// records the restore in the audit log.
func (c *cli) completeRestore(ctx context.Context, cfg config, s *sqlstore.Store, b *backup.Backup) error {
	applied, err := s.Migrate(ctx, c.now())
	for _, v := range applied {
		fmt.Fprintf(c.stdout, "applied migration %d\n", v)
	}
	if err != nil {
		return err
	}
	if err := c.migrateDeviceStore(ctx, s); err != nil {
		return err
	}
	pol, err := loadPolicy(cfg)
	if err != nil {
		return err
	}
	db, err := s.SQLDB()
	if err != nil {
		return err
	}
	svc := incident.NewService(s, pol, nil, nil, incident.WithClock(c.now))
	relink, err := svc.RecordRestore(ctx, s, func(ctx context.Context) error {
		return wa.ForgetAllDevices(ctx, db, string(s.Dialect()))
	}, incident.BackupInfo{ManifestSHA256: b.ManifestSHA256, Files: len(b.Manifest.Files), Receipts: b.Manifest.Receipts})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "restored the %s database of %s (%d receipt(s)) and its keys into %s\n",
		b.Manifest.Database, b.Manifest.CreatedAt.Format("2006-01-02 15:04"), b.Manifest.Receipts, cfg.DataDir)
	if relink > 0 {
		fmt.Fprintf(c.stdout, "%d WhatsApp device(s) must be linked again: their old keys were not restored\n", relink)
	}
	fmt.Fprintln(c.stdout, "next: 'tresor audit verify', and 'tresor vault verify' of the bundles (receipts in the backup's receipts/ folder)")
	return nil
}

// syncPath fsyncs a folder so that a rename in it is durable.
func syncPath(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("failed to sync %s: %w", dir, err)
	}
	return nil
}
