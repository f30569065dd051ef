package evidencevault_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
)

func testVault(t *testing.T) (*vault.Vault, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	b, err := vault.NewFSBackend(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(b, []vault.Recipient{id.Recipient()}, []string{id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	return v, id
}

// TestEvidenceVault checks the adapter between the workflow and the vault:
// a retried seal of the same bundle id replaces the orphan, content round
// trips, and destroying twice maps to incident.ErrNotFound.
func TestEvidenceVault(t *testing.T) {
	ctx := context.Background()
	v, id := testVault(t)
	ev := evidencevault.New(v)
	const bundle = "0123456789abcdef0123456789abcdef"
	received := time.Date(2026, 11, 26, 21, 14, 0, 0, time.UTC)
	m := incident.Manifest{IncidentID: "inc1", Category: "violence", CapturedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		Message: incident.MessageRef{ID: "MSG", Chat: "49170@s.whatsapp.net", Sender: "49170@s.whatsapp.net", SentAt: received,
			FileSHA256: "abcd", MediaType: "image/jpeg", FileName: "Beweis.jpg", Size: 15,
			Seen: incident.SeenMessage{Chat: "Lena K.", ReceivedAt: received, Kind: incident.KindPhoto}}}
	content := []byte("the image bytes")
	part := func() []incident.Part {
		return []incident.Part{{Name: "media.jpg", MediaType: "image/jpeg", Size: int64(len(content)), Content: bytes.NewReader(content)}}
	}
	first, err := ev.Seal(ctx, bundle, m, part())
	if err != nil {
		t.Fatal(err)
	}
	second, err := ev.Seal(ctx, bundle, m, part())
	if err != nil {
		t.Fatalf("re-sealing the bundle of a crashed attempt: %v", err)
	}
	if second.BundleID != bundle || second.CiphertextSHA256 == first.CiphertextSHA256 {
		t.Fatalf("second seal did not replace the first: %+v", second)
	}
	if _, err := v.Verify(ctx, bundle, nil); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	manifest, err := v.Open(ctx, bundle, []vault.Identity{id}, func(p vault.PartInfo, r io.Reader) error {
		_, err := got.ReadFrom(r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every field of the workflow's manifest reaches the bundle's.
	wantMsg := vault.Message{ID: "MSG", Chat: "49170@s.whatsapp.net", Sender: "49170@s.whatsapp.net", SentAt: received,
		MediaType: "image/jpeg", FileName: "Beweis.jpg", WhatsAppFileSHA256: "abcd", Size: 15,
		SeenChat: "Lena K.", ReceivedAt: received, Kind: "photo"}
	if got.String() != string(content) || manifest.IncidentID != "inc1" || manifest.Category != "violence" ||
		!manifest.CapturedAt.Equal(m.CapturedAt) || !sameMessage(manifest.Message, wantMsg) {
		t.Fatalf("opened %q, manifest %+v", got.String(), manifest)
	}
	d, err := ev.Destroy(ctx, bundle)
	if err != nil || d.CiphertextSHA256 != second.CiphertextSHA256 {
		t.Fatalf("destroy: %+v, %v", d, err)
	}
	if _, err := ev.Destroy(ctx, bundle); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("second destroy = %v, want incident.ErrNotFound", err)
	}
	meta, err := ev.Seal(ctx, "fedcba9876543210fedcba9876543210", incident.Manifest{IncidentID: "inc2", Category: "csam", MetadataOnly: true, Message: m.Message}, nil)
	if err != nil || !meta.MetadataOnly {
		t.Fatalf("metadata-only seal: %+v, %v", meta, err)
	}
}

func sameMessage(a, b vault.Message) bool {
	return a.ID == b.ID && a.Chat == b.Chat && a.Sender == b.Sender && a.SentAt.Equal(b.SentAt) && a.MediaType == b.MediaType &&
		a.FileName == b.FileName && a.WhatsAppFileSHA256 == b.WhatsAppFileSHA256 && a.Size == b.Size &&
		a.SeenChat == b.SeenChat && a.ReceivedAt.Equal(b.ReceivedAt) && a.Kind == b.Kind
}
