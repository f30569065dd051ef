package web

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// logout revokes the session.
func (s *Server) logout(c *gin.Context) {
	rs := st(c)
	hash := rs.session.TokenHash
	err := s.svc.RecordAuthChange(c.Request.Context(), rs.user.Actor(), incident.AuthSignedOut, rs.user.ID, func(ctx context.Context, acc account.Store) error {
		return acc.DeleteSession(ctx, hash)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setCookie(c, "tresor", "", -1)
	rs.session = nil
	s.redirect(c, "/login?done=signed_out")
}
