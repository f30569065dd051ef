package web

import (
	"strings"

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
	next := f.Next
	// Only paths on this site: no scheme, no //host, no backslash tricks.
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		next = "/"
	}
	s.redirect(c, next)
}
