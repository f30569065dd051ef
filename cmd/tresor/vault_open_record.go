package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

// openingRecordFormat names the offline opening record's format.
const openingRecordFormat = "tresor-opening-record/v1"

// openingRecord is what `vault open --offline` prints and `audit
// import-opening` appends: an opening that happened without the database.
type openingRecord struct {
	Format     string    `json:"format"`
	BundleID   string    `json:"bundle_id"`
	IncidentID string    `json:"incident_id,omitempty"`
	Keys       []string  `json:"keys"`
	Operator   string    `json:"operator"`
	OpenedAt   time.Time `json:"opened_at"`
}

// openingRecorder records a bundle's opening: in the audit log when the
// database is reachable, else (only with --offline) as a printed record.
type openingRecorder struct {
	c        *cli
	offline  bool
	operator string
	keys     []string
	store    *sqlstore.Store
	svc      *incident.Service
}

// newOpeningRecorder connects to the database unless offline; an opening
// that cannot be recorded does not happen.
func (c *cli) newOpeningRecorder(ctx context.Context, vf *vaultFlags, offline bool, operator string, keys []string) (*openingRecorder, error) {
	if operator == "" {
		return nil, usageError("--operator USERNAME is required: the opening is recorded under your Tresor account")
	}
	r := &openingRecorder{c: c, offline: offline, operator: operator, keys: keys}
	if offline {
		return r, nil
	}
	cfg, err := vf.config(c)
	if err != nil {
		return nil, err
	}
	s, err := c.openStore(ctx, cfg, true)
	if err != nil {
		return nil, fmt.Errorf("cannot record the opening in the audit log: %w; without the database, use --offline and append the printed record later with 'tresor audit import-opening'", err)
	}
	pol, err := loadPolicy(cfg)
	if err != nil {
		_ = s.Close() // the policy error is the one to report
		return nil, err
	}
	r.store, r.svc = s, incident.NewService(s, pol, nil, nil, incident.WithClock(c.now))
	return r, nil
}

// record appends the audit entry (online) before any part is handed out.
func (r *openingRecorder) record(ctx context.Context, bundleID, incidentID string) error {
	if r.offline {
		return nil
	}
	err := r.svc.RecordOpening(ctx, incident.Opening{BundleID: bundleID, IncidentID: incidentID, Keys: r.keys, Operator: r.operator})
	if err != nil {
		return fmt.Errorf("cannot record the opening in the audit log, nothing was written: %w", err)
	}
	return nil
}

// finish prints the offline record on standard output.
func (r *openingRecorder) finish(bundleID, incidentID string) error {
	if !r.offline {
		return nil
	}
	data, err := json.MarshalIndent(openingRecord{
		Format: openingRecordFormat, BundleID: bundleID, IncidentID: incidentID,
		Keys: r.keys, Operator: r.operator, OpenedAt: r.c.now().UTC().Truncate(time.Second),
	}, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(r.c.stderr, "tresor: opened offline: keep the opening record below and append it with 'tresor audit import-opening' as soon as the database is reachable")
	_, err = fmt.Fprintf(r.c.stdout, "%s\n", data)
	return err
}

func (r *openingRecorder) close() error {
	if r.store == nil {
		return nil
	}
	if err := r.store.Close(); err != nil {
		return fmt.Errorf("failed to close database: %w", err)
	}
	return nil
}
