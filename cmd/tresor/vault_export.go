package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tresor-evidence/tresor/vault"
)

func (c *cli) cmdVaultExport(ctx context.Context, args []string) error {
	fs := c.flags("vault export", "vault export -o DIR [--receipt FILE] [--audit FILE] [--data DIR] ID")
	out := fs.String("o", "", "write ID.age, custody.json and custody.html into `DIR`")
	receipt := fs.String("receipt", "", "check against and include the receipt (JSON) in `FILE`")
	audit := fs.String("audit", "", "include the audit entries (JSON array) in `FILE`")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ids, err := needIDs(fs, 1, 1)
	if err != nil {
		return err
	}
	if *out == "" {
		return usageError("need -o DIR")
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
	v, err := c.openVault(vf, false)
	if err != nil {
		return err
	}
	cr, err := v.Export(ctx, ids[0], *out, vault.ExportOptions{Receipt: want, Audit: records})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s: exported %s (sha256 %s, %d bytes) with custody.json and custody.html to %s\n",
		cr.BundleID, cr.FileName, cr.CiphertextSHA256, cr.CiphertextSize, *out)
	return nil
}
