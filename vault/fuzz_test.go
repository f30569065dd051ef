package vault_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/vaulttest"
)

const fuzzID = "abcdefabcdefabcdefabcdefabcdef00"

func FuzzParseManifest(f *testing.F) {
	f.Add(manifestFor(fuzzID, "a.txt", "hello"))
	f.Add(manifestFor(fuzzID))
	f.Add([]byte(`{"format":"tresor-bundle/v1"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := vault.ParseManifest(data)
		if err != nil {
			if !errors.Is(err, vault.ErrIntegrity) {
				t.Fatalf("error does not wrap ErrIntegrity: %v", err)
			}
			return
		}
		if !vault.ValidID(m.BundleID) {
			t.Fatalf("accepted invalid id %q", m.BundleID)
		}
		for _, p := range m.Parts {
			if p.Size < 0 || len(p.SHA256) != 64 || p.Name == "" || p.Name[0] == '.' || bytes.ContainsAny([]byte(p.Name), "/\\\x00") {
				t.Fatalf("accepted bad part %+v", p)
			}
		}
	})
}

// FuzzVerify feeds arbitrary ciphertext to the keyless check and to
// decryption.
func FuzzVerify(f *testing.F) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, id.Recipient())
	w.Write([]byte("x"))
	w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("age-encryption.org/v1\n-> X25519 abc\n\n--- abc\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := vaulttest.NewMemBackend()
		b.Set(fuzzID, data)
		v, err := vault.New(b, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := v.Verify(ctx, fuzzID, nil); err != nil && !errors.Is(err, vault.ErrIntegrity) {
			t.Fatalf("Verify: %v", err)
		}
		_, err = v.VerifyWithIdentity(ctx, fuzzID, []vault.Identity{id}, nil)
		if err != nil && !errors.Is(err, vault.ErrIntegrity) && !errors.Is(err, vault.ErrNoIdentity) {
			t.Fatalf("VerifyWithIdentity: %v", err)
		}
	})
}
