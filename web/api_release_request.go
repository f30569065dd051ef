package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiReleaseRequest asks for four-eyes approval to hand evidence over.
func (s *Server) apiReleaseRequest(c *gin.Context) {
	var b apiReleaseBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	r, err := s.svc.RequestRelease(c.Request.Context(), actor(c), c.Param("id"), incident.ReleaseInput(b))
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusCreated, toAPIRequest(r))
}
