package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serve refuses an identity provider without a role mapping in the
// policy, and a policy that requires the identity provider when none is
// configured, before it opens anything — with a message that says what to
// add, and without the client secret.
func TestServeRefusesOIDCWithoutPolicy(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "oidc-secret")
	if err := os.WriteFile(secret, []byte("s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	requireOnly := filepath.Join(dir, "require")
	if err := os.MkdirAll(requireOnly, 0o700); err != nil {
		t.Fatal(err)
	}
	policy := "oidc:\n  claim: groups\n  roles:\n    tresor-workers: worker\n  require_oidc_for_all_but_local_admins: true\n"
	if err := os.WriteFile(filepath.Join(requireOnly, "oidc.yaml"), []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	idp := map[string]string{
		"TRESOR_OIDC_ISSUER": "https://login.example.org/realms/traeger", "TRESOR_OIDC_CLIENT_ID": "tresor",
		"TRESOR_OIDC_CLIENT_SECRET_FILE": secret, "TRESOR_OIDC_NAME": "Traeger-Login", "TRESOR_PUBLIC_URL": "https://tresor.example.org",
	}
	for name, tt := range map[string]struct {
		env  map[string]string
		want string
	}{
		"provider without oidc section":      {idp, "the policy has no oidc section"},
		"policy requires a missing provider": {map[string]string{"TRESOR_POLICY_DIR": requireOnly}, "no identity provider is configured"},
	} {
		t.Run(name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"TRESOR_DATA_DIR": data, "TRESOR_LISTEN": "127.0.0.1:0"}
			for k, v := range tt.env {
				env[k] = v
			}
			var out, errs bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errs, getenv: func(k string) string { return env[k] }, now: time.Now}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := c.cmdServe(ctx, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve: %v, want an error saying %q", err, tt.want)
			}
			if strings.Contains(err.Error()+out.String()+errs.String(), "s3cr3t") {
				t.Fatal("the client secret reached the output")
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Fatalf("serve prepared its data folder before refusing: %v", err)
			}
		})
	}
}
