package web

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// incidentSubmit completes an incident flagged on the phone: category,
// description, platform.
func (s *Server) incidentSubmit(c *gin.Context) {
	var f submitForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	pl, err := s.policy.ParsePlatform(f.Platform)
	if err != nil {
		s.fail(c, fmt.Errorf("%w: %w", incident.ErrInvalidInput, err))
		return
	}
	inc, err := s.svc.Submit(c.Request.Context(), actor(c), c.Param("id"),
		incident.SubmitInput{Category: f.Category, Description: f.Description, Platform: pl})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+inc.ID+"?done=submitted")
}
