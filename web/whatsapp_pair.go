package web

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// whatsappPair asks WhatsApp for a pairing code for the worker's phone
// number, for a phone that cannot scan the QR code; the linking page then
// shows it.
func (s *Server) whatsappPair(c *gin.Context) {
	var f pairForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if s.wa == nil {
		s.fail(c, incident.ErrUnavailable)
		return
	}
	worker := actor(c).ID
	r, snap, _ := s.links.run(worker)
	if r == nil || snap.State != linkShowing {
		s.fail(c, fmt.Errorf("%w: start linking and wait for the first code", incident.ErrConflict))
		return
	}
	code, err := s.wa.PairPhone(c.Request.Context(), worker, f.Phone)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.links.setPairCode(r, code)
	s.redirect(c, "/whatsapp/link")
}
