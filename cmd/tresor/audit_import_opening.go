package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

// cmdAuditImportOpening appends the opening record that `vault open
// --offline` printed, marked as imported with the time of the opening.
// A record imported before is refused (incident.ErrAlreadyImported).
func (c *cli) cmdAuditImportOpening(ctx context.Context, args []string) error {
	fs := c.flags("audit import-opening", "audit import-opening [FILE]\n\n"+
		"Appends an offline opening record (printed by 'tresor vault open --offline')\n"+
		"to the audit log, marked as imported. Reads FILE, or standard input.\n"+
		"A record that is in the audit log already is refused and appends nothing.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usageError("at most one FILE")
	}
	var r io.Reader = c.stdin
	if fs.NArg() == 1 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("failed to open the opening record: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, 1<<16+1))
	if err != nil {
		return fmt.Errorf("failed to read the opening record: %w", err)
	}
	if len(data) > 1<<16 {
		return fmt.Errorf("%w: an opening record has at most 64 KiB", incident.ErrInvalidInput)
	}
	var rec openingRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return fmt.Errorf("%w: not an opening record (%v): give the JSON that 'tresor vault open --offline' printed", incident.ErrInvalidInput, err)
	}
	if rec.Format != openingRecordFormat {
		return fmt.Errorf("%w: not an opening record (format %q)", incident.ErrInvalidInput, rec.Format)
	}
	if rec.OpenedAt.IsZero() {
		return fmt.Errorf("%w: the record has no opening time", incident.ErrInvalidInput)
	}
	return c.withStore(ctx, true, func(s *sqlstore.Store, cfg config) error {
		pol, err := loadPolicy(cfg)
		if err != nil {
			return err
		}
		svc := incident.NewService(s, pol, nil, nil, incident.WithClock(c.now))
		err = svc.RecordOpening(ctx, incident.Opening{BundleID: rec.BundleID, IncidentID: rec.IncidentID,
			Keys: rec.Keys, Operator: rec.Operator, OpenedAt: rec.OpenedAt, Imported: true})
		if errors.Is(err, incident.ErrAlreadyImported) {
			return fmt.Errorf("the opening of bundle %s at %s is in the audit log already, nothing was appended: %w",
				rec.BundleID, rec.OpenedAt.UTC().Format(time.RFC3339), err)
		}
		if err != nil {
			return fmt.Errorf("failed to import the opening record: %w", err)
		}
		fmt.Fprintf(c.stdout, "imported the opening of bundle %s\n", rec.BundleID)
		return nil
	})
}
