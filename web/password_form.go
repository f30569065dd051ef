package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// passwordView is the page where users change their own password.
type passwordView struct {
	// Forced: the password was set by an admin and must be changed
	// before anything else.
	Forced bool
	Error  string // catalog key, or ""
}

// passwordForm asks for the current and a new password.
func (s *Server) passwordForm(c *gin.Context) {
	s.render(c, http.StatusOK, "account_password", passwordView{Forced: st(c).user.MustChangePassword})
}
