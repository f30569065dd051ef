package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/vault"
)

// evidenceVault adapts *vault.Vault to the incident.Vault port.
type evidenceVault struct{ v *vault.Vault }

var _ incident.Vault = evidenceVault{}

func (e evidenceVault) Seal(ctx context.Context, bundleID string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
	vm := vault.Manifest{
		BundleID: bundleID, IncidentID: m.IncidentID, Category: m.Category, MetadataOnly: m.MetadataOnly, CapturedAt: m.CapturedAt,
		Message: vault.Message{ID: m.Message.ID, Chat: m.Message.Chat, Sender: m.Message.Sender, SentAt: m.Message.SentAt,
			MediaType: m.Message.MediaType, FileName: m.Message.FileName, WhatsAppFileSHA256: m.Message.FileSHA256, Size: m.Message.Size,
			SeenChat: m.Message.Seen.Chat, ReceivedAt: m.Message.Seen.ReceivedAt, Kind: string(m.Message.Seen.Kind)},
	}
	vp := make([]vault.Part, len(parts))
	for i, p := range parts {
		vp[i] = vault.Part{Name: p.Name, MediaType: p.MediaType, Size: p.Size, SHA256: p.SHA256, WhatsAppSHA256: p.WhatsAppSHA256, R: p.Content}
	}
	rc, err := e.v.Seal(ctx, vm, vp...)
	if errors.Is(err, vault.ErrExists) {
		// The workflow seals an incident's bundle id again only when no
		// receipt refers to it: a crashed attempt left it. Replace it.
		if _, derr := e.v.Destroy(ctx, bundleID); derr != nil {
			return incident.Receipt{}, fmt.Errorf("failed to remove the bundle of a crashed attempt: %w", derr)
		}
		rc, err = e.v.Seal(ctx, vm, vp...)
	}
	if errors.Is(err, vault.ErrStorageFull) {
		return incident.Receipt{}, fmt.Errorf("%w: %w", incident.ErrStorageFull, err)
	}
	if err != nil {
		return incident.Receipt{}, err
	}
	mismatch := false
	for _, p := range rc.Parts {
		mismatch = mismatch || p.WhatsAppHashMismatch
	}
	return incident.Receipt{BundleID: rc.BundleID, CiphertextSHA256: rc.CiphertextSHA256, CiphertextSize: rc.CiphertextSize,
		ManifestSHA256: rc.ManifestSHA256, Recipients: rc.Recipients, MetadataOnly: m.MetadataOnly, WhatsAppHashMismatch: mismatch,
		SealedAt: rc.SealedAt}, nil
}

func (e evidenceVault) Destroy(ctx context.Context, bundleID string) (incident.Destruction, error) {
	cert, err := e.v.Destroy(ctx, bundleID)
	if errors.Is(err, vault.ErrNotFound) {
		return incident.Destruction{}, fmt.Errorf("bundle %s: %w", bundleID, incident.ErrNotFound)
	}
	if errors.Is(err, vault.ErrRetention) {
		return incident.Destruction{}, fmt.Errorf("%w: %w", incident.ErrRetention, err)
	}
	if err != nil {
		return incident.Destruction{}, err
	}
	return incident.Destruction{BundleID: cert.BundleID, CiphertextSHA256: cert.CiphertextSHA256, CiphertextSize: cert.CiphertextSize,
		Detail: fmt.Sprintf("removed from %s (%d version(s))", cert.Backend, cert.VersionsRemoved), At: cert.DestroyedAt}, nil
}

// vaultBundles serves stored ciphertext to the web's release download.
type vaultBundles struct{ v *vault.Vault }

func (b vaultBundles) OpenBundle(ctx context.Context, id string) (io.ReadCloser, error) {
	rc, err := b.v.Backend().Open(ctx, id)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, fmt.Errorf("bundle %s: %w", id, incident.ErrNotFound)
	}
	return rc, err
}
