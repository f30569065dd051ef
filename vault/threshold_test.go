package vault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/threshold"
	"github.com/tresor-evidence/tresor/vault/vaulttest"
)

// thresholdVault is a vault sealing to a new 2-of-3 threshold recipient.
func thresholdVault(t *testing.T, b vault.Backend) (*vault.Vault, []*threshold.Identity, string) {
	t.Helper()
	rec, holders, err := threshold.Generate(2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	recs, fps, err := vault.ParseRecipients([]string{rec.String()})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := recs[0].(*threshold.Recipient); !ok {
		t.Fatalf("threshold recipient parsed as %T, want native", recs[0])
	}
	v, err := vault.New(b, recs, fps, vault.WithClock(func() time.Time { return testTime }), vault.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return v, holders, rec.String()
}

func holderIDs(t *testing.T, holders ...*threshold.Identity) []vault.Identity {
	t.Helper()
	var text []string
	for _, h := range holders {
		text = append(text, h.String())
	}
	ids, err := vault.ParseIdentities([]byte(strings.Join(text, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestThresholdSealOpenVerify(t *testing.T) {
	ctx := context.Background()
	b := vaulttest.NewMemBackend()
	v, holders, _ := thresholdVault(t, b)
	rc, err := v.Seal(ctx, vault.Manifest{IncidentID: "i"}, vault.Part{Name: "a", Size: 5, R: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, rc.BundleID, &rc); err != nil {
		t.Fatalf("keyless verify with receipt: %v", err)
	}
	rep, err := v.VerifyWithIdentity(ctx, rc.BundleID, holderIDs(t, holders[2], holders[0]), &rc)
	if err != nil || len(rep.StanzaTypes) != 3 || rep.StanzaTypes[0] != threshold.StanzaType {
		t.Fatalf("verify with holders 3 and 1: %+v, %v", rep, err)
	}
	_, err = v.Open(ctx, rc.BundleID, holderIDs(t, holders[1]), nil)
	if !errors.Is(err, threshold.ErrNotEnoughHolders) || !strings.Contains(err.Error(), "1 more holder needed") {
		t.Fatalf("one holder: %v", err)
	}
	if errors.Is(err, vault.ErrIntegrity) {
		t.Fatalf("a missing holder is not an integrity failure: %v", err)
	}
}

func TestThresholdTamperedShareStanza(t *testing.T) {
	ctx := context.Background()
	b := vaulttest.NewMemBackend()
	v, holders, _ := thresholdVault(t, b)
	rc, err := v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: 5, R: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := b.Get(rc.BundleID)
	// The body line after the first share stanza: change its first letter.
	i := bytes.Index(orig, []byte("-> tresor-share "))
	j := i + bytes.IndexByte(orig[i:], '\n') + 1
	bad := bytes.Clone(orig)
	bad[j] = map[bool]byte{true: 'B', false: 'A'}[bad[j] == 'A']
	b.Set(rc.BundleID, bad)
	_, err = v.Open(ctx, rc.BundleID, holderIDs(t, holders[0], holders[1]), nil)
	if !errors.Is(err, vault.ErrIntegrity) || !errors.Is(err, threshold.ErrTamperedShare) || !strings.Contains(err.Error(), "holder 1") {
		t.Fatalf("tampered share: %v", err)
	}
	// Holders 2 and 3 reconstruct the right file key, but age's header
	// MAC covers every stanza: a changed header is refused for everyone.
	if _, err := v.Open(ctx, rc.BundleID, holderIDs(t, holders[1], holders[2]), nil); !errors.Is(err, vault.ErrIntegrity) || !strings.Contains(err.Error(), "MAC") {
		t.Fatalf("untouched shares of a changed header: %v", err)
	}
}

func TestThresholdMixRefused(t *testing.T) {
	rec, _, err := threshold.Generate(2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	single, _ := age.GenerateX25519Identity()
	_, _, err = vault.ParseRecipients([]string{rec.String(), single.Recipient().String()})
	if err == nil || !strings.Contains(err.Error(), "cannot be combined") {
		t.Fatalf("threshold beside a single key: %v", err)
	}
	rec2, _, _ := threshold.Generate(2, 2, rand.Reader)
	if _, _, err := vault.ParseRecipients([]string{rec.String(), rec2.String()}); err != nil {
		t.Fatalf("two threshold sets: %v", err)
	}
}

// TestRewrapToThreshold moves a bundle from a single key to holders
// through the ordinary rewrap path.
func TestRewrapToThreshold(t *testing.T) {
	ctx := context.Background()
	b := vaulttest.NewMemBackend()
	oldF := newFixture(t, b)
	rc, err := oldF.v.Seal(ctx, vault.Manifest{IncidentID: "i"}, vault.Part{Name: "a", Size: 5, R: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	v2, holders, recString := thresholdVault(t, b)
	rec, err := v2.Rewrap(ctx, rc.BundleID, oldF.ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.NewRecipients) != 1 || rec.NewRecipients[0] != recString {
		t.Fatalf("new recipients %q", rec.NewRecipients)
	}
	if _, err := oldF.v.Open(ctx, rc.BundleID, oldF.ids, nil); !errors.Is(err, vault.ErrNoIdentity) {
		t.Errorf("old single key still opens: %v", err)
	}
	newRC := rc
	newRC.CiphertextSHA256, newRC.CiphertextSize, newRC.Recipients = rec.NewCiphertextSHA256, rec.NewCiphertextSize, rec.NewRecipients
	if _, err := v2.Verify(ctx, rc.BundleID, &newRC); err != nil {
		t.Fatalf("keyless verify after rewrap: %v", err)
	}
	m, got, err := openWith(t, v2, rc.BundleID, holderIDs(t, holders[0], holders[2]))
	if err != nil || m.IncidentID != "i" || string(got["a"]) != "hello" {
		t.Fatalf("open after rewrap: %v", err)
	}
	// And back: holders rewrap to a new set (a holder left).
	v3, holders3, _ := thresholdVault(t, b)
	if _, err := v3.Rewrap(ctx, rc.BundleID, holderIDs(t, holders[1], holders[2])); err != nil {
		t.Fatalf("rewrap to new holders: %v", err)
	}
	if _, _, err := openWith(t, v3, rc.BundleID, holderIDs(t, holders[0], holders[1])); !errors.Is(err, vault.ErrNoIdentity) {
		t.Fatalf("old holders still open: %v", err)
	}
	if _, _, err := openWith(t, v3, rc.BundleID, holderIDs(t, holders3[0], holders3[1])); err != nil {
		t.Fatalf("new holders: %v", err)
	}
}

func openWith(t *testing.T, v *vault.Vault, id string, ids []vault.Identity) (vault.Manifest, map[string][]byte, error) {
	t.Helper()
	got := make(map[string][]byte)
	m, err := v.Open(context.Background(), id, ids, func(p vault.PartInfo, r io.Reader) error {
		data, err := io.ReadAll(r)
		got[p.Name] = data
		return err
	})
	return m, got, err
}
