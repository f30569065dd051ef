package web

import (
	"github.com/gin-gonic/gin"
)

// destroyRequest asks for four-eyes approval to destroy an incident's
// evidence before its retention ends (supervisors; another decides).
func (s *Server) destroyRequest(c *gin.Context) {
	var f reasonForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.svc.RequestDestroy(c.Request.Context(), actor(c), c.Param("id"), f.Reason); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+c.Param("id")+"?done=destroy_requested")
}
