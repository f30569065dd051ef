package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
)

// logout ends the session (Service.SignOut). When the domain says the
// person signs out at the identity provider too (a linked account), and
// the provider has an end-session endpoint, the browser goes on there
// (303, OpenID Connect RP-Initiated Logout, with the ID token hint the
// domain hands over when it keeps one), and the provider sends it
// back to /signed-out. Local accounts and providers without the endpoint
// come back to the login page as before.
func (s *Server) logout(c *gin.Context) {
	rs := st(c)
	ctx := c.Request.Context()
	out, err := s.svc.SignOut(ctx, rs.user, rs.session.TokenHash)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setCookie(c, "tresor", "", -1)
	rs.session = nil
	if out.AtProvider && s.idp != nil {
		// The page the sign-out form was on allowed the provider's
		// origin (pageCSP) only if it was known then; otherwise the
		// browser would refuse to follow the redirect.
		allowed := rs.formOrigin != ""
		to, err := s.idp.EndSessionURL(ctx, out.Issuer, out.IDTokenHint)
		switch {
		case err == nil && allowed:
			c.Redirect(http.StatusSeeOther, to)
			c.Abort()
			return
		case err == nil:
			s.log.Warn("sign-out at the identity provider skipped: its origin was not yet known to the page", "request_id", rs.requestID)
			s.redirect(c, signedOutPath+"?provider=unreached")
			return
		case errors.Is(err, incident.ErrUnavailable):
			s.log.Warn("sign-out at the identity provider skipped", "request_id", rs.requestID, "err", incident.ErrorClass(err))
			s.redirect(c, signedOutPath+"?provider=unreached")
			return
		case !errors.Is(err, oidcrp.ErrNoEndSession):
			s.log.Warn("sign-out at the identity provider failed", "request_id", rs.requestID, "err", incident.ErrorClass(err))
		}
	}
	s.redirect(c, "/login?done=signed_out")
}

// signedOutPath is where the identity provider sends the browser after
// signing out there (post_logout_redirect_uri, TRESOR_PUBLIC_URL +
// signedOutPath).
const signedOutPath = "/signed-out"

// signedOutView is the signed-out page's data.
type signedOutView struct {
	// Unreached: Tresor's session ended, but the person could not be
	// sent to the provider to sign out there.
	Unreached bool
}

// signedOut is the page the identity provider sends the browser back to.
// It is a public page: the provider's redirect is cross-site, so no
// session cookie comes along, and there is none left anyway.
func (s *Server) signedOut(c *gin.Context) {
	if s.idp == nil {
		s.redirect(c, "/login?done=signed_out")
		return
	}
	if sess := st(c).session; sess != nil && sess.Stage == account.StageActive {
		s.redirect(c, "/") // still signed in here: the page would not be true
		return
	}
	s.render(c, http.StatusOK, "signed_out", signedOutView{Unreached: c.Query("provider") == "unreached"})
}
