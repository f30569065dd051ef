package vault_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/vault"
)

// A message the worker described by hand keeps its description in the
// manifest; a manifest without one encodes no description keys at all.
func TestManifestSeenMessage(t *testing.T) {
	received := time.Date(2026, 11, 26, 21, 14, 0, 0, time.FixedZone("CET", 3600))
	m := vault.Manifest{BundleID: "0123456789abcdef0123456789abcdef", IncidentID: "inc-1", Category: "csam", MetadataOnly: true,
		Message: vault.Message{ID: "described-inc-1", SeenChat: "Lena K.", ReceivedAt: received, Kind: "photo"}}
	data, err := vault.MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := vault.ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Message.SeenChat != "Lena K." || !got.Message.ReceivedAt.Equal(received) || got.Message.Kind != "photo" {
		t.Fatalf("parsed message = %+v", got.Message)
	}
	m.Message = vault.Message{ID: "3EB0"}
	plain, err := vault.MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"seen_chat", "received_at", "kind"} {
		if bytes.Contains(plain, []byte(`"`+key+`"`)) {
			t.Errorf("manifest without a description has %q:\n%s", key, plain)
		}
	}
}
