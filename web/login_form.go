package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/tresor-evidence/tresor/account"
)

// loginView is the sign-in page's data.
type loginView struct {
	Error string // catalog key, or ""
	// Seconds fills the lockout.wait message; Username keeps what was typed.
	Seconds  int
	Username string
}

// loginForm shows the sign-in page.
func (s *Server) loginForm(c *gin.Context) {
	if sess := st(c).session; sess != nil && sess.Stage == account.StageActive {
		s.redirect(c, "/")
		return
	}
	s.render(c, http.StatusOK, "login", loginView{})
}
