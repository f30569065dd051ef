package main

import (
	"context"
	"fmt"
	"mime"
	"os"
	"path/filepath"

	"golang.org/x/text/unicode/norm"

	"github.com/tresor-evidence/tresor/vault"
)

// cmdVaultSeal seals local files: an administration and test tool. The
// service seals evidence through the vault package directly.
func (c *cli) cmdVaultSeal(ctx context.Context, args []string) error {
	fs := c.flags("vault seal", "vault seal --incident ID --category C [--metadata-only] [--receipt FILE] [--data DIR] [FILE...]")
	incident := fs.String("incident", "", "incident `ID` recorded in the manifest")
	category := fs.String("category", "", "incident `CATEGORY` recorded in the manifest")
	metaOnly := fs.Bool("metadata-only", false, "seal the manifest only, no content")
	receipt := fs.String("receipt", "", "also write the receipt (JSON) to `FILE`")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *incident == "" || *category == "" {
		return usageError("need --incident and --category")
	}
	if *metaOnly != (fs.NArg() == 0) {
		return usageError("give FILE arguments, or --metadata-only and none")
	}
	v, err := c.openVault(ctx, vf, true)
	if err != nil {
		return err
	}
	var parts []vault.Part
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("failed to open part: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("failed to open part: %w", err)
		}
		size := int64(-1)
		if fi.Mode().IsRegular() {
			size = fi.Size()
		}
		mt := mime.TypeByExtension(filepath.Ext(name))
		if mt == "" {
			mt = "application/octet-stream"
		}
		// File systems may hand names over decomposed (macOS): the
		// manifest keeps the one NFC spelling.
		parts = append(parts, vault.Part{Name: norm.NFC.String(filepath.Base(name)), MediaType: mt, Size: size, R: f})
	}
	rc, err := v.Seal(ctx, vault.Manifest{IncidentID: *incident, Category: *category, MetadataOnly: *metaOnly}, parts...)
	if err != nil {
		return err
	}
	data, err := vault.MarshalReceipt(rc)
	if err != nil {
		return err
	}
	if *receipt != "" {
		if err := writeNewFile(*receipt, string(data)+"\n"); err != nil {
			return fmt.Errorf("failed to write receipt: %w", err)
		}
	}
	fmt.Fprintln(c.stdout, rc.BundleID)
	return nil
}
