package web

import (
	"github.com/gin-gonic/gin"
)

// stepImpossible records that a deletion step cannot be done, and why.
func (s *Server) stepImpossible(c *gin.Context) {
	var f reasonForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.svc.MarkStepImpossible(c.Request.Context(), actor(c), c.Param("id"), c.Param("key"), f.Reason); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+c.Param("id")+"?done=step_impossible#steps")
}
