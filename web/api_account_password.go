package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiAccountPassword changes the caller's own password; every session and
// API token of the account ends with it, the one of this call included.
func (s *Server) apiAccountPassword(c *gin.Context) {
	var b apiPasswordBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	u, err := s.svc.ChangePassword(c.Request.Context(), actor(c), b.Current, b.New)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIUser(u))
}
