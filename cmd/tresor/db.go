package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/wa"
)

// openStore opens the configured database. When checkSchema is set it
// refuses a stale schema with a message that says what to run.
func (c *cli) openStore(ctx context.Context, cfg config, checkSchema bool) (*sqlstore.Store, error) {
	s, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{Logger: c.logger(cfg)})
	if err != nil {
		if errors.Is(err, incident.ErrUnavailable) {
			return nil, fmt.Errorf("%w (is the database running, and is TRESOR_DATABASE_URL right?)", err)
		}
		return nil, err
	}
	if checkSchema {
		if err := s.CheckSchema(ctx); err != nil {
			_ = s.Close() // the schema error is the one to report
			return nil, err
		}
	}
	return s, nil
}

// loadPolicy reads the embedded defaults with the configured overrides.
func loadPolicy(cfg config) (*policies.Policy, error) {
	p, err := policies.Load(cfg.PolicyDir)
	if err != nil {
		return nil, fmt.Errorf("failed to load policy: %w", err)
	}
	return p, nil
}

// withService runs fn with the workflow service of an administrative
// command and closes the database afterwards.
func (c *cli) withService(ctx context.Context, fn func(svc *incident.Service, s *sqlstore.Store, cfg config) error) error {
	return c.withStore(ctx, true, func(s *sqlstore.Store, cfg config) error {
		pol, err := loadPolicy(cfg)
		if err != nil {
			return err
		}
		return fn(incident.NewService(s, pol, nil, nil, incident.WithClock(c.now)), s, cfg)
	})
}

// withStore runs fn with the configured database (its schema checked when
// checkSchema is set) and closes it afterwards.
func (c *cli) withStore(ctx context.Context, checkSchema bool, fn func(s *sqlstore.Store, cfg config) error) (err error) {
	cfg, err := loadConfig(c.getenv)
	if err != nil {
		return err
	}
	s, err := c.openStore(ctx, cfg, checkSchema)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	return fn(s, cfg)
}

// closeStore closes s, reporting a failure only if nothing else failed.
func closeStore(s *sqlstore.Store, err *error) {
	if cerr := s.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("failed to close database: %w", cerr)
	}
}

func (c *cli) cmdMigrate(ctx context.Context, args []string) error {
	fs := c.flags("migrate", "migrate [--status]\n\nApplies pending database migrations, each in its own transaction, and\nupgrades the WhatsApp device store (whatsmeow's tables). Run it as the\ndatabase role that owns the tables; serve only checks the versions.\n\n"+envVars)
	status := fs.Bool("status", false, "only print the schema version")
	if err := parse(fs, args); err != nil {
		return err
	}
	return c.withStore(ctx, false, func(s *sqlstore.Store, _ config) error {
		return c.migrate(ctx, s, *status)
	})
}

func (c *cli) migrate(ctx context.Context, s *sqlstore.Store, status bool) error {
	if status {
		v, err := s.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "schema version %d, this build needs %d\n", v, sqlstore.LatestVersion())
		db, err := s.SQLDB()
		if err != nil {
			return err
		}
		wv, err := wa.DeviceStoreSchema(ctx, db, string(s.Dialect()))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "WhatsApp device store version %d, this build needs %d\n", wv, wa.DeviceStoreVersion())
		return nil
	}
	applied, err := s.Migrate(ctx, c.now())
	for _, v := range applied {
		fmt.Fprintf(c.stdout, "applied migration %d\n", v)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(c.stdout, "schema is up to date (version %d)\n", sqlstore.LatestVersion())
	}
	return c.migrateDeviceStore(ctx, s)
}

// migrateDeviceStore runs whatsmeow's own upgrades of its tables, which
// serve no longer runs (wa.OpenDeviceStore refuses a stale version).
func (c *cli) migrateDeviceStore(ctx context.Context, s *sqlstore.Store) error {
	db, err := s.SQLDB()
	if err != nil {
		return err
	}
	from, to, err := wa.MigrateDeviceStore(ctx, db, string(s.Dialect()))
	if err != nil {
		return err
	}
	if from != to {
		fmt.Fprintf(c.stdout, "upgraded the WhatsApp device store from version %d to %d\n", from, to)
	} else {
		fmt.Fprintf(c.stdout, "WhatsApp device store is up to date (version %d)\n", to)
	}
	return nil
}
