package web

import (
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// releaseRequest asks for four-eyes approval to hand evidence over:
// purpose, recipient, legal basis and reason.
func (s *Server) releaseRequest(c *gin.Context) {
	var f releaseForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	_, err := s.svc.RequestRelease(c.Request.Context(), actor(c), c.Param("id"), incident.ReleaseInput{
		Purpose: f.Purpose, Recipient: f.Recipient, LegalBasis: f.LegalBasis, Reason: f.Reason})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+c.Param("id")+"?done=release_requested")
}
