package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiUserSetDisabled disables an account (revoking its sessions and
// tokens) or enables it.
func (s *Server) apiUserSetDisabled(c *gin.Context) {
	var b apiDisabledBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	if b.Disabled == nil {
		s.failJSON(c, fmt.Errorf("%w: disabled is required", incident.ErrInvalidInput))
		return
	}
	u, err := s.svc.SetUserDisabled(c.Request.Context(), actor(c), c.Param("name"), *b.Disabled)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIUser(u))
}
