package web

import (
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// userSetRole gives an account another role. Its sessions and API tokens
// end with the change (incident.Service.SetUserRole), so that the new
// role starts with a fresh sign-in (and the second factor it may need);
// a role that approves waits for a second person.
func (s *Server) userSetRole(c *gin.Context) {
	var f roleForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	ch, err := s.changeRole(c, c.Param("name"), f.Role)
	if err != nil {
		s.fail(c, err)
		return
	}
	if ch.Pending() {
		s.redirect(c, "/admin/users?done=account_approval_requested")
		return
	}
	s.redirect(c, "/admin/users?done=role_changed")
}

// changeRole changes a user's role, or asks for approval.
func (s *Server) changeRole(c *gin.Context, name, role string) (incident.AccountChange, error) {
	r, err := incident.ParseRole(role)
	if err != nil {
		return incident.AccountChange{}, err
	}
	return s.svc.SetUserRole(c.Request.Context(), actor(c), name, r)
}
