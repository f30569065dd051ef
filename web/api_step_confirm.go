package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiStepConfirm confirms one deletion step; it takes no body.
func (s *Server) apiStepConfirm(c *gin.Context) {
	step, err := s.svc.ConfirmStep(c.Request.Context(), actor(c), c.Param("id"), c.Param("key"))
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIStep(step, st(c).lang))
}
