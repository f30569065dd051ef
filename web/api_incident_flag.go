package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiIncidentFlag flags a WhatsApp message by its reference, like the
// "Neue Meldung" form (files are uploaded through the page only).
func (s *Server) apiIncidentFlag(c *gin.Context) {
	var b apiFlagBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	in, err := s.flagInput(flagForm{Category: b.Category, Description: b.Description, Platform: b.Platform,
		MessageID: b.MessageID, FileSHA256: b.FileSHA256, MediaType: b.MediaType})
	if err != nil {
		s.failJSON(c, err)
		return
	}
	inc, err := s.svc.Flag(c.Request.Context(), actor(c), in)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusCreated, toAPIIncident(inc))
}
