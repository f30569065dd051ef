package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiStepImpossible marks one deletion step as impossible, with a reason.
func (s *Server) apiStepImpossible(c *gin.Context) {
	var b apiReasonBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	step, err := s.svc.MarkStepImpossible(c.Request.Context(), actor(c), c.Param("id"), c.Param("key"), b.Reason)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIStep(step, st(c).lang))
}
