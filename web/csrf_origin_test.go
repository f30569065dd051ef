package web

import (
	"net/http/httptest"
	"testing"
)

// TestSameOrigin covers the browser headers checkCSRF relies on, including
// "Origin: null", which browsers send on form POSTs under no-referrer.
func TestSameOrigin(t *testing.T) {
	s := &Server{}
	for _, tc := range []struct {
		origin, fetchSite string
		want              bool
	}{
		{"", "", true}, // old browsers and non-browser clients: the token decides
		{"http://example.org", "", true},
		{"http://example.org", "same-origin", true},
		{"", "none", true}, // typed into the address bar
		{"null", "same-origin", true},
		{"null", "", false},
		{"null", "cross-site", false},
		{"http://evil.example", "", false},
		{"https://example.org", "", false}, // scheme differs: no TLS here
		{"", "cross-site", false},
		{"", "same-site", false},
		{"http://example.org", "cross-site", false},
		{"::not a url", "", false},
	} {
		r := httptest.NewRequest("POST", "http://example.org/x", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		if got := s.sameOrigin(r); got != tc.want {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: sameOrigin = %v, want %v", tc.origin, tc.fetchSite, got, tc.want)
		}
	}
}
