package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigOIDC(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "oidc-secret")
	if err := os.WriteFile(secret, []byte("s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	ok := map[string]string{
		"TRESOR_OIDC_ISSUER": "https://login.example.org/realms/traeger", "TRESOR_OIDC_CLIENT_ID": "tresor",
		"TRESOR_OIDC_CLIENT_SECRET_FILE": secret, "TRESOR_OIDC_NAME": "Traeger-Login", "TRESOR_PUBLIC_URL": "https://tresor.example.org/",
	}
	c, err := loadConfig(env(ok))
	if err != nil {
		t.Fatal(err)
	}
	want := oidcConfig{Issuer: "https://login.example.org/realms/traeger", ClientID: "tresor", ClientSecret: "s3cr3t-value",
		Name: "Traeger-Login", RedirectURL: "https://tresor.example.org/auth/oidc/callback",
		PostLogoutURL: "https://tresor.example.org/signed-out"}
	if c.OIDC != want || !c.OIDC.Enabled() {
		t.Errorf("OIDC = %+v, want %+v", c.OIDC, want)
	}
	if c, err := loadConfig(env(nil)); err != nil || c.OIDC.Enabled() {
		t.Errorf("without TRESOR_OIDC_*: %+v %v", c.OIDC, err)
	}
	loop := with(ok, map[string]string{"TRESOR_OIDC_ISSUER": "http://127.0.0.1:9999"})
	if _, err := loadConfig(env(loop)); err != nil {
		t.Errorf("loopback http issuer refused: %v", err)
	}

	for name, tt := range map[string]struct {
		kv   map[string]string
		want string
	}{
		"only issuer":        {map[string]string{"TRESOR_OIDC_ISSUER": "https://login.example.org"}, "missing: TRESOR_OIDC_CLIENT_ID, TRESOR_OIDC_CLIENT_SECRET, TRESOR_OIDC_NAME"},
		"no secret":          {with(ok, map[string]string{"TRESOR_OIDC_CLIENT_SECRET_FILE": ""}), "missing: TRESOR_OIDC_CLIENT_SECRET"},
		"both secret forms":  {with(ok, map[string]string{"TRESOR_OIDC_CLIENT_SECRET": "s3cr3t-value"}), "not both"},
		"secret file absent": {with(ok, map[string]string{"TRESOR_OIDC_CLIENT_SECRET_FILE": secret + ".gone"}), "TRESOR_OIDC_CLIENT_SECRET_FILE"},
		"no public url":      {with(ok, map[string]string{"TRESOR_PUBLIC_URL": ""}), "needs TRESOR_PUBLIC_URL"},
		"public url scheme":  {with(ok, map[string]string{"TRESOR_PUBLIC_URL": "tresor.example.org"}), "TRESOR_PUBLIC_URL must be an address"},
		"http issuer":        {with(ok, map[string]string{"TRESOR_OIDC_ISSUER": "http://login.example.org"}), "TRESOR_OIDC_ISSUER must be"},
		"issuer with query":  {with(ok, map[string]string{"TRESOR_OIDC_ISSUER": "https://login.example.org/?x=1"}), "TRESOR_OIDC_ISSUER must be"},
		"name too long":      {with(ok, map[string]string{"TRESOR_OIDC_NAME": strings.Repeat("x", 41)}), "TRESOR_OIDC_NAME must be"},
		"client id spaces":   {with(ok, map[string]string{"TRESOR_OIDC_CLIENT_ID": "a b"}), "TRESOR_OIDC_CLIENT_ID must not"},
	} {
		_, err := loadConfig(env(tt.kv))
		switch {
		case err == nil:
			t.Errorf("%s: accepted", name)
		case !strings.Contains(err.Error(), tt.want):
			t.Errorf("%s: error %q does not contain %q", name, err, tt.want)
		case strings.Contains(err.Error(), "s3cr3t"):
			t.Errorf("%s: error reveals the client secret: %v", name, err)
		}
	}
}

// with returns a copy of base with the entries of over set ("" deletes).
func with(base, over map[string]string) map[string]string {
	m := maps.Clone(base)
	for k, v := range over {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}
