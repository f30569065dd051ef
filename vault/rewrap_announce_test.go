package vault_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/vaulttest"
)

// TestRewrapAnnounced: announce sees the new ciphertext's hash and size
// before the bundle is replaced (the stored bundle is still the old one
// then); if announce fails, the bundle stays as it was; if it succeeds,
// the stored bundle is exactly the announced ciphertext.
func TestRewrapAnnounced(t *testing.T) {
	ctx := context.Background()
	b := vaulttest.NewMemBackend()
	oldF := newFixture(t, b)
	rc, err := oldF.v.Seal(ctx, vault.Manifest{IncidentID: "i"}, vault.Part{Name: "a", Size: 5, R: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	v2 := newFixture(t, b).v
	refused := errors.New("not recorded")
	_, err = v2.RewrapAnnounced(ctx, rc.BundleID, oldF.ids, func(context.Context, vault.RewrapRecord) error { return refused })
	if !errors.Is(err, refused) {
		t.Fatalf("failed announcement: %v", err)
	}
	if _, err := v2.Verify(ctx, rc.BundleID, &rc); err != nil {
		t.Fatalf("bundle changed although the announcement failed: %v", err)
	}
	var announced vault.RewrapRecord
	rec, err := v2.RewrapAnnounced(ctx, rc.BundleID, oldF.ids, func(ctx context.Context, r vault.RewrapRecord) error {
		announced = r
		_, err := v2.Verify(ctx, rc.BundleID, &rc) // not replaced yet
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v2.Verify(ctx, rc.BundleID, nil)
	if err != nil || announced.NewCiphertextSHA256 != rec.NewCiphertextSHA256 || got.CiphertextSHA256 != announced.NewCiphertextSHA256 ||
		got.CiphertextSize != announced.NewCiphertextSize {
		t.Fatalf("announced %+v, stored %+v (%v)", announced, got, err)
	}
}
