package web

import (
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// home sends each role to where its work is.
func (s *Server) home(c *gin.Context) {
	switch st(c).user.Role {
	case incident.RoleSupervisor:
		s.redirect(c, "/approvals")
	case incident.RoleAuditor:
		s.redirect(c, "/audit")
	case incident.RoleAdmin:
		s.redirect(c, "/admin/users")
	default:
		s.redirect(c, "/incidents")
	}
}
