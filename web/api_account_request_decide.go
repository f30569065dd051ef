package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiAccountRequestDecide approves or rejects an account request; like
// every decision it needs the caller's current TOTP code in the body.
func (s *Server) apiAccountRequestDecide(c *gin.Context) {
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
	r, err := s.svc.DecideAccountRequest(c.Request.Context(), actor(c), c.Param("id"), approve, b.Reason, b.Code)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIAccountRequest(r))
}
