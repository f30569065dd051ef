package vaultopen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// Open refuses what would be a misconfiguration, with what to do next,
// and opens a folder vault that seals to the recipients file.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	recipients := filepath.Join(dir, "recipients.txt")
	if err := os.WriteFile(recipients, []byte(id.Recipient().String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	s3, err := ParseURL("s3://evidence/p?endpoint=http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		opts Options
		want string
	}{
		"missing folder":          {Options{Location: FileLocation(missing)}, "failed to open vault"},
		"credentials on a folder": {Options{Location: FileLocation(dir), AccessKeyID: "a", SecretAccessKey: "b"}, "but the vault is a folder"},
		"s3 without credentials":  {Options{Location: s3}, "needs TRESOR_S3_ACCESS_KEY_ID"},
		"no scheme":               {Options{}, "invalid vault URL"},
		"bad recipients":          {Options{Location: FileLocation(dir), RecipientsFile: missing}, "run 'tresor init'"},
	} {
		if _, err := Open(ctx, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("opening without Create made the folder: %v", err)
	}
	v, err := Open(ctx, Options{Location: FileLocation(filepath.Join(dir, "vault")), RecipientsFile: recipients, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Recipients(); len(got) != 1 || got[0] != id.Recipient().String() {
		t.Fatalf("recipients %v", got)
	}
	if loc := v.Backend().Location(); !strings.HasPrefix(loc, "file://") {
		t.Fatalf("location %q", loc)
	}
}
