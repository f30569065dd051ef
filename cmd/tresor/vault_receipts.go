package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tresor-evidence/tresor/incident"
)

// errNoDatabase: the configured SQLite database does not exist, so no
// receipt can be read (and none is created by looking).
var errNoDatabase = errors.New("no database")

// withVaultService runs fn with the service on the configured database
// (the --data folder's when given), its schema checked. A SQLite file
// that does not exist is errNoDatabase, never created.
func (c *cli) withVaultService(ctx context.Context, vf *vaultFlags, fn func(svc *incident.Service) error) (err error) {
	cfg, err := vf.config(c)
	if err != nil {
		return err
	}
	if path, ok := strings.CutPrefix(cfg.DatabaseURL, "sqlite:"); ok {
		path, _, _ = strings.Cut(strings.TrimPrefix(path, "file:"), "?")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w at %s", errNoDatabase, path)
		}
	}
	s, err := c.openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	pol, err := loadPolicy(cfg)
	if err != nil {
		return err
	}
	return fn(incident.NewService(s, pol, nil, nil, incident.WithClock(c.now)))
}

// vaultCLI is the actor the vault commands read receipts as.
var vaultCLI = incident.Actor{ID: "cli", Role: incident.RoleAuditor}

// receiptsByBundle returns the incidents whose receipts refer to a bundle
// still in the vault, by bundle id.
func receiptsByBundle(ctx context.Context, svc *incident.Service) (map[string]incident.Incident, error) {
	incs, err := svc.Incidents(ctx, vaultCLI, incident.IncidentFilter{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]incident.Incident)
	for _, inc := range incs {
		if inc.Receipt != nil && inc.DestroyedAt == nil {
			out[inc.Receipt.BundleID] = inc
		}
	}
	return out, nil
}
