package web

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// goldenRoute is one route as the security review expects it: written out
// by hand below, not derived from routeTable, so that a route that is
// added, removed, or given other roles, another kind or another CSRF
// check fails TestRouteTableMatchesGolden (and TestRoleMatrix, which
// requests every golden route as every role) until this table is changed
// too — in the same diff, where a reviewer sees it.
type goldenRoute struct {
	method, path string
	// who may use it: "public" (anyone), "halfSignedIn" (password right,
	// second factor due), or the roles allowed, space-separated.
	who string
	// kind: "page" (HTML, redirects) or "api" (JSON under /api/v1).
	kind string
	// csrf: "-" for safe methods; "router" when the middleware checks the
	// token (the form field for pages, X-CSRF-Token for API calls with a
	// session cookie), "handler" when the handler checks it first thing,
	// "signed" when no browser sends it and it carries a token the handler
	// verifies instead (the identity provider's back-channel logout).
	csrf string
}

// goldenRoutes is every route of the interface, by hand.
var goldenRoutes = []goldenRoute{
	{"GET", "/static/style.css", "public", "page", "-"},
	{"GET", "/static/whatsapp-link.js", "public", "page", "-"},
	{"GET", "/static/favicon.svg", "public", "page", "-"},
	{"GET", "/healthz", "public", "page", "-"},
	{"GET", "/readyz", "public", "page", "-"},
	{"GET", "/login", "public", "page", "-"},
	{"POST", "/login", "public", "page", "router"},
	{"GET", "/auth/oidc/start", "public", "page", "-"},
	{"GET", "/auth/oidc/callback", "public", "page", "-"},
	{"POST", "/auth/oidc/backchannel-logout", "public", "page", "signed"},
	{"GET", "/signed-out", "public", "page", "-"},
	{"POST", "/auth/oidc/step-up", "admin supervisor", "page", "router"},
	{"POST", "/language", "public", "page", "router"},
	{"GET", "/login/second-factor", "halfSignedIn", "page", "-"},
	{"POST", "/login/second-factor", "halfSignedIn", "page", "router"},
	{"GET", "/", "worker supervisor auditor admin", "page", "-"},
	{"POST", "/logout", "worker supervisor auditor admin", "page", "router"},
	{"GET", "/account/second-factor", "worker supervisor auditor admin", "page", "-"},
	{"POST", "/account/second-factor", "worker supervisor auditor admin", "page", "router"},
	{"GET", "/incidents", "worker supervisor auditor", "page", "-"},
	{"GET", "/incidents/new", "worker supervisor", "page", "-"},
	{"GET", "/incidents/new/details", "worker supervisor", "page", "-"},
	{"POST", "/incidents", "worker supervisor", "page", "router"},
	{"POST", "/incidents/upload", "worker supervisor", "page", "handler"},
	{"GET", "/incidents/:id", "worker supervisor auditor", "page", "-"},
	{"POST", "/incidents/:id/submit", "worker supervisor", "page", "router"},
	{"POST", "/incidents/:id/choose", "worker supervisor", "page", "handler"},
	{"POST", "/incidents/:id/steps/:key/confirm", "worker supervisor", "page", "router"},
	{"POST", "/incidents/:id/steps/:key/impossible", "worker supervisor", "page", "router"},
	{"POST", "/incidents/:id/release", "worker supervisor", "page", "router"},
	{"POST", "/incidents/:id/legal-hold", "supervisor", "page", "router"},
	{"POST", "/incidents/:id/destroy", "supervisor", "page", "router"},
	{"GET", "/whatsapp", "worker supervisor", "page", "-"},
	{"POST", "/whatsapp/link", "worker supervisor", "page", "router"},
	{"GET", "/whatsapp/link", "worker supervisor", "page", "-"},
	{"GET", "/whatsapp/link/events", "worker supervisor", "page", "-"},
	{"POST", "/whatsapp/pair", "worker supervisor", "page", "router"},
	{"POST", "/whatsapp/unlink", "worker supervisor", "page", "router"},
	{"GET", "/approvals", "supervisor", "page", "-"},
	{"POST", "/requests/:id/decide", "supervisor", "page", "router"},
	{"POST", "/requests/:id/handover", "supervisor", "page", "router"},
	{"POST", "/requests/:id/download-link", "supervisor", "page", "router"},
	{"POST", "/requests/:id/download", "supervisor", "page", "router"},
	{"GET", "/audit", "auditor", "page", "-"},
	{"POST", "/audit/verify", "auditor", "page", "router"},
	{"GET", "/audit/export", "auditor", "page", "-"},
	{"GET", "/audit/record", "auditor", "page", "-"},
	{"GET", "/incidents/:id/report", "auditor", "page", "-"},
	{"GET", "/admin/users", "admin", "page", "-"},
	{"POST", "/admin/users", "admin", "page", "router"},
	{"POST", "/admin/users/:name/disabled", "admin", "page", "router"},
	{"POST", "/admin/users/:name/second-factor/reset", "admin", "page", "router"},
	{"POST", "/admin/users/:name/role", "admin", "page", "router"},
	{"POST", "/admin/users/:name/password/reset", "admin", "page", "router"},
	{"GET", "/account-requests", "admin supervisor", "page", "-"},
	{"POST", "/account-requests/:id/decide", "admin supervisor", "page", "router"},
	{"POST", "/admin/users/:name/email", "admin", "page", "router"},
	{"POST", "/admin/users/:name/unlock", "admin", "page", "router"},
	{"GET", "/admin/devices", "admin", "page", "-"},
	{"GET", "/account/tokens", "worker supervisor auditor admin", "page", "-"},
	{"POST", "/account/tokens", "worker supervisor auditor admin", "page", "router"},
	{"GET", "/account/password", "worker supervisor auditor admin", "page", "-"},
	{"POST", "/account/password", "worker supervisor auditor admin", "page", "router"},
	{"POST", "/account/tokens/:id/revoke", "worker supervisor auditor admin", "page", "router"},
	{"GET", "/api/v1/openapi.yaml", "public", "api", "-"},
	{"GET", "/api/v1/incidents", "worker supervisor auditor", "api", "-"},
	{"POST", "/api/v1/incidents", "worker supervisor", "api", "router"},
	{"GET", "/api/v1/incidents/:id", "worker supervisor auditor", "api", "-"},
	{"POST", "/api/v1/incidents/:id/submit", "worker supervisor", "api", "router"},
	{"POST", "/api/v1/incidents/:id/steps/:key/confirm", "worker supervisor", "api", "router"},
	{"POST", "/api/v1/incidents/:id/steps/:key/impossible", "worker supervisor", "api", "router"},
	{"POST", "/api/v1/incidents/:id/release", "worker supervisor", "api", "router"},
	{"GET", "/api/v1/requests", "worker supervisor auditor", "api", "-"},
	{"POST", "/api/v1/requests/:id/decide", "supervisor", "api", "router"},
	{"POST", "/api/v1/requests/:id/handover", "supervisor", "api", "router"},
	{"POST", "/api/v1/audit/verify", "auditor", "api", "router"},
	{"GET", "/api/v1/audit/export", "auditor", "api", "-"},
	{"GET", "/api/v1/audit/checkpoint", "auditor", "api", "-"},
	{"GET", "/api/v1/audit/consistency", "auditor", "api", "-"},
	{"POST", "/api/v1/audit/cosignatures", "auditor", "api", "router"},
	{"GET", "/api/v1/users", "admin", "api", "-"},
	{"POST", "/api/v1/users", "admin", "api", "router"},
	{"POST", "/api/v1/users/:name/disabled", "admin", "api", "router"},
	{"POST", "/api/v1/users/:name/role", "admin", "api", "router"},
	{"POST", "/api/v1/users/:name/password/reset", "admin", "api", "router"},
	{"POST", "/api/v1/account/password", "worker supervisor auditor admin", "api", "router"},
	{"GET", "/api/v1/account-requests", "admin supervisor", "api", "-"},
	{"POST", "/api/v1/account-requests/:id/decide", "admin supervisor", "api", "router"},
	{"POST", "/api/v1/users/:name/email", "admin", "api", "router"},
	{"POST", "/api/v1/users/:name/unlock", "admin", "api", "router"},
}

// roles returns the roles allowed on a signed-in route.
func (g goldenRoute) roles() []incident.Role {
	if g.who == "public" || g.who == "halfSignedIn" {
		return nil
	}
	var rs []incident.Role
	for _, r := range strings.Fields(g.who) {
		rs = append(rs, incident.Role(r))
	}
	return rs
}

func (g goldenRoute) key() string { return g.method + " " + g.path }

// golden describes a route of the route table in the golden table's terms.
func golden(r route) goldenRoute {
	g := goldenRoute{method: r.method, path: r.path, kind: "page", csrf: "-"}
	switch r.access {
	case public:
		g.who = "public"
	case halfSignedIn:
		g.who = "halfSignedIn"
	case signedIn:
		var rs []string
		for _, role := range r.roles {
			rs = append(rs, string(role))
		}
		g.who = strings.Join(rs, " ")
	default:
		g.who = "unknown access"
	}
	if r.api {
		g.kind = "api"
	}
	if unsafe(r.method) {
		switch r.csrf {
		case csrfMiddleware:
			g.csrf = "router"
		case csrfInHandler:
			g.csrf = "handler"
		case csrfSignedToken:
			g.csrf = "signed"
		default:
			g.csrf = "unknown"
		}
	}
	return g
}

// TestRouteTableMatchesGolden: the route table is exactly the golden
// table — no route more, none less, each with the same roles, kind and
// CSRF check.
func TestRouteTableMatchesGolden(t *testing.T) {
	want := map[string]goldenRoute{}
	for _, g := range goldenRoutes {
		if _, dup := want[g.key()]; dup {
			t.Errorf("golden table lists %s twice", g.key())
		}
		for _, r := range g.roles() {
			if !slices.Contains(incident.Roles, r) {
				t.Errorf("golden table: %s names the unknown role %q", g.key(), r)
			}
		}
		want[g.key()] = g
	}
	seen := map[string]bool{}
	for _, r := range routeTable() {
		got := golden(r)
		seen[got.key()] = true
		g, ok := want[got.key()]
		switch {
		case !ok:
			t.Errorf("%s is not in the golden table: add it to goldenRoutes (%+v) after review", got.key(), got)
		case !sameRoles(g, got) || g.kind != got.kind || g.csrf != got.csrf:
			t.Errorf("%s differs from the golden table:\n got  %+v\n want %+v", got.key(), got, g)
		}
	}
	for _, g := range goldenRoutes {
		if !seen[g.key()] {
			t.Errorf("%s is in the golden table but not served: remove it from goldenRoutes after review", g.key())
		}
	}
}

// sameRoles compares who may use two routes, in any order.
func sameRoles(a, b goldenRoute) bool {
	x, y := strings.Fields(a.who), strings.Fields(b.who)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// TestGoldenTableIsWellFormed: the hand-written table itself names no
// state-changing route without a CSRF check and no API route outside
// /api/v1.
func TestGoldenTableIsWellFormed(t *testing.T) {
	for _, g := range goldenRoutes {
		unsafeMethod := g.method != http.MethodGet
		switch {
		case unsafeMethod && g.csrf != "router" && g.csrf != "handler" && g.csrf != "signed":
			t.Errorf("%s: a state-changing route without a CSRF check", g.key())
		case !unsafeMethod && g.csrf != "-":
			t.Errorf("%s: a safe method with a CSRF mode", g.key())
		case g.csrf == "signed" && (g.who != "public" || g.path != "/auth/oidc/backchannel-logout"):
			t.Errorf("%s: only the back-channel logout takes a signed token instead of CSRF", g.key())
		case g.csrf == "handler" && g.kind != "page":
			t.Errorf("%s: only page uploads check CSRF in the handler", g.key())
		case g.kind == "api" != strings.HasPrefix(g.path, "/api/v1/"):
			t.Errorf("%s: kind %q does not match its path", g.key(), g.kind)
		}
	}
}
