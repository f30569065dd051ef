package web

import (
	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// languageSet stores the chosen language in a cookie and goes back.
func (s *Server) languageSet(c *gin.Context) {
	var f languageForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if !supported(f.Lang) {
		s.fail(c, incident.ErrInvalidInput)
		return
	}
	s.setCookie(c, "tresor-lang", f.Lang, 365*24*3600)
	s.redirect(c, localPath(f.Next))
}
