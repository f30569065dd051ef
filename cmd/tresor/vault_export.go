package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/vault"
)

func (c *cli) cmdVaultExport(ctx context.Context, args []string) error {
	fs := c.flags("vault export", "vault export -o DIR [--receipt FILE] [--audit FILE] [--data DIR] ID\n"+
		"       tresor vault export -o DIR --incident INCIDENT\n\n"+
		"With --incident, the receipt and the incident's audit entries come from the database.")
	out := fs.String("o", "", "write ID.age, custody.json and custody.html into `DIR`")
	receipt := fs.String("receipt", "", "check against and include the receipt (JSON) in `FILE`")
	audit := fs.String("audit", "", "include the audit entries (JSON array) in `FILE`")
	incidentID := fs.String("incident", "", "export the bundle of this incident, with its receipt and audit entries from the database")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError("need -o DIR")
	}
	if *incidentID != "" {
		if fs.NArg() != 0 || *receipt != "" || *audit != "" {
			return usageError("--incident takes no ID, --receipt or --audit")
		}
		id, want, records, err := c.incidentEvidence(ctx, *incidentID)
		if err != nil {
			return err
		}
		return c.exportBundle(ctx, vf, id, *out, vault.ExportOptions{Receipt: want, Audit: records})
	}
	ids, err := needIDs(fs, 1, 1)
	if err != nil {
		return err
	}
	want, err := readReceipt(*receipt)
	if err != nil {
		return err
	}
	var records []vault.AuditRecord
	if *audit != "" {
		data, err := os.ReadFile(*audit)
		if err != nil {
			return fmt.Errorf("failed to read audit entries: %w", err)
		}
		if records, err = vault.UnmarshalAudit(data); err != nil {
			return err
		}
	}
	return c.exportBundle(ctx, vf, ids[0], *out, vault.ExportOptions{Receipt: want, Audit: records})
}

func (c *cli) exportBundle(ctx context.Context, vf *vaultFlags, id, out string, opt vault.ExportOptions) error {
	v, err := c.openVault(ctx, vf, false)
	if err != nil {
		return err
	}
	cr, err := v.Export(ctx, id, out, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s: exported %s (sha256 %s, %d bytes) with custody.json and custody.html to %s\n",
		cr.BundleID, cr.FileName, cr.CiphertextSHA256, cr.CiphertextSize, out)
	return nil
}

// incidentEvidence reads an incident's receipt and audit trail from the
// database, as the workflow recorded them.
func (c *cli) incidentEvidence(ctx context.Context, incidentID string) (id string, want *vault.Receipt, records []vault.AuditRecord, err error) {
	err = c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, _ config) error {
		inc, err := svc.Incident(ctx, incident.System, incidentID)
		if err != nil {
			return err
		}
		if inc.Receipt == nil || inc.DestroyedAt != nil {
			return fmt.Errorf("%w: incident %s has no evidence in the vault", incident.ErrInvalidTransition, incidentID)
		}
		r := inc.Receipt
		id, want = r.BundleID, &vault.Receipt{BundleID: r.BundleID, CiphertextSHA256: r.CiphertextSHA256,
			CiphertextSize: r.CiphertextSize, ManifestSHA256: r.ManifestSHA256, Recipients: r.Recipients, SealedAt: r.SealedAt}
		trail, err := svc.Trail(ctx, incident.Actor{ID: "cli", Role: incident.RoleAuditor}, incident.AuditFilter{IncidentID: incidentID})
		if err != nil {
			return err
		}
		for _, e := range trail {
			records = append(records, vault.AuditRecord{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Action: e.Action, Details: e.Details})
		}
		return nil
	})
	return id, want, records, err
}
