package web

import (
	"github.com/gin-gonic/gin"
)

// whatsappLinkStart starts linking the worker's WhatsApp account, once
// the worker has consented, and goes on to the linking page.
func (s *Server) whatsappLinkStart(c *gin.Context) {
	var f consentForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if !s.whatsappTicked(c, f.Consent == "yes", func(v *whatsappView) { v.ConsentMissing = true }) {
		return
	}
	if err := s.links.start(s.wa, actor(c).ID); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/whatsapp/link")
}
