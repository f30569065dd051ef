package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigSMTP(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "smtp-url")
	if err := os.WriteFile(secret, []byte("smtp://tresor:geheim@mail.example.org:587\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	ok := map[string]string{"TRESOR_SMTP_URL_FILE": secret, "TRESOR_SMTP_FROM": "Tresor <tresor@example.org>", "TRESOR_PUBLIC_URL": "https://tresor.example.org/"}
	c, err := loadConfig(env(ok))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "smtp://tresor:geheim@mail.example.org:587" || c.PublicURL != "https://tresor.example.org" {
		t.Errorf("SMTPURL %q PublicURL %q", c.SMTPURL, c.PublicURL)
	}
	for name, kv := range map[string]map[string]string{
		"no sender":         {"TRESOR_SMTP_URL": "smtp://localhost:25", "TRESOR_PUBLIC_URL": "https://tresor.example.org"},
		"no public url":     {"TRESOR_SMTP_URL": "smtp://localhost:25", "TRESOR_SMTP_FROM": "tresor@example.org"},
		"public url scheme": {"TRESOR_SMTP_URL": "smtp://localhost:25", "TRESOR_SMTP_FROM": "tresor@example.org", "TRESOR_PUBLIC_URL": "tresor.example.org"},
		"both forms":        {"TRESOR_SMTP_URL": "smtp://localhost:25", "TRESOR_SMTP_URL_FILE": secret},
	} {
		_, err := loadConfig(env(kv))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "geheim") {
			t.Errorf("%s: error reveals the password: %v", name, err)
		}
	}
	if c, err := loadConfig(env(nil)); err != nil || c.SMTPURL != "" {
		t.Errorf("without SMTP: %+v %v", c.SMTPURL, err)
	}
}

// TRESOR_VAULT_URL names the vault; with TRESOR_VAULT_DIR it is an error,
// and the S3 secret comes from a file.
func TestLoadConfigVaultURL(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := loadConfig(env(map[string]string{"TRESOR_DATA_DIR": "/srv/d"}))
	if err != nil || c.Vault.Scheme != "file" || c.Vault.Dir != "/srv/d/vault" || c.VaultDir != "/srv/d/vault" {
		t.Fatalf("default vault: %+v, %v", c.Vault, err)
	}
	secret := filepath.Join(t.TempDir(), "s3-secret")
	if err := os.WriteFile(secret, []byte("geheim-s3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = loadConfig(env(map[string]string{"TRESOR_VAULT_URL": "s3://evidence/tresor?endpoint=https://s3.example.org&object_lock=governance",
		"TRESOR_S3_ACCESS_KEY_ID": "AKIA1", "TRESOR_S3_SECRET_ACCESS_KEY_FILE": secret}))
	if err != nil || c.Vault.Bucket != "evidence" || c.Vault.ObjectLock != "GOVERNANCE" || c.VaultDir != "" ||
		c.S3AccessKeyID != "AKIA1" || c.S3SecretAccessKey != "geheim-s3" {
		t.Fatalf("s3 vault: %+v %q, %v", c.Vault, c.VaultDir, err)
	}
	for name, kv := range map[string]map[string]string{
		"url and dir": {"TRESOR_VAULT_URL": "file:///srv/v", "TRESOR_VAULT_DIR": "/srv/v"},
		"bad url":     {"TRESOR_VAULT_URL": "s3://evidence?object_lock=yes"},
		"both secret": {"TRESOR_S3_SECRET_ACCESS_KEY": "x", "TRESOR_S3_SECRET_ACCESS_KEY_FILE": secret},
	} {
		if _, err := loadConfig(env(kv)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err = loadConfig(env(map[string]string{"TRESOR_VAULT_URL": "file:///srv/v", "TRESOR_VAULT_DIR": "/srv/v"}))
	if err == nil || !strings.Contains(err.Error(), "TRESOR_VAULT_URL or TRESOR_VAULT_DIR, not both") {
		t.Errorf("url and dir: %v", err)
	}
}
