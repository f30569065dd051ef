package web

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// legalHoldSet puts an incident's evidence on legal hold or lifts it, with
// a reason (supervisors).
func (s *Server) legalHoldSet(c *gin.Context) {
	var f holdForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	hold, err := parseBool("hold", f.Hold)
	if err != nil {
		s.fail(c, err)
		return
	}
	inc, err := s.svc.SetLegalHold(c.Request.Context(), actor(c), c.Param("id"), hold, f.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	done := "hold_set"
	if !hold {
		done = "hold_lifted"
	}
	s.redirect(c, "/incidents/"+inc.ID+"?done="+done)
}

// parseBool accepts exactly "true" or "false".
func parseBool(field, v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s is true or false", incident.ErrInvalidInput, field)
}
