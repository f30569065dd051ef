package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// whatsappLinkStart starts linking the worker's WhatsApp account, once
// the worker has consented, and goes on to the linking page.
func (s *Server) whatsappLinkStart(c *gin.Context) {
	var f consentForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if s.wa == nil {
		s.fail(c, incident.ErrUnavailable)
		return
	}
	if f.Consent != "yes" {
		v, err := s.whatsappView(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		v.ConsentMissing = true
		s.render(c, http.StatusBadRequest, "whatsapp", v)
		return
	}
	if err := s.links.start(s.wa, actor(c).ID); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/whatsapp/link")
}
