package web

import "testing"

// The attacks come from the security review: browsers drop tabs and
// newlines in a Location header and treat a backslash as a slash.
func TestLocalPath(t *testing.T) {
	tests := []struct {
		next, want string
	}{
		{"/", "/"},
		{"/incidents", "/incidents"},
		{"/incidents/0123456789abcdef", "/incidents/0123456789abcdef"},
		{"/incidents/new/details?category=threat", "/incidents/new/details?category=threat"},
		{"/audit?from=2026-01-01&to=2026-02-01", "/audit?from=2026-01-01&to=2026-02-01"},
		{"/admin/users", "/admin/users"},
		{"", "/"},
		{"//evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/incidents//evil.example", "/"},
		{"/%2F%2Fevil.example", "/"},
		{"/incidents?x=<script>", "/"},
		{"/incidents?x=\x00", "/"},
		{"/nowhere", "/"},
		{"/api/v1/incidents", "/"},
		{"/static/style.css", "/"},
		{"/whatsapp/link/events", "/"},
		{"/audit/verify", "/"},         // POST only
		{"/incidents/a/b/c/d", "/"},    // no such route
		{"/incidents/ä", "/"},          // never issued by Tresor
		{"/login\u00a0", "/"},          // no-break space
		{"/incidents/x?\u2028=1", "/"}, // line separator
	}
	for _, tt := range tests {
		if got := localPath(tt.next); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/incidents", "/\t/evil", "//x", "/audit?from=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localPath(next)
		if got != "/" && got != next {
			t.Fatalf("localPath(%q) = %q: neither the input nor /", next, got)
		}
		if got != "/" && !pageRoute(pathOf(got)) {
			t.Fatalf("localPath(%q) accepted a path no page route serves", next)
		}
		for _, r := range got {
			if r < 0x21 || r > 0x7e || r == '\\' {
				t.Fatalf("localPath(%q) = %q keeps %q", next, got, r)
			}
		}
	})
}

func pathOf(s string) string {
	for i, r := range s {
		if r == '?' {
			return s[:i]
		}
	}
	return s
}
