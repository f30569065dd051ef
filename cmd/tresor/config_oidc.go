package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// oidcConfig is sign-in through the provider's identity provider
// (OpenID Connect). It is all or nothing: with none of TRESOR_OIDC_* set
// the login page offers only Tresor's own accounts; with some set, every
// one of them and TRESOR_PUBLIC_URL must be. Who gets which role is the
// policy's oidc section, not configuration.
type oidcConfig struct {
	Issuer       string // TRESOR_OIDC_ISSUER: https://login.microsoftonline.com/<tenant>/v2.0, https://sso.example.org/realms/x
	ClientID     string // TRESOR_OIDC_CLIENT_ID
	ClientSecret string // TRESOR_OIDC_CLIENT_SECRET(_FILE)
	Name         string // TRESOR_OIDC_NAME: what the login button names, e.g. "Microsoft" ("Anmelden mit Microsoft")
	RedirectURL  string // TRESOR_PUBLIC_URL + /auth/oidc/callback
	// PostLogoutURL is where the provider sends the browser back after
	// signing out there: TRESOR_PUBLIC_URL + /signed-out.
	PostLogoutURL string
}

// Enabled reports whether OpenID Connect sign-in is configured.
func (o oidcConfig) Enabled() bool { return o.Issuer != "" }

const oidcEnvVars = `  TRESOR_OIDC_ISSUER            OpenID Connect issuer of the provider's identity provider (https://…);
                                set it, the three below and TRESOR_PUBLIC_URL to offer sign-in there
  TRESOR_OIDC_CLIENT_ID         client id registered at the identity provider
  TRESOR_OIDC_CLIENT_SECRET[_FILE]  its client secret
  TRESOR_OIDC_NAME              name on the login button, e.g. Microsoft ("Anmelden mit Microsoft")
`

// loadOIDCConfig reads TRESOR_OIDC_*; publicURL is TRESOR_PUBLIC_URL,
// trimmed of its trailing slash.
func loadOIDCConfig(getenv func(string) string, publicURL string) (oidcConfig, error) {
	var o oidcConfig
	var err error
	o.Issuer = strings.TrimSpace(getenv("TRESOR_OIDC_ISSUER"))
	o.ClientID = strings.TrimSpace(getenv("TRESOR_OIDC_CLIENT_ID"))
	o.Name = strings.TrimSpace(getenv("TRESOR_OIDC_NAME"))
	if o.ClientSecret, err = secretEnv(getenv, "TRESOR_OIDC_CLIENT_SECRET"); err != nil {
		return oidcConfig{}, err
	}
	set := map[string]bool{
		"TRESOR_OIDC_ISSUER": o.Issuer != "", "TRESOR_OIDC_CLIENT_ID": o.ClientID != "",
		"TRESOR_OIDC_CLIENT_SECRET": o.ClientSecret != "", "TRESOR_OIDC_NAME": o.Name != "",
	}
	var missing []string
	anySet := false
	for _, k := range []string{"TRESOR_OIDC_ISSUER", "TRESOR_OIDC_CLIENT_ID", "TRESOR_OIDC_CLIENT_SECRET", "TRESOR_OIDC_NAME"} {
		if set[k] {
			anySet = true
		} else {
			missing = append(missing, k)
		}
	}
	if !anySet {
		return oidcConfig{}, nil
	}
	if len(missing) > 0 {
		return oidcConfig{}, fmt.Errorf("sign-in through an identity provider needs all of TRESOR_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET (or _FILE) and _NAME; missing: %s", strings.Join(missing, ", "))
	}
	if publicURL == "" {
		return oidcConfig{}, fmt.Errorf("TRESOR_OIDC_ISSUER needs TRESOR_PUBLIC_URL, the address people open Tresor at: the identity provider sends them back to TRESOR_PUBLIC_URL/auth/oidc/callback")
	}
	if err := checkPublicURL(publicURL); err != nil {
		return oidcConfig{}, err
	}
	u, err := url.Parse(o.Issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		return oidcConfig{}, fmt.Errorf("TRESOR_OIDC_ISSUER must be the identity provider's https:// issuer address exactly as its discovery document states it (http:// only on loopback), not %q", clipEnv(o.Issuer))
	}
	if utf8.RuneCountInString(o.Name) > 40 || strings.ContainsFunc(o.Name, unicode.IsControl) {
		return oidcConfig{}, fmt.Errorf("TRESOR_OIDC_NAME must be a short name of at most 40 characters for the login button, e.g. Microsoft")
	}
	if strings.ContainsFunc(o.ClientID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return oidcConfig{}, fmt.Errorf("TRESOR_OIDC_CLIENT_ID must not contain spaces")
	}
	o.RedirectURL = publicURL + "/auth/oidc/callback"
	o.PostLogoutURL = publicURL + "/signed-out"
	return o, nil
}

// checkPublicURL accepts an http(s) address without query or fragment.
func checkPublicURL(s string) error {
	if u, err := url.Parse(s); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("TRESOR_PUBLIC_URL must be an address such as https://tresor.example.org, not %q", clipEnv(s))
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// clipEnv shortens a configuration value quoted in an error.
func clipEnv(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
