package web

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// userSetDisabled disables an account (the domain ends its sessions and
// tokens in the same transaction) or enables it.
func (s *Server) userSetDisabled(c *gin.Context) {
	var f disableForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	var disabled bool
	switch f.Disabled {
	case "true":
		disabled = true
	case "false":
	default:
		s.fail(c, fmt.Errorf("%w: disabled is true or false", incident.ErrInvalidInput))
		return
	}
	ctx := c.Request.Context()
	_, err := s.svc.SetUserDisabled(ctx, actor(c), c.Param("name"), disabled)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/admin/users?done=user_updated")
}
