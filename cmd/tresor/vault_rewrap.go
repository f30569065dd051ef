package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/s3backend"
)

func (c *cli) cmdVaultRewrap(ctx context.Context, args []string) error {
	fs := c.flags("vault rewrap", "vault rewrap --identity FILE [--recipients FILE] [--data DIR] [--without-database] (--all | ID...)\n\n"+
		"Re-encrypts bundles to the current recipients (key rotation) and updates each bundle's receipt in\n"+
		"the database, with an audit entry, so that verify and export keep finding it intact. A bundle whose\n"+
		"receipt already names the current recipients is skipped; one the identity cannot open is listed\n"+
		"and the others go on; one that no longer matches its receipt is never rewrapped, unless it holds\n"+
		"exactly the ciphertext an interrupted run announced before replacing it: then its receipt is completed.")
	identity := fs.String("identity", "", "decrypt with the identity in `FILE` (bring it on offline media)")
	all := fs.Bool("all", false, "rewrap every bundle in the vault")
	noDB := fs.Bool("without-database", false, "rewrap without updating receipts: only for a vault whose bundles no receipt refers to ('vault seal')")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if *all == (fs.NArg() > 0) {
		return usageError("give bundle IDs or --all")
	}
	ids, err := needIDs(fs, 0, 0)
	if err != nil {
		return err
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
	if *noDB {
		return c.rewrapAll(ctx, v, ids, idents, nil, nil)
	}
	err = c.withVaultService(ctx, vf, func(svc *incident.Service) error {
		known, err := receiptsByBundle(ctx, svc)
		if err != nil {
			return err
		}
		return c.rewrapAll(ctx, v, ids, idents, svc, known)
	})
	if errors.Is(err, errNoDatabase) {
		return fmt.Errorf("rewrap updates the bundles' receipts in the database: %w (give --data DIR or TRESOR_DATABASE_URL; --without-database only for bundles no receipt refers to)", err)
	}
	return err
}

// rewrapAll rewraps each bundle and records it on its receipt (svc nil:
// no database). Bundles the identity cannot open are listed at the end.
func (c *cli) rewrapAll(ctx context.Context, v *vault.Vault, ids []string, idents []vault.Identity, svc *incident.Service, known map[string]incident.Incident) error {
	current := v.Recipients()
	var unopened, failed []string
	rewrapped, skipped := 0, 0
	for _, id := range ids {
		inc, hasReceipt := known[id]
		if hasReceipt && sameSet(inc.Receipt.Recipients, current) {
			fmt.Fprintf(c.stderr, "tresor: %s: skipped, its receipt already names the current recipients\n", id)
			skipped++
			continue
		}
		rctx := ctx
		if hasReceipt {
			// Never re-encrypt (and so launder) a bundle that is not the
			// one its receipt describes.
			want := vaultReceipt(*inc.Receipt)
			if _, err := v.Verify(ctx, id, &want); err != nil {
				// Unless a rewrap replaced it and died before
				// recording it: the domain completes the receipt for
				// exactly the ciphertext that rewrap announced.
				rc, cerr := c.completeRewrap(ctx, v, svc, inc, id)
				if cerr != nil {
					fmt.Fprintf(c.stderr, "tresor: %s: FAILED, not rewrapped: %v (checked against the database's receipt, incident %s)\n", id, errors.Join(err, cerr), inc.ID)
					failed = append(failed, id)
					continue
				}
				fmt.Fprintf(c.stderr, "tresor: %s: receipt (incident %s) completed for the rewrap interrupted before it was recorded\n", id, inc.ID)
				inc.Receipt = &rc
				if sameSet(rc.Recipients, current) {
					if err := printJSON(c.stdout, map[string]any{"bundle_id": id, "incident_id": inc.ID, "receipt_updated": true,
						"completed_after_interruption": true, "new_ciphertext_sha256": rc.CiphertextSHA256}); err != nil {
						return err
					}
					rewrapped++
					continue
				}
			}
			if inc.RetentionUntil != nil && inc.RetentionUntil.After(c.now()) {
				// The new version is kept by Object Lock as long as the
				// old one was meant to be.
				rctx = s3backend.WithRetainUntil(ctx, *inc.RetentionUntil)
			}
		}
		var announce func(context.Context, vault.RewrapRecord) error
		if hasReceipt {
			announce = func(ctx context.Context, rec vault.RewrapRecord) error {
				return svc.AnnounceRewrap(ctx, incident.System, inc.ID, rewrapOf(rec))
			}
		}
		rec, err := v.RewrapAnnounced(rctx, id, idents, announce)
		if err == nil && c.afterRewrapReplace != nil {
			err = c.afterRewrapReplace(id)
		}
		if errors.Is(err, vault.ErrRetention) && rec.NewCiphertextSHA256 != "" {
			// The bundle is replaced; Object Lock keeps its old version
			// until the retention ends. The receipt must follow.
			fmt.Fprintf(c.stderr, "tresor: %s: %v\n", id, err)
			err = nil
		}
		switch {
		case errors.Is(err, vault.ErrNoIdentity):
			unopened = append(unopened, id)
			continue
		case err != nil:
			fmt.Fprintf(c.stderr, "tresor: %s: FAILED: %v\n", id, err)
			failed = append(failed, id)
			continue
		}
		out := rewrapJSON(rec)
		switch {
		case hasReceipt:
			_, err := svc.RecordRewrap(ctx, incident.System, inc.ID, rewrapOf(rec))
			if err != nil {
				// The bundle is rewrapped but its receipt is not: say so
				// loudly, verify will report it altered.
				fmt.Fprintf(c.stderr, "tresor: %s: rewrapped, but its receipt (incident %s) was NOT updated: %v\n", id, inc.ID, err)
				failed = append(failed, id)
			} else {
				out["receipt_updated"], out["incident_id"] = true, inc.ID
			}
		case svc != nil:
			out["receipt_updated"] = false // no receipt refers to it
		}
		if err := printJSON(c.stdout, out); err != nil {
			return err
		}
		rewrapped++
	}
	fmt.Fprintf(c.stderr, "tresor: %d rewrapped, %d skipped, %d not opened, %d failed\n", rewrapped, skipped, len(unopened), len(failed))
	for _, id := range unopened {
		fmt.Fprintf(c.stderr, "tresor: %s: not rewrapped, the identity cannot open it\n", id)
	}
	if len(unopened)+len(failed) > 0 {
		return fmt.Errorf("%d of %d bundles not rewrapped", len(unopened)+len(failed), len(ids))
	}
	return nil
}

// completeRewrap asks the domain to complete inc's receipt for the
// ciphertext bundle id holds now (see incident.CompleteInterruptedRewrap).
func (c *cli) completeRewrap(ctx context.Context, v *vault.Vault, svc *incident.Service, inc incident.Incident, id string) (incident.Receipt, error) {
	got, err := v.Verify(ctx, id, nil)
	if err != nil {
		return incident.Receipt{}, err
	}
	return svc.CompleteInterruptedRewrap(ctx, incident.System, inc.ID, id, got.CiphertextSHA256, got.CiphertextSize)
}

func rewrapOf(rec vault.RewrapRecord) incident.Rewrap {
	return incident.Rewrap{BundleID: rec.BundleID, OldCiphertextSHA256: rec.OldCiphertextSHA256,
		NewCiphertextSHA256: rec.NewCiphertextSHA256, NewCiphertextSize: rec.NewCiphertextSize,
		ManifestSHA256: rec.ManifestSHA256, Recipients: rec.NewRecipients}
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
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
