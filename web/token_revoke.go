package web

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// tokenRevoke revokes one of the user's own API tokens.
func (s *Server) tokenRevoke(c *gin.Context) {
	ctx := c.Request.Context()
	u := st(c).user
	id, at := c.Param("id"), s.now()
	err := s.svc.RecordAuthChange(ctx, u.Actor(), incident.AuthTokenRevoked, u.ID, func(ctx context.Context, acc account.Store) error {
		return acc.RevokeAPIToken(ctx, u.ID, id, at)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/account/tokens?done=token_revoked")
}
