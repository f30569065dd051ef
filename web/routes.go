package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// access is who may reach a route.
type access int

const (
	// anyone, signed in or not.
	public access = iota
	// halfSignedIn: a session whose password was right and whose second
	// factor is due.
	halfSignedIn
	// signedIn: a fully signed-in user with one of the route's roles.
	signedIn
)

// route is one entry of the route table.
type route struct {
	method string
	path   string
	access access
	roles  []incident.Role // for signedIn
	// enroll lets a user who still has to set up the second factor in.
	enroll  bool
	handler func(*Server, *gin.Context)
}

var (
	everyone    = []incident.Role{incident.RoleWorker, incident.RoleSupervisor, incident.RoleAuditor, incident.RoleAdmin}
	reporters   = []incident.Role{incident.RoleWorker, incident.RoleSupervisor}
	caseReaders = []incident.Role{incident.RoleWorker, incident.RoleSupervisor, incident.RoleAuditor}
	supervisors = []incident.Role{incident.RoleSupervisor}
	auditors    = []incident.Role{incident.RoleAuditor}
	admins      = []incident.Role{incident.RoleAdmin}
)

// routeTable is every route of the interface. The router and the role
// matrix test both read it, so no route escapes the test.
func routeTable() []route {
	return []route{
		{method: http.MethodGet, path: "/static/style.css", access: public, handler: (*Server).staticCSS},
		{method: http.MethodGet, path: "/login", access: public, handler: (*Server).loginForm},
		{method: http.MethodPost, path: "/login", access: public, handler: (*Server).loginSubmit},
		{method: http.MethodPost, path: "/language", access: public, handler: (*Server).languageSet},
		{method: http.MethodGet, path: "/login/second-factor", access: halfSignedIn, handler: (*Server).secondFactorForm},
		{method: http.MethodPost, path: "/login/second-factor", access: halfSignedIn, handler: (*Server).secondFactorSubmit},

		{method: http.MethodGet, path: "/", access: signedIn, roles: everyone, handler: (*Server).home},
		{method: http.MethodPost, path: "/logout", access: signedIn, roles: everyone, enroll: true, handler: (*Server).logout},
		{method: http.MethodGet, path: "/account/second-factor", access: signedIn, roles: everyone, enroll: true, handler: (*Server).enrollForm},
		{method: http.MethodPost, path: "/account/second-factor", access: signedIn, roles: everyone, enroll: true, handler: (*Server).enrollSubmit},

		{method: http.MethodGet, path: "/incidents", access: signedIn, roles: caseReaders, handler: (*Server).incidentList},
		{method: http.MethodGet, path: "/incidents/new", access: signedIn, roles: reporters, handler: (*Server).incidentSafety},
		{method: http.MethodGet, path: "/incidents/new/details", access: signedIn, roles: reporters, handler: (*Server).incidentNew},
		{method: http.MethodPost, path: "/incidents", access: signedIn, roles: reporters, handler: (*Server).incidentCreate},
		{method: http.MethodGet, path: "/incidents/:id", access: signedIn, roles: caseReaders, handler: (*Server).incidentShow},
		{method: http.MethodPost, path: "/incidents/:id/submit", access: signedIn, roles: reporters, handler: (*Server).incidentSubmit},
		{method: http.MethodPost, path: "/incidents/:id/steps/:key/confirm", access: signedIn, roles: reporters, handler: (*Server).stepConfirm},
		{method: http.MethodPost, path: "/incidents/:id/steps/:key/impossible", access: signedIn, roles: reporters, handler: (*Server).stepImpossible},
		{method: http.MethodPost, path: "/incidents/:id/release", access: signedIn, roles: reporters, handler: (*Server).releaseRequest},

		{method: http.MethodGet, path: "/approvals", access: signedIn, roles: supervisors, handler: (*Server).approvalInbox},
		{method: http.MethodPost, path: "/requests/:id/decide", access: signedIn, roles: supervisors, handler: (*Server).requestDecide},
		{method: http.MethodPost, path: "/requests/:id/handover", access: signedIn, roles: supervisors, handler: (*Server).handoverRecord},

		{method: http.MethodGet, path: "/audit", access: signedIn, roles: auditors, handler: (*Server).auditIndex},
		{method: http.MethodPost, path: "/audit/verify", access: signedIn, roles: auditors, handler: (*Server).auditVerify},
		{method: http.MethodGet, path: "/audit/export", access: signedIn, roles: auditors, handler: (*Server).auditExport},

		{method: http.MethodGet, path: "/admin/users", access: signedIn, roles: admins, handler: (*Server).userList},
		{method: http.MethodPost, path: "/admin/users", access: signedIn, roles: admins, handler: (*Server).userCreate},
		{method: http.MethodPost, path: "/admin/users/:name/disabled", access: signedIn, roles: admins, handler: (*Server).userSetDisabled},
		{method: http.MethodPost, path: "/admin/users/:name/second-factor/reset", access: signedIn, roles: admins, handler: (*Server).userResetSecondFactor},
	}
}

// routes installs the middleware and the route table on e.
func (s *Server) routes(e *gin.Engine) {
	e.Use(s.recovery, s.requestID, s.accessLog, s.securityHeaders, s.limitBody, s.loadSession)
	e.NoRoute(func(c *gin.Context) { s.fail(c, incident.ErrNotFound) })
	e.NoMethod(func(c *gin.Context) { s.failStatus(c, http.StatusMethodNotAllowed) })
	for _, r := range routeTable() {
		chain := []gin.HandlerFunc{s.guard(r)}
		if r.method != http.MethodGet && r.method != http.MethodHead {
			chain = append(chain, s.checkCSRF)
		}
		h := r.handler
		chain = append(chain, func(c *gin.Context) { h(s, c) })
		e.Handle(r.method, r.path, chain...)
	}
}
