package web

import (
	"net/url"

	"github.com/gin-gonic/gin"
)

// userSetEmail sets or clears where an account's notifications go.
func (s *Server) userSetEmail(c *gin.Context) {
	var f emailForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if _, err := s.svc.SetUserEmail(c.Request.Context(), actor(c), c.Param("name"), f.Email); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/admin/users?done=notify_email_set#user-"+url.PathEscape(c.Param("name")))
}
