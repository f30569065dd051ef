package web

import (
	"github.com/gin-gonic/gin"
)

// userResetSecondFactor removes a user's second factor and recovery codes
// and ends their sessions and API tokens (incident.Service.
// ResetSecondFactor); they enrol again at their next sign-in.
func (s *Server) userResetSecondFactor(c *gin.Context) {
	if _, err := s.svc.ResetSecondFactor(c.Request.Context(), actor(c), c.Param("name")); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/admin/users?done=second_factor_reset")
}
