package web

import (
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// logout revokes the session.
func (s *Server) logout(c *gin.Context) {
	rs := st(c)
	if err := s.endSession(c, rs.session.TokenHash); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.svc.RecordAuthEvent(c.Request.Context(), rs.user.Actor(), incident.AuthSignedOut, rs.user.ID); err != nil {
		s.fail(c, err)
		return
	}
	rs.session = nil
	s.redirect(c, "/login?done=signed_out")
}
