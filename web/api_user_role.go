package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiUserSetRole gives an account another role and revokes its sessions
// and tokens, or (a role that approves) answers 202 with the account
// request a second person decides.
func (s *Server) apiUserSetRole(c *gin.Context) {
	var b apiRoleBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	ch, err := s.changeRole(c, c.Param("name"), b.Role)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	if ch.Pending() {
		respond(c, http.StatusAccepted, toAPIAccountRequest(*ch.Request))
		return
	}
	respond(c, http.StatusOK, toAPIUser(ch.User))
}
