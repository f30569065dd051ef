package web

import (
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// userSetRole gives an account another role. Its sessions and API tokens
// end with the change (incident.Service.SetUserRole), so that the new
// role starts with a fresh sign-in (and the second factor it may need).
func (s *Server) userSetRole(c *gin.Context) {
	var f roleForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.changeRole(c, c.Param("name"), f.Role); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/admin/users?done=role_changed")
}

// changeRole changes a user's role; the domain ends their sessions and
// tokens in the same transaction.
func (s *Server) changeRole(c *gin.Context, name, role string) (incident.User, error) {
	r, err := incident.ParseRole(role)
	if err != nil {
		return incident.User{}, err
	}
	return s.svc.SetUserRole(c.Request.Context(), actor(c), name, r)
}
