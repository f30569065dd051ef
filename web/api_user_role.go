package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiUserSetRole gives an account another role and revokes its sessions
// and tokens.
func (s *Server) apiUserSetRole(c *gin.Context) {
	var b apiRoleBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	u, err := s.changeRole(c, c.Param("name"), b.Role)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIUser(u))
}
