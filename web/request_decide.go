package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// requestDecide approves or rejects a request with a reason. It needs a
// fresh TOTP code (step-up) in the same form; the domain checks it and
// the four-eyes rules.
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
	r, err := s.svc.Decide(c.Request.Context(), actor(c), c.Param("id"), approve, f.Reason, f.Code)
	if errors.Is(err, incident.ErrStepUpFailed) {
		s.decideAgain(c, f, errors.Is(err, incident.ErrStepUpConfirmAgain))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+r.IncidentID+"?done=decided")
}

// decideRetry is a decision form as it was sent, shown again with the
// error beside the field that was wrong. The code itself is never shown
// again: it was wrong or used.
type decideRetry struct {
	RequestID string
	Decision  string // "approve", "reject" or ""
	Reason    string
	WrongCode bool
	// ConfirmAgain: no confirmation at the identity provider served the
	// decision (none, used or expired).
	ConfirmAgain bool
}

// retrying puts a decision to send again into the form of its request.
func (v requestView) retrying(r *decideRetry) requestView {
	if r != nil && r.RequestID == v.ID && v.CanDecide {
		v.Retry = r
	}
	return v
}

// decideAgain answers a decision whose code was wrong, or that came
// without a confirmation at the identity provider, with the page the
// form was on — the incident's, or the inbox — and the form filled in as
// sent: the supervisor types only a new code, or confirms again.
func (s *Server) decideAgain(c *gin.Context, f decideForm, confirmAgain bool) {
	retry := &decideRetry{RequestID: c.Param("id"), Decision: f.Decision, Reason: f.Reason, WrongCode: !confirmAgain, ConfirmAgain: confirmAgain}
	if id, ok := strings.CutPrefix(f.Page, "/incidents/"); ok {
		v, err := s.showIncident(c, id, retry)
		if err != nil {
			s.fail(c, err)
			return
		}
		st(c).page = "/incidents/" + v.Inc.ID
		s.render(c, http.StatusUnprocessableEntity, "incident_show", v)
		return
	}
	v, err := s.inbox(c, retry)
	if err != nil {
		s.fail(c, err)
		return
	}
	st(c).page = "/approvals"
	s.render(c, http.StatusUnprocessableEntity, "approval_inbox", v)
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
