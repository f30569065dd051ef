package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// whatsappUnlink unlinks the worker's own device, after the worker ticked
// the confirmation: WhatsApp is told, the keys and every captured message
// of the worker are deleted. A running linking attempt ends too.
func (s *Server) whatsappUnlink(c *gin.Context) {
	var f unlinkForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if s.wa == nil {
		s.fail(c, incident.ErrUnavailable)
		return
	}
	if f.Confirm != "yes" {
		v, err := s.whatsappView(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		v.ConfirmMissing = true
		s.render(c, http.StatusBadRequest, "whatsapp", v)
		return
	}
	worker := actor(c).ID
	s.links.stop(worker)
	if err := s.wa.Unlink(c.Request.Context(), worker); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/whatsapp?done=wa_unlinked")
}
