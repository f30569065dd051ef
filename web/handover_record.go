package web

import (
	"github.com/gin-gonic/gin"
)

// handoverRecord notes that released evidence was handed to the recipient.
func (s *Server) handoverRecord(c *gin.Context) {
	var f handoverForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.svc.RecordHandover(c.Request.Context(), actor(c), c.Param("id"), f.Note)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+r.IncidentID+"?done=handed_over")
}
