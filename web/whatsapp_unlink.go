package web

import (
	"github.com/gin-gonic/gin"
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
	if !s.whatsappTicked(c, f.Confirm == "yes", func(v *whatsappView) { v.ConfirmMissing = true }) {
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
