package web

import (
	"github.com/gin-gonic/gin"
)

// userResetSecondFactor removes a user's second factor and recovery codes
// and ends their sessions and API tokens (incident.Service.
// ResetSecondFactor); they enrol again at their next sign-in. For an
// account that approves, the reset waits for a second person.
func (s *Server) userResetSecondFactor(c *gin.Context) {
	ch, err := s.svc.ResetSecondFactor(c.Request.Context(), actor(c), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if ch.Pending() {
		s.redirect(c, "/admin/users?done=account_approval_requested")
		return
	}
	s.redirect(c, "/admin/users?done=second_factor_reset")
}
