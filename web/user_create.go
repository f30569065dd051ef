package web

import (
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// userCreate adds an account with a role and an initial password.
func (s *Server) userCreate(c *gin.Context) {
	var f userForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	role, err := incident.ParseRole(f.Role)
	if err != nil {
		s.fail(c, err)
		return
	}
	u, err := s.svc.AddUser(c.Request.Context(), actor(c), incident.NewUser{Username: f.Username, DisplayName: f.DisplayName, Role: role, Password: f.Password, Email: f.Email})
	if err != nil {
		s.fail(c, err)
		return
	}
	if u.NeedsApproval {
		s.redirect(c, "/admin/users?done=account_approval_requested")
		return
	}
	s.redirect(c, "/admin/users?done=user_created")
}
