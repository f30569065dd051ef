package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// codeView is the data of pages asking for a second-factor code.
type codeView struct {
	Error string // catalog key, or ""
}

// secondFactorForm asks for the TOTP or a recovery code after the password.
func (s *Server) secondFactorForm(c *gin.Context) {
	s.render(c, http.StatusOK, "second_factor", codeView{})
}
