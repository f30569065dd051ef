package web

import (
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// requestDecide approves or rejects a request with a reason. It needs a
// fresh TOTP code (step-up) in the same form; the four-eyes rules are the
// domain's.
func (s *Server) requestDecide(c *gin.Context) {
	var f decideForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	var approve bool
	switch f.Decision {
	case "approve":
		approve = true
	case "reject":
	default:
		s.fail(c, fmt.Errorf("%w: choose approve or reject", incident.ErrInvalidInput))
		return
	}
	ctx := c.Request.Context()
	a := actor(c)
	if _, err := s.checkSecondFactor(ctx, a.ID, f.Code, false); err != nil {
		if !errors.Is(err, errWrongCode) {
			s.fail(c, err)
			return
		}
		if err := s.svc.RecordAuthEvent(ctx, a, incident.AuthStepUpFailed, a.ID); err != nil {
			s.fail(c, err)
			return
		}
		s.renderError(c, 403, "error.detail.step_up")
		return
	}
	r, err := s.svc.Decide(ctx, a, c.Param("id"), approve, f.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+r.IncidentID+"?done=decided")
}
