package main

import (
	"context"
	"fmt"

	"github.com/tresor-evidence/tresor/vault"
)

func (c *cli) cmdVaultRewrap(ctx context.Context, args []string) error {
	fs := c.flags("vault rewrap", "vault rewrap --identity FILE [--recipients FILE] [--data DIR] (--all | ID...)")
	identity := fs.String("identity", "", "decrypt with the identity in `FILE` (run offline)")
	all := fs.Bool("all", false, "rewrap every bundle in the vault")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *all == (fs.NArg() > 0) {
		return usageError("give bundle IDs or --all")
	}
	ids := fs.Args()
	if !*all {
		var err error
		if ids, err = needIDs(fs, 1, 0); err != nil {
			return err
		}
	}
	idents, err := readIdentity(*identity)
	if err != nil {
		return err
	}
	v, err := c.openVault(ctx, vf, true)
	if err != nil {
		return err
	}
	if *all {
		if err := v.List(ctx, func(id string) error {
			ids = append(ids, id)
			return nil
		}); err != nil {
			return err
		}
	}
	for _, id := range ids {
		rec, err := v.Rewrap(ctx, id, idents)
		if err != nil {
			return fmt.Errorf("failed to rewrap %s: %w", id, err)
		}
		if err := printJSON(c.stdout, rewrapJSON(rec)); err != nil {
			return err
		}
	}
	return nil
}

func rewrapJSON(r vault.RewrapRecord) map[string]any {
	return map[string]any{
		"bundle_id":             r.BundleID,
		"old_ciphertext_sha256": r.OldCiphertextSHA256,
		"old_ciphertext_size":   r.OldCiphertextSize,
		"new_ciphertext_sha256": r.NewCiphertextSHA256,
		"new_ciphertext_size":   r.NewCiphertextSize,
		"manifest_sha256":       r.ManifestSHA256,
		"old_recipient_stanzas": r.OldStanzaTypes,
		"new_recipients":        r.NewRecipients,
		"rewrapped_at":          r.RewrappedAt,
	}
}
