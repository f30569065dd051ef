package web

import (
	"github.com/gin-gonic/gin"
)

// stepConfirm records that the reporting worker did a deletion step.
func (s *Server) stepConfirm(c *gin.Context) {
	if _, err := s.svc.ConfirmStep(c.Request.Context(), actor(c), c.Param("id"), c.Param("key")); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+c.Param("id")+"?done=step_confirmed#steps")
}
