package web

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// TestRoleMatrix requests every route of the route table as every role
// and anonymously, and checks the status the table implies. A route added
// to the table is covered automatically; a route registered outside the
// table fails TestRouterMatchesTable.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"susi", "sven", "anna", "adam"} {
		e.enroll(name)
	}
	byRole := map[incident.Role]string{incident.RoleWorker: "wanda", incident.RoleSupervisor: "susi", incident.RoleAuditor: "anna", incident.RoleAdmin: "adam"}
	for _, r := range routeTable() {
		path := strings.NewReplacer(":id", "00000000000000000000000000000000", ":key", "chat", ":name", "nobody").Replace(r.path)
		for _, who := range append([]incident.Role{""}, incident.Roles...) {
			label := string(who)
			if who == "" {
				label = "anonymous"
			}
			t.Run(r.method+" "+r.path+" as "+label, func(t *testing.T) {
				var c *client
				if who == "" {
					c = e.anon()
					c.get("/login") // a visitor's CSRF token
				} else {
					c = e.as(byRole[who])
				}
				var w = c.do(r.method, path, nil)
				if r.method == http.MethodPost {
					w = c.post(path)
				}
				loc := w.Header().Get("Location")
				switch {
				case r.access == public:
					if w.Code == http.StatusForbidden || w.Code >= 500 {
						t.Fatalf("public route: status %d", w.Code)
					}
				case who == "":
					if w.Code != http.StatusSeeOther || loc != "/login" {
						t.Fatalf("anonymous: status %d location %q, want 303 to /login", w.Code, loc)
					}
				case r.access == halfSignedIn:
					if w.Code != http.StatusSeeOther || loc != "/" {
						t.Fatalf("signed in on a half-signed-in route: %d %q, want 303 to /", w.Code, loc)
					}
				case slices.Contains(r.roles, who):
					if w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized || w.Code >= 500 || loc == "/login" {
						t.Fatalf("allowed role: status %d location %q\n%s", w.Code, loc, w.Body.String())
					}
				default:
					if w.Code != http.StatusForbidden {
						t.Fatalf("forbidden role: status %d location %q, want 403", w.Code, loc)
					}
				}
			})
		}
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
}
