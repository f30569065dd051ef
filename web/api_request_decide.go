package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiRequestDecide approves or rejects a request. Like the page, it needs
// the caller's current TOTP code (step-up) in the body, also when the
// call is authenticated by a token.
func (s *Server) apiRequestDecide(c *gin.Context) {
	var b apiDecideBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	approve, err := b.approve()
	if err != nil {
		s.failJSON(c, err)
		return
	}
	r, err := s.svc.Decide(c.Request.Context(), actor(c), c.Param("id"), approve, b.Reason, b.Code)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIRequest(r))
}
