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

// csrfMode says who checks the CSRF token of a state-changing route.
type csrfMode int

const (
	// csrfMiddleware: the router checks it before the handler runs —
	// checkCSRF (the form field) for pages, the X-CSRF-Token header for
	// API calls with a session cookie (bearer tokens need none).
	csrfMiddleware csrfMode = iota
	// csrfInHandler: the handler checks the token itself, as the first
	// part of a streamed multipart body and before reading any other
	// part. Only for routes whose body must not be parsed up front.
	csrfInHandler
	// csrfSignedToken: no browser sends this request; it carries a token
	// signed by the identity provider instead, which the handler checks
	// first (the back-channel logout). Public page POSTs only.
	csrfSignedToken
)

// route is one entry of the route table.
type route struct {
	method string
	path   string
	access access
	roles  []incident.Role // for signedIn
	// enroll lets a user who still has to set up the second factor in.
	enroll bool
	// password lets a user in who must change a password an admin set.
	password bool
	// api marks a JSON route under /api/v1: bearer token or session
	// cookie, JSON errors, no redirects.
	api bool
	// csrf says who checks the CSRF token (state-changing methods only).
	csrf csrfMode
	// upload raises the body limit to the policy's upload size.
	upload bool
	// long marks a request that lasts as long as its client (an event
	// stream, a download) or runs for seconds (verifying the whole audit
	// log): it takes no admission slot, so that it never holds up the
	// pages behind it. Uploads are long too.
	long    bool
	handler func(*Server, *gin.Context)
}

var (
	everyone    = []incident.Role{incident.RoleWorker, incident.RoleSupervisor, incident.RoleAuditor, incident.RoleAdmin}
	reporters   = []incident.Role{incident.RoleWorker, incident.RoleSupervisor}
	caseReaders = []incident.Role{incident.RoleWorker, incident.RoleSupervisor, incident.RoleAuditor}
	supervisors = []incident.Role{incident.RoleSupervisor}
	auditors    = []incident.Role{incident.RoleAuditor}
	admins      = []incident.Role{incident.RoleAdmin}
	// accountDeciders decide account requests (separation of duties).
	accountDeciders = []incident.Role{incident.RoleAdmin, incident.RoleSupervisor}
)

// routeTable is every route of the interface. The router reads it; a
// change here must be mirrored in the hand-written golden table
// (routes_golden_test.go), against which the role matrix test runs.
func routeTable() []route {
	return []route{
		{method: http.MethodGet, path: "/static/style.css", access: public, handler: (*Server).staticCSS},
		{method: http.MethodGet, path: "/static/whatsapp-link.js", access: public, handler: (*Server).staticLinkJS},
		{method: http.MethodGet, path: "/static/favicon.svg", access: public, handler: (*Server).staticFavicon},
		// Health probes: no session, no admission slot, so that a full
		// queue or an absent database still gets an answer.
		{method: http.MethodGet, path: "/healthz", access: public, long: true, handler: (*Server).healthz},
		{method: http.MethodGet, path: "/readyz", access: public, long: true, handler: (*Server).readyz},
		{method: http.MethodGet, path: "/login", access: public, handler: (*Server).loginForm},
		{method: http.MethodPost, path: "/login", access: public, handler: (*Server).loginSubmit},
		{method: http.MethodPost, path: "/language", access: public, handler: (*Server).languageSet},
		// Sign-in through the identity provider: plain GETs, as the
		// provider's redirect back is one. start only sets the flow
		// cookie and sends the browser on; callback checks the answer
		// against that cookie (state, PKCE, nonce) instead of a CSRF
		// token. 404 when no identity provider is configured.
		{method: http.MethodGet, path: "/auth/oidc/start", access: public, handler: (*Server).oidcStart},
		{method: http.MethodGet, path: "/auth/oidc/callback", access: public, handler: (*Server).oidcCallback},
		{method: http.MethodPost, path: "/auth/oidc/backchannel-logout", access: public, csrf: csrfSignedToken, handler: (*Server).oidcBackchannelLogout},
		// Where the identity provider sends the browser after signing
		// out there (the post-logout redirect URI).
		{method: http.MethodGet, path: "/signed-out", access: public, handler: (*Server).signedOut},
		// A confirmation at the identity provider for an approval
		// (oidc.step_up: provider): a form on the approval pages.
		{method: http.MethodPost, path: "/auth/oidc/step-up", access: signedIn, roles: accountDeciders, handler: (*Server).oidcStepUpStart},
		{method: http.MethodGet, path: "/login/second-factor", access: halfSignedIn, handler: (*Server).secondFactorForm},
		{method: http.MethodPost, path: "/login/second-factor", access: halfSignedIn, handler: (*Server).secondFactorSubmit},

		{method: http.MethodGet, path: "/", access: signedIn, roles: everyone, handler: (*Server).home},
		{method: http.MethodPost, path: "/logout", access: signedIn, roles: everyone, enroll: true, password: true, handler: (*Server).logout},
		{method: http.MethodGet, path: "/account/second-factor", access: signedIn, roles: everyone, enroll: true, handler: (*Server).enrollForm},
		{method: http.MethodPost, path: "/account/second-factor", access: signedIn, roles: everyone, enroll: true, handler: (*Server).enrollSubmit},

		{method: http.MethodGet, path: "/incidents", access: signedIn, roles: caseReaders, handler: (*Server).incidentList},
		{method: http.MethodGet, path: "/incidents/new", access: signedIn, roles: reporters, handler: (*Server).incidentSafety},
		{method: http.MethodGet, path: "/incidents/new/details", access: signedIn, roles: reporters, handler: (*Server).incidentNew},
		{method: http.MethodPost, path: "/incidents", access: signedIn, roles: reporters, handler: (*Server).incidentCreate},
		{method: http.MethodPost, path: "/incidents/upload", access: signedIn, roles: reporters, csrf: csrfInHandler, upload: true, handler: (*Server).incidentUpload},
		{method: http.MethodGet, path: "/incidents/:id", access: signedIn, roles: caseReaders, handler: (*Server).incidentShow},
		{method: http.MethodPost, path: "/incidents/:id/submit", access: signedIn, roles: reporters, handler: (*Server).incidentSubmit},
		{method: http.MethodPost, path: "/incidents/:id/choose", access: signedIn, roles: reporters, csrf: csrfInHandler, upload: true, handler: (*Server).incidentChoose},
		{method: http.MethodPost, path: "/incidents/:id/steps/:key/confirm", access: signedIn, roles: reporters, handler: (*Server).stepConfirm},
		{method: http.MethodPost, path: "/incidents/:id/steps/:key/impossible", access: signedIn, roles: reporters, handler: (*Server).stepImpossible},
		{method: http.MethodPost, path: "/incidents/:id/release", access: signedIn, roles: reporters, handler: (*Server).releaseRequest},
		{method: http.MethodPost, path: "/incidents/:id/legal-hold", access: signedIn, roles: supervisors, handler: (*Server).legalHoldSet},
		{method: http.MethodPost, path: "/incidents/:id/destroy", access: signedIn, roles: supervisors, handler: (*Server).destroyRequest},

		{method: http.MethodGet, path: "/whatsapp", access: signedIn, roles: reporters, handler: (*Server).whatsappPage},
		{method: http.MethodPost, path: "/whatsapp/link", access: signedIn, roles: reporters, handler: (*Server).whatsappLinkStart},
		{method: http.MethodGet, path: "/whatsapp/link", access: signedIn, roles: reporters, handler: (*Server).whatsappLinkPage},
		{method: http.MethodGet, path: "/whatsapp/link/events", access: signedIn, roles: reporters, long: true, handler: (*Server).whatsappLinkEvents},
		{method: http.MethodPost, path: "/whatsapp/pair", access: signedIn, roles: reporters, handler: (*Server).whatsappPair},
		{method: http.MethodPost, path: "/whatsapp/unlink", access: signedIn, roles: reporters, handler: (*Server).whatsappUnlink},

		{method: http.MethodGet, path: "/approvals", access: signedIn, roles: supervisors, handler: (*Server).approvalInbox},
		{method: http.MethodPost, path: "/requests/:id/decide", access: signedIn, roles: supervisors, handler: (*Server).requestDecide},
		{method: http.MethodPost, path: "/requests/:id/handover", access: signedIn, roles: supervisors, handler: (*Server).handoverRecord},
		{method: http.MethodPost, path: "/requests/:id/download-link", access: signedIn, roles: supervisors, handler: (*Server).downloadLinkIssue},
		{method: http.MethodPost, path: "/requests/:id/download", access: signedIn, roles: supervisors, long: true, handler: (*Server).downloadBundle},

		{method: http.MethodGet, path: "/audit", access: signedIn, roles: auditors, handler: (*Server).auditIndex},
		{method: http.MethodPost, path: "/audit/verify", access: signedIn, roles: auditors, long: true, handler: (*Server).auditVerify},
		{method: http.MethodGet, path: "/audit/export", access: signedIn, roles: auditors, handler: (*Server).auditExport},
		{method: http.MethodGet, path: "/audit/record", access: signedIn, roles: auditors, handler: (*Server).processingRecord},
		{method: http.MethodGet, path: "/incidents/:id/report", access: signedIn, roles: auditors, handler: (*Server).incidentReport},

		{method: http.MethodGet, path: "/admin/users", access: signedIn, roles: admins, handler: (*Server).userList},
		{method: http.MethodPost, path: "/admin/users", access: signedIn, roles: admins, handler: (*Server).userCreate},
		{method: http.MethodPost, path: "/admin/users/:name/disabled", access: signedIn, roles: admins, handler: (*Server).userSetDisabled},
		{method: http.MethodPost, path: "/admin/users/:name/second-factor/reset", access: signedIn, roles: admins, handler: (*Server).userResetSecondFactor},
		{method: http.MethodPost, path: "/admin/users/:name/password/reset", access: signedIn, roles: admins, handler: (*Server).userResetPassword},
		{method: http.MethodGet, path: "/account-requests", access: signedIn, roles: accountDeciders, handler: (*Server).accountRequestList},
		{method: http.MethodPost, path: "/account-requests/:id/decide", access: signedIn, roles: accountDeciders, handler: (*Server).accountRequestDecide},
		{method: http.MethodGet, path: "/account/password", access: signedIn, roles: everyone, password: true, handler: (*Server).passwordForm},
		{method: http.MethodPost, path: "/account/password", access: signedIn, roles: everyone, password: true, handler: (*Server).passwordSubmit},
		{method: http.MethodPost, path: "/admin/users/:name/role", access: signedIn, roles: admins, handler: (*Server).userSetRole},
		{method: http.MethodPost, path: "/admin/users/:name/email", access: signedIn, roles: admins, handler: (*Server).userSetEmail},
		{method: http.MethodPost, path: "/admin/users/:name/unlock", access: signedIn, roles: admins, handler: (*Server).userUnlock},
		{method: http.MethodGet, path: "/admin/devices", access: signedIn, roles: admins, handler: (*Server).deviceList},

		{method: http.MethodGet, path: "/account/tokens", access: signedIn, roles: everyone, handler: (*Server).tokenList},
		{method: http.MethodPost, path: "/account/tokens", access: signedIn, roles: everyone, handler: (*Server).tokenCreate},
		{method: http.MethodPost, path: "/account/tokens/:id/revoke", access: signedIn, roles: everyone, handler: (*Server).tokenRevoke},

		{method: http.MethodGet, path: "/api/v1/openapi.yaml", access: public, api: true, handler: (*Server).apiOpenAPI},
		{method: http.MethodGet, path: "/api/v1/incidents", access: signedIn, roles: caseReaders, api: true, handler: (*Server).apiIncidentList},
		{method: http.MethodPost, path: "/api/v1/incidents", access: signedIn, roles: reporters, api: true, handler: (*Server).apiIncidentFlag},
		{method: http.MethodGet, path: "/api/v1/incidents/:id", access: signedIn, roles: caseReaders, api: true, handler: (*Server).apiIncidentShow},
		{method: http.MethodPost, path: "/api/v1/incidents/:id/submit", access: signedIn, roles: reporters, api: true, handler: (*Server).apiIncidentSubmit},
		{method: http.MethodPost, path: "/api/v1/incidents/:id/steps/:key/confirm", access: signedIn, roles: reporters, api: true, handler: (*Server).apiStepConfirm},
		{method: http.MethodPost, path: "/api/v1/incidents/:id/steps/:key/impossible", access: signedIn, roles: reporters, api: true, handler: (*Server).apiStepImpossible},
		{method: http.MethodPost, path: "/api/v1/incidents/:id/release", access: signedIn, roles: reporters, api: true, handler: (*Server).apiReleaseRequest},
		{method: http.MethodGet, path: "/api/v1/requests", access: signedIn, roles: caseReaders, api: true, handler: (*Server).apiRequestList},
		{method: http.MethodPost, path: "/api/v1/requests/:id/decide", access: signedIn, roles: supervisors, api: true, handler: (*Server).apiRequestDecide},
		{method: http.MethodPost, path: "/api/v1/requests/:id/handover", access: signedIn, roles: supervisors, api: true, handler: (*Server).apiHandoverRecord},
		{method: http.MethodPost, path: "/api/v1/audit/verify", access: signedIn, roles: auditors, api: true, long: true, handler: (*Server).apiAuditVerify},
		{method: http.MethodGet, path: "/api/v1/audit/export", access: signedIn, roles: auditors, api: true, handler: (*Server).apiAuditExport},
		{method: http.MethodGet, path: "/api/v1/audit/checkpoint", access: signedIn, roles: auditors, api: true, handler: (*Server).apiAuditCheckpoint},
		{method: http.MethodGet, path: "/api/v1/audit/consistency", access: signedIn, roles: auditors, api: true, long: true, handler: (*Server).apiAuditConsistency},
		{method: http.MethodPost, path: "/api/v1/audit/cosignatures", access: signedIn, roles: auditors, api: true, handler: (*Server).apiAuditCosign},
		{method: http.MethodGet, path: "/api/v1/users", access: signedIn, roles: admins, api: true, handler: (*Server).apiUserList},
		{method: http.MethodPost, path: "/api/v1/users", access: signedIn, roles: admins, api: true, handler: (*Server).apiUserCreate},
		{method: http.MethodPost, path: "/api/v1/users/:name/disabled", access: signedIn, roles: admins, api: true, handler: (*Server).apiUserSetDisabled},
		{method: http.MethodPost, path: "/api/v1/users/:name/role", access: signedIn, roles: admins, api: true, handler: (*Server).apiUserSetRole},
		{method: http.MethodPost, path: "/api/v1/users/:name/email", access: signedIn, roles: admins, api: true, handler: (*Server).apiUserSetEmail},
		{method: http.MethodPost, path: "/api/v1/users/:name/unlock", access: signedIn, roles: admins, api: true, handler: (*Server).apiUserUnlock},
		{method: http.MethodPost, path: "/api/v1/users/:name/password/reset", access: signedIn, roles: admins, api: true, handler: (*Server).apiUserResetPassword},
		{method: http.MethodPost, path: "/api/v1/account/password", access: signedIn, roles: everyone, api: true, password: true, handler: (*Server).apiAccountPassword},
		{method: http.MethodGet, path: "/api/v1/account-requests", access: signedIn, roles: accountDeciders, api: true, handler: (*Server).apiAccountRequestList},
		{method: http.MethodPost, path: "/api/v1/account-requests/:id/decide", access: signedIn, roles: accountDeciders, api: true, handler: (*Server).apiAccountRequestDecide},
	}
}

// unsafe reports whether a method changes state (and so needs CSRF).
func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// routes installs the middleware and the route table on e.
func (s *Server) routes(e *gin.Engine) {
	e.Use(s.observe, s.recovery, s.requestID, s.accessLog, s.securityHeaders, s.limitBody(maxFormBytes), s.admission.admit, s.loadSession)
	e.NoRoute(func(c *gin.Context) {
		if isAPI(c.Request.URL.Path) {
			s.failJSON(c, incident.ErrNotFound)
			return
		}
		s.fail(c, incident.ErrNotFound)
	})
	e.NoMethod(func(c *gin.Context) {
		if isAPI(c.Request.URL.Path) {
			s.jsonError(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
			return
		}
		s.failStatus(c, http.StatusMethodNotAllowed)
	})
	for _, r := range routeTable() {
		var chain []gin.HandlerFunc
		if r.upload {
			// Replaces the global form limit: a larger limit must wrap
			// the original body, not the small limiter.
			chain = append(chain, s.uploadBody)
		}
		switch {
		case r.api:
			chain = append(chain, s.apiGuard(r))
		default:
			chain = append(chain, s.guard(r))
			if unsafe(r.method) && r.csrf == csrfMiddleware {
				chain = append(chain, s.checkCSRF)
			}
		}
		h := r.handler
		chain = append(chain, func(c *gin.Context) { h(s, c) })
		e.Handle(r.method, r.path, chain...)
	}
}
