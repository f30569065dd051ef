package vault_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault"
)

// exampleVault returns a vault in a temporary directory with one recipient,
// and the matching identity, which a real server would not hold.
func exampleVault() (*vault.Vault, *age.X25519Identity, func()) {
	dir, err := os.MkdirTemp("", "vault-example-")
	if err != nil {
		log.Fatal(err)
	}
	b, err := vault.NewFSBackend(dir)
	if err != nil {
		log.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		log.Fatal(err)
	}
	recs, fps, err := vault.ParseRecipients([]string{"# the office's offline key", id.Recipient().String()})
	if err != nil {
		log.Fatal(err)
	}
	v, err := vault.New(b, recs, fps,
		vault.WithRand(strings.NewReader(strings.Repeat("\x42", 64))), // deterministic ids for the example
		vault.WithClock(func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }))
	if err != nil {
		log.Fatal(err)
	}
	return v, id, func() { os.RemoveAll(dir) }
}

func ExampleVault_Seal() {
	v, _, cleanup := exampleVault()
	defer cleanup()

	photo := []byte("...jpeg bytes...")
	rc, err := v.Seal(context.Background(), vault.Manifest{
		IncidentID: "inc-2026-0042",
		Category:   "threat",
		Message:    vault.Message{ID: "3EB0C767D26A1B5E", SentAt: time.Date(2026, 11, 27, 9, 58, 0, 0, time.UTC), MediaType: "image/jpeg"},
	}, vault.Part{
		Name:      "photo.jpg",
		MediaType: "image/jpeg",
		Size:      -1, // unknown: spooled through an encrypted temporary file
		R:         bytes.NewReader(photo),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bundle:", rc.BundleID)
	fmt.Println("part:", rc.Parts[0].Name, rc.Parts[0].Size, rc.Parts[0].SHA256)
	fmt.Println("recipients:", len(rc.Recipients))
	// Output:
	// bundle: 42424242424242424242424242424242
	// part: photo.jpg 16 50825e4dd343f46bd3e3e7ec3dbc8e0beb1e451dcdb99472fa90460e14406baf
	// recipients: 1
}

func ExampleVault_Open() {
	v, id, cleanup := exampleVault()
	defer cleanup()
	ctx := context.Background()
	rc, err := v.Seal(ctx, vault.Manifest{IncidentID: "inc-7"},
		vault.Part{Name: "message.txt", MediaType: "text/plain", Size: 11, R: strings.NewReader("hello world")})
	if err != nil {
		log.Fatal(err)
	}

	// Offline, with the identity:
	m, err := v.Open(ctx, rc.BundleID, []vault.Identity{id}, func(p vault.PartInfo, r io.Reader) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		// data is verified only once Open returns nil.
		fmt.Printf("%s (%s): %q\n", p.Name, p.MediaType, data)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("incident:", m.IncidentID)
	// Output:
	// message.txt (text/plain): "hello world"
	// incident: inc-7
}

func ExampleVault_Verify() {
	v, id, cleanup := exampleVault()
	defer cleanup()
	ctx := context.Background()
	rc, err := v.Seal(ctx, vault.Manifest{IncidentID: "inc-9", MetadataOnly: true,
		Message: vault.Message{ID: "ABCD", WhatsAppFileSHA256: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="}})
	if err != nil {
		log.Fatal(err)
	}

	// On the server, without a key, against the stored receipt:
	rep, err := v.Verify(ctx, rc.BundleID, &rc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("keyless:", rep.CiphertextSHA256 == rc.CiphertextSHA256, rep.StanzaTypes)

	// Offline, with the identity: decrypts and checks every hash.
	rep, err = v.VerifyWithIdentity(ctx, rc.BundleID, []vault.Identity{id}, &rc)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("decrypted:", rep.Decrypted, "metadata only:", rep.Manifest.MetadataOnly, "parts:", len(rep.Manifest.Parts))
	// Output:
	// keyless: true [X25519]
	// decrypted: true metadata only: true parts: 0
}
