package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// TestRoleMatrix requests every route of the hand-written golden table
// (routes_golden_test.go) as every role and anonymously, and checks the
// status the golden table implies — not what the route table says, so a
// role changed in routes.go is caught here as well as by
// TestRouteTableMatchesGolden. A route registered outside the table fails
// TestRouterMatchesTable.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"susi", "sven", "anna", "adam"} {
		e.enroll(name)
	}
	byRole := map[incident.Role]string{incident.RoleWorker: "wanda", incident.RoleSupervisor: "susi", incident.RoleAuditor: "anna", incident.RoleAdmin: "adam"}
	tokens := map[incident.Role]string{}
	for role, name := range byRole {
		tokens[role] = e.apiToken(name)
	}
	for _, g := range goldenRoutes {
		path := strings.NewReplacer(":id", "00000000000000000000000000000000", ":key", "chat", ":name", "nobody").Replace(g.path)
		for _, who := range append([]incident.Role{""}, incident.Roles...) {
			label := string(who)
			if who == "" {
				label = "anonymous"
			}
			t.Run(g.method+" "+g.path+" as "+label, func(t *testing.T) {
				var c *client
				if who == "" {
					c = e.anon()
					c.get("/login") // a visitor's CSRF token
				} else {
					c = e.as(byRole[who])
				}
				var w = c.do(g.method, path, nil)
				switch {
				case g.kind == "api" && g.method == http.MethodPost:
					c.header.Set(csrfHeader, c.csrf)
					w = c.do(g.method, path, nil)
				case g.method == http.MethodPost:
					w = c.post(path)
				}
				checkMatrix(t, g, who, w)
			})
			if g.kind == "api" && who != "" {
				t.Run(g.method+" "+g.path+" as "+label+" with a token", func(t *testing.T) {
					c := e.anon()
					c.header.Set("Authorization", "Bearer "+tokens[who])
					checkMatrix(t, g, who, c.do(g.method, path, nil))
				})
			}
		}
	}
}

// checkMatrix checks the status the golden table implies for a role (""
// is anonymous).
func checkMatrix(t *testing.T, g goldenRoute, who incident.Role, w *httptest.ResponseRecorder) {
	t.Helper()
	loc := w.Header().Get("Location")
	api := g.kind == "api"
	switch {
	case g.who == "public":
		if w.Code == http.StatusForbidden || w.Code >= 500 {
			t.Fatalf("public route: status %d", w.Code)
		}
	case who == "" && api:
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `"code":"unauthorized"`) {
			t.Fatalf("anonymous API call: status %d, want 401 with a JSON error\n%s", w.Code, w.Body.String())
		}
	case who == "":
		if w.Code != http.StatusSeeOther || loc != "/login" {
			t.Fatalf("anonymous: status %d location %q, want 303 to /login", w.Code, loc)
		}
	case g.who == "halfSignedIn":
		if w.Code != http.StatusSeeOther || loc != "/" {
			t.Fatalf("signed in on a half-signed-in route: %d %q, want 303 to /", w.Code, loc)
		}
	case slices.Contains(g.roles(), who):
		if w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized || w.Code >= 500 || loc == "/login" {
			t.Fatalf("allowed role: status %d location %q\n%s", w.Code, loc, w.Body.String())
		}
	default:
		if w.Code != http.StatusForbidden {
			t.Fatalf("forbidden role: status %d location %q, want 403", w.Code, loc)
		}
		if api && !strings.Contains(w.Body.String(), `"code":"forbidden"`) {
			t.Fatalf("forbidden API call without a JSON error: %s", w.Body.String())
		}
	}
}

// TestCSRFEveryUnsafeRoute: every state-changing route either has the CSRF
// middleware in front of it or is marked as checking the token itself —
// and, either way, a request without the token is refused with 403 by a
// role that may use the route.
func TestCSRFEveryUnsafeRoute(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"susi", "anna", "adam"} {
		e.enroll(name)
	}
	byRole := map[incident.Role]string{incident.RoleWorker: "wanda", incident.RoleSupervisor: "susi", incident.RoleAuditor: "anna", incident.RoleAdmin: "adam"}
	for _, r := range routeTable() {
		if !unsafe(r.method) {
			if r.csrf != csrfMiddleware {
				t.Errorf("%s %s: a safe method marked csrfInHandler", r.method, r.path)
			}
			continue
		}
		switch r.csrf {
		case csrfMiddleware:
		case csrfInHandler:
			if r.api || r.method != http.MethodPost {
				t.Errorf("%s %s: only page POSTs may check CSRF in the handler", r.method, r.path)
			}
		case csrfSignedToken:
			if r.api || r.method != http.MethodPost || r.access != public {
				t.Errorf("%s %s: only public page POSTs may take a signed token instead", r.method, r.path)
			}
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				// Without a signed token nothing happens (404 here: no
				// identity provider; TestOIDCBackchannelLogout has one).
				if w := e.anon().do(r.method, r.path, url.Values{"logout_token": {"x"}}); w.Code < 400 {
					t.Fatalf("without a valid signed token: status %d", w.Code)
				}
			})
			continue
		default:
			t.Errorf("%s %s: no CSRF check", r.method, r.path)
		}
		path := strings.NewReplacer(":id", "00000000000000000000000000000000", ":key", "chat", ":name", "nobody").Replace(r.path)
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			var c *client
			switch {
			case r.access == public:
				c = e.anon()
				c.get("/login")
			case r.access == halfSignedIn:
				c = e.anon()
				c.get("/login")
				wantRedirect(t, c.post("/login", "username", "susi", "password", "correct horse susi"), "/login/second-factor")
			default:
				c = e.as(byRole[r.roles[0]])
			}
			var w *httptest.ResponseRecorder
			switch {
			case r.api:
				w = c.do(r.method, path, nil) // no X-CSRF-Token
			case r.csrf == csrfInHandler:
				body, ctype := multipartBody(t, [][2]string{{"category", "violence"}, {"csrf", c.csrf}})
				w = c.raw(r.method, path, ctype, body)
			default:
				w = c.do(r.method, path, url.Values{"x": {"1"}})
			}
			if w.Code != http.StatusForbidden {
				t.Fatalf("without a CSRF token: status %d, want 403\n%s", w.Code, w.Body.String())
			}
		})
	}
}

// TestRouterMatchesTable: the router serves exactly the table's routes.
func TestRouterMatchesTable(t *testing.T) {
	e := newEnv(t)
	var got, want []string
	for _, r := range e.srv.engine.Routes() {
		got = append(got, r.Method+" "+r.Path)
	}
	for _, r := range routeTable() {
		want = append(want, r.method+" "+r.path)
		if r.handler == nil {
			t.Errorf("%s %s has no handler", r.method, r.path)
		}
		if r.access == signedIn && len(r.roles) == 0 {
			t.Errorf("%s %s: signed-in route without roles", r.method, r.path)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("router routes differ from the table:\n got %v\nwant %v", got, want)
	}
	var golden []string
	for _, g := range goldenRoutes {
		golden = append(golden, g.key())
	}
	sort.Strings(golden)
	if !slices.Equal(got, golden) {
		t.Fatalf("router routes differ from the golden table:\n got %v\nwant %v", got, golden)
	}
}
