// Package evidencevault adapts a *vault.Vault to the workflow's
// incident.Vault port, and serves stored ciphertext to the web's release
// downloads. serve wires it, and the web tests use it, so that what they
// test is what runs.
//
// Guarantees: every field of the workflow's manifest (message, what the
// worker saw, WhatsApp's file hash) reaches the bundle's manifest and
// every field of the vault's receipt reaches the workflow's; a retried
// seal of a bundle id no receipt refers to replaces the bundle of the
// crashed attempt instead of failing; with a retention per category
// (WithRetention), a backend with Object Lock keeps each bundle until its
// category's retention ends — measured from just before sealing, so that
// the lock ends no later than the workflow's destruction date (sealed at +
// retention) and never blocks a destruction that is due.
package evidencevault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/s3backend"
)

// Vault adapts *vault.Vault to the incident.Vault port.
type Vault struct {
	v         *vault.Vault
	retention func(category string) time.Duration
	now       func() time.Time
}

var _ incident.Vault = (*Vault)(nil)

// An Option configures a Vault.
type Option func(*Vault)

// WithRetention gives the retention of a bundle by its category (the
// policy's); 0 keeps a bundle without a storage retention.
func WithRetention(f func(category string) time.Duration) Option {
	return func(a *Vault) { a.retention = f }
}

// WithClock sets the clock the retention is measured from.
func WithClock(now func() time.Time) Option { return func(a *Vault) { a.now = now } }

// New adapts v.
func New(v *vault.Vault, opts ...Option) *Vault {
	a := &Vault{v: v, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Vault returns the adapted vault.
func (a *Vault) Vault() *vault.Vault { return a.v }

// RetainUntil returns ctx carrying the storage retention of a bundle of
// category, sealed now (see s3backend.WithRetainUntil), or ctx itself
// when the category has none.
func (a *Vault) RetainUntil(ctx context.Context, category string) context.Context {
	if a.retention == nil {
		return ctx
	}
	if d := a.retention(category); d > 0 {
		return s3backend.WithRetainUntil(ctx, a.now().Add(d))
	}
	return ctx
}

// Seal implements incident.Vault.
func (a *Vault) Seal(ctx context.Context, bundleID string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
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
	ctx = a.RetainUntil(ctx, m.Category)
	rc, err := a.v.Seal(ctx, vm, vp...)
	if errors.Is(err, vault.ErrExists) {
		// The workflow seals an incident's bundle id again only when no
		// receipt refers to it: a crashed attempt left it. Replace it.
		if _, derr := a.v.Destroy(ctx, bundleID); derr != nil {
			return incident.Receipt{}, fmt.Errorf("failed to remove the bundle of a crashed attempt: %w", derr)
		}
		rc, err = a.v.Seal(ctx, vm, vp...)
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

// Destroy implements incident.Vault.
func (a *Vault) Destroy(ctx context.Context, bundleID string) (incident.Destruction, error) {
	cert, err := a.v.Destroy(ctx, bundleID)
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

// OpenBundle serves a bundle's stored ciphertext (the web's release
// download); a missing bundle is incident.ErrNotFound.
func (a *Vault) OpenBundle(ctx context.Context, id string) (io.ReadCloser, error) {
	rc, err := a.v.Backend().Open(ctx, id)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, fmt.Errorf("bundle %s: %w", id, incident.ErrNotFound)
	}
	return rc, err
}
