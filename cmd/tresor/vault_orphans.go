package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

// bundleStatuses reads from the configured database which bundles the
// workflow announced but never recorded (orphans, see incident.SweepOrphans),
// for `vault list`. A vault used without a database (a SQLite file that
// does not exist) has none; a database that cannot be read is reported on
// stderr and the list goes on unmarked, since listing needs only the vault.
func (c *cli) bundleStatuses(ctx context.Context, vf *vaultFlags) map[string]incident.BundleStatus {
	cfg, err := vf.config(c)
	if err != nil {
		return nil
	}
	if d, path, err := sqlstore.ParseURL(cfg.DatabaseURL); err == nil && d == sqlstore.SQLite {
		if _, err := os.Stat(path); err != nil {
			return nil
		}
	}
	out, err := c.readBundleStatuses(ctx, cfg)
	if err != nil {
		fmt.Fprintf(c.stderr, "tresor: orphans are not marked: %v\n", err)
		return nil
	}
	return out
}

func (c *cli) readBundleStatuses(ctx context.Context, cfg config) (_ map[string]incident.BundleStatus, err error) {
	s, err := c.openStore(ctx, cfg, true)
	if err != nil {
		return nil, err
	}
	defer closeStore(s, &err)
	pol, err := loadPolicy(cfg)
	if err != nil {
		return nil, err
	}
	return incident.NewService(s, pol, nil, nil, incident.WithClock(c.now)).BundleStatuses(ctx, incident.System)
}
