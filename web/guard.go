package web

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// errPasswordChange: the account's password was set by an admin and must
// be changed (on the password page) before anything else.
var errPasswordChange = fmt.Errorf("%w: change the password an admin set first", incident.ErrForbidden)

// guard enforces a route's access rule before its handler runs.
func (s *Server) guard(r route) gin.HandlerFunc {
	return func(c *gin.Context) {
		sess := st(c).session
		switch r.access {
		case public:
		case halfSignedIn:
			switch {
			case sess == nil:
				s.redirect(c, "/login")
				return
			case sess.Stage != account.StageSecondFactor:
				s.redirect(c, "/")
				return
			}
		case signedIn:
			switch {
			case sess == nil:
				s.redirect(c, "/login")
				return
			case sess.Stage == account.StageSecondFactor:
				s.redirect(c, "/login/second-factor")
				return
			case sess.Stage == account.StageEnroll && !r.enroll:
				s.redirect(c, "/account/second-factor")
				return
			case st(c).user.MustChangePassword && !r.password:
				if r.api {
					s.failJSON(c, errPasswordChange)
					c.Abort()
					return
				}
				s.redirect(c, "/account/password")
				return
			case !slices.Contains(r.roles, st(c).user.Role):
				s.fail(c, incident.ErrForbidden)
				c.Abort()
				return
			}
		}
		c.Next()
	}
}

// redirect sends the browser to path with 303 See Other and stops.
func (s *Server) redirect(c *gin.Context, path string) {
	c.Redirect(http.StatusSeeOther, path)
	c.Abort()
}
