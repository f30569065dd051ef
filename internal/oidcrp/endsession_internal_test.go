package oidcrp

import "testing"

// TestEndSessionEndpoint: only an address whose origin can stand in the
// CSP's form-action as it is, over https (http with an http issuer only),
// is used for signing out at the provider.
func TestEndSessionEndpoint(t *testing.T) {
	const https, loopback = "https://sso.example.org/realms/x", "http://127.0.0.1:8080"
	for _, tc := range []struct {
		raw, issuer, origin string // origin "": refused
	}{
		{"https://login.microsoftonline.com/t/oauth2/v2.0/logout", https, "https://login.microsoftonline.com"},
		{"https://SSO.Example.org:8443/realms/x/protocol/openid-connect/logout?ui=1", https, "https://sso.example.org:8443"},
		{"https://[2001:db8::1]/logout", https, "https://[2001:db8::1]"},
		{"http://127.0.0.1:8080/end_session", loopback, "http://127.0.0.1:8080"},
		{"", https, ""},
		{"http://sso.example.org/logout", https, ""},
		{"javascript:alert(1)", https, ""},
		{"/relative/logout", https, ""},
		{"https://user:pw@sso.example.org/logout", https, ""},
		{"https://sso.example.org/logout#x", https, ""},
		{"https://sso.example.org;script-src*/logout", https, ""},
		{"https://sso.example.org%20x/logout", https, ""},
		{"https://*.example.org/logout", https, ""},
		{"ftp://sso.example.org/logout", https, ""},
	} {
		u, ok := endSessionEndpoint(tc.raw, tc.issuer)
		got := ""
		if ok {
			got = u.Scheme + "://" + u.Host
		}
		if got != tc.origin {
			t.Errorf("endSessionEndpoint(%q) origin %q, want %q", tc.raw, got, tc.origin)
		}
	}
}
