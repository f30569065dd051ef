package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// linkView is the linking page.
type linkView struct {
	Available bool
	linkSnapshot
	// Refresh is the reload interval, in seconds, of the page without
	// JavaScript; 0 when nothing changes any more.
	Refresh int
}

// Pending reports whether the attempt still waits for the phone.
func (v linkView) Pending() bool { return v.State == linkStarting || v.State == linkShowing }

// whatsappLinkPage shows the worker's own current QR code, or the outcome
// of the attempt. A small script (static/whatsapp-link.js) swaps in new
// codes as the events endpoint sends them; without JavaScript the page
// reloads itself (meta refresh inside <noscript>) when the code runs out,
// and every load renders the current code here, on the server.
func (s *Server) whatsappLinkPage(c *gin.Context) {
	v := linkView{Available: s.wa != nil}
	if s.wa != nil {
		_, v.linkSnapshot, _ = s.links.run(actor(c).ID)
		if v.Pending() {
			v.Refresh = v.refreshSeconds(s.now())
		}
	} else {
		v.State = linkNone
	}
	// The QR code is drawn into the page as a data: image; the security
	// headers already forbid storing the page (Cache-Control: no-store).
	c.Header("Content-Security-Policy", s.pageCSP(c, true))
	s.render(c, http.StatusOK, "whatsapp_link", v)
}
