package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// passwordResetView shows a one-time password to the admin, once.
type passwordResetView struct {
	Username string
	Password string
	// Pending: the account approves things, so the password works only
	// after a second person approves the reset.
	Pending bool
}

// userResetPassword sets a one-time password for an account
// (incident.Service.ResetPassword) and shows it once.
func (s *Server) userResetPassword(c *gin.Context) {
	ch, err := s.svc.ResetPassword(c.Request.Context(), actor(c), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "password_reset", passwordResetView{Username: ch.User.Username, Password: ch.Password, Pending: ch.Pending()})
}
