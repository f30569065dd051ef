package web

import (
	"context"
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// userSetRole gives an account another role. Its sessions and API tokens
// are revoked, so that the new role starts with a fresh sign-in (and the
// second factor the role may need).
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

// changeRole changes a user's role and revokes their sessions and tokens.
func (s *Server) changeRole(c *gin.Context, name, role string) (incident.User, error) {
	r, err := incident.ParseRole(role)
	if err != nil {
		return incident.User{}, err
	}
	ctx := c.Request.Context()
	u, err := s.svc.SetUserRole(ctx, actor(c), name, r)
	if err != nil {
		return incident.User{}, err
	}
	return u, s.revokeAccess(c, u.ID)
}

// revokeAccess ends every session and API token of a user.
func (s *Server) revokeAccess(c *gin.Context, userID string) error {
	return s.revokeAccessIn(c.Request.Context(), userID)
}

// revokeAccessIn ends every session and API token of the user; ctx may
// carry a transaction the store joins.
func (s *Server) revokeAccessIn(ctx context.Context, userID string) error {
	if err := s.sessions.DeleteUserSessions(ctx, userID); err != nil {
		return err
	}
	return s.tokens.RevokeUserAPITokens(ctx, userID, s.now())
}
