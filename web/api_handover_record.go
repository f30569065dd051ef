package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiHandoverRecord notes that released evidence was handed over.
func (s *Server) apiHandoverRecord(c *gin.Context) {
	var b apiHandoverBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	r, err := s.svc.RecordHandover(c.Request.Context(), actor(c), c.Param("id"), b.Note)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIRequest(r))
}
