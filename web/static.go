package web

import (
	"embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed static/style.css static/whatsapp-link.js static/favicon.svg
var staticFS embed.FS

// staticCSS serves the one stylesheet (no inline styles anywhere).
func (s *Server) staticCSS(c *gin.Context) {
	b, err := staticFS.ReadFile("static/style.css")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/css; charset=utf-8", b)
}

// staticLinkJS serves the script of the WhatsApp linking page, the only
// script there is (CSP: same origin, nothing inline).
func (s *Server) staticLinkJS(c *gin.Context) {
	b, err := staticFS.ReadFile("static/whatsapp-link.js")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", b)
}

// staticFavicon serves the icon browsers show on the tab: a small SVG of
// our own, so that no page makes the browser fetch anything elsewhere.
func (s *Server) staticFavicon(c *gin.Context) {
	b, err := staticFS.ReadFile("static/favicon.svg")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/svg+xml", b)
}
