package web

import (
	"net/http"
	"strings"
)

// localPath returns next when it names a page of this site that a
// browser may be sent back to, and "/" otherwise. Only paths of GET
// page routes (not the API, not static files) qualify, spelled in plain
// ASCII: browsers drop tabs and newlines from a Location header, so
// "/\t/evil.example" would become "//evil.example" on their side, and
// a control character or backslash is never part of a path Tresor
// issues. A query string of plain characters is kept.
func localPath(next string) string {
	path, query, _ := strings.Cut(next, "?")
	if !plainPath(path) || !plainQuery(query) || !pageRoute(path) {
		return "/"
	}
	return next
}

// plainPath reports whether p is an absolute path of letters, digits and
// -._~/ with no empty segment (so neither "//host" nor "/a//b").
func plainPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	for _, r := range p {
		if !isPlain(r) && r != '/' {
			return false
		}
	}
	return true
}

// plainQuery reports whether q holds only key=value pairs of plain
// characters.
func plainQuery(q string) bool {
	for _, r := range q {
		if !isPlain(r) && r != '=' && r != '&' {
			return false
		}
	}
	return true
}

func isPlain(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '-' || r == '.' || r == '_' || r == '~'
}

// pageRoute reports whether path matches a GET route that renders a
// page: its segments match one by one, ":name" matching any segment.
func pageRoute(path string) bool {
	got := strings.Split(strings.TrimSuffix(path, "/"), "/")
	for _, r := range routeTable() {
		if r.method != http.MethodGet || r.api || r.long || strings.HasPrefix(r.path, "/static/") {
			continue
		}
		want := strings.Split(strings.TrimSuffix(r.path, "/"), "/")
		if len(want) != len(got) {
			continue
		}
		match := true
		for i := range want {
			if !strings.HasPrefix(want[i], ":") && want[i] != got[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
