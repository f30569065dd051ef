package web

import (
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// tokenRevoke revokes one of the user's own API tokens.
func (s *Server) tokenRevoke(c *gin.Context) {
	ctx := c.Request.Context()
	u := st(c).user
	if err := s.tokens.RevokeAPIToken(ctx, u.ID, c.Param("id"), s.now()); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.svc.RecordAuthEvent(ctx, u.Actor(), incident.AuthTokenRevoked, u.ID); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/account/tokens?done=token_revoked")
}
