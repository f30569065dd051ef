package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiIncidentSubmit completes an incident flagged on the phone.
func (s *Server) apiIncidentSubmit(c *gin.Context) {
	var b apiSubmitBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	pl, err := s.policy.ParsePlatform(b.Platform)
	if err != nil {
		s.failJSON(c, fmt.Errorf("%w: %w", incident.ErrInvalidInput, err))
		return
	}
	inc, err := s.svc.Submit(c.Request.Context(), actor(c), c.Param("id"),
		incident.SubmitInput{Category: b.Category, Description: b.Description, Platform: pl,
			Choice: incident.UncapturedChoice(b.Choice), Reason: b.Reason})
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIIncident(inc))
}
