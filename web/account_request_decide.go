package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// accountRequestDecide approves or rejects an account request with a
// reason and a fresh TOTP code; the domain checks both and the rules of
// separation of duties, and applies an approved change.
func (s *Server) accountRequestDecide(c *gin.Context) {
	var f accountDecideForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	approve, err := parseDecision(f.Decision)
	if err != nil {
		s.fail(c, err)
		return
	}
	_, err = s.svc.DecideAccountRequest(c.Request.Context(), actor(c), c.Param("id"), approve, f.Reason, f.Code)
	var key string
	switch {
	case errors.Is(err, incident.ErrStepUpConfirmAgain):
		key = "oidc.stepup.confirm_again"
	case errors.Is(err, incident.ErrStepUpFailed):
		key = "error.detail.step_up"
	case errors.Is(err, incident.ErrReasonRequired):
		key = "account.requests.reason_required"
	case err != nil:
		s.fail(c, err)
		return
	default:
		s.redirect(c, "/account-requests?done=account_request_decided")
		return
	}
	v, verr := s.accountRequests(c, &accountDecideRetry{RequestID: c.Param("id"), Decision: f.Decision, Reason: f.Reason, Error: key,
		ConfirmAgain: errors.Is(err, incident.ErrStepUpConfirmAgain)})
	if verr != nil {
		s.fail(c, verr)
		return
	}
	st(c).page = "/account-requests"
	s.render(c, http.StatusUnprocessableEntity, "account_requests", v)
}
