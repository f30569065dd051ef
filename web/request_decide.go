package web

import (
	"context"
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
	approve, err := parseDecision(f.Decision)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	a := actor(c)
	if err := s.stepUp(ctx, a, f.Code); err != nil {
		if errors.Is(err, errWrongCode) {
			s.renderError(c, 403, "error.detail.step_up")
			return
		}
		s.fail(c, err)
		return
	}
	r, err := s.svc.Decide(ctx, a, c.Param("id"), approve, f.Reason)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+r.IncidentID+"?done=decided")
}

// stepUp checks a fresh TOTP code of the acting user before a decision,
// under the domain's step-up rule (incident.Service.StepUp: counted,
// audited, locked after too many wrong codes).
func (s *Server) stepUp(ctx context.Context, a incident.Actor, code string) error {
	return s.svc.StepUp(ctx, a, func(ctx context.Context) error {
		_, err := s.checkSecondFactor(ctx, a.ID, code, false)
		if errors.Is(err, errWrongCode) {
			return fmt.Errorf("%w: %w", incident.ErrStepUpFailed, err)
		}
		return err
	})
}

// parseDecision accepts "approve" or "reject".
func parseDecision(d string) (bool, error) {
	switch d {
	case "approve":
		return true, nil
	case "reject":
		return false, nil
	}
	return false, fmt.Errorf("%w: choose approve or reject", incident.ErrInvalidInput)
}
