package web

import (
	"github.com/gin-gonic/gin"
)

// userUnlock ends an account's lock after many failed sign-ins.
func (s *Server) userUnlock(c *gin.Context) {
	if _, err := s.svc.UnlockAccount(c.Request.Context(), actor(c), c.Param("name")); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/admin/users?done=user_updated")
}
