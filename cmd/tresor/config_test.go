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
