package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
)

// Step-up by re-authentication at the identity provider: where the policy
// says so (oidc.step_up: provider), an account linked to the provider
// confirms its identity there for a decision instead of typing a TOTP
// code. The approval page offers the button (oidcStepUpStart), the
// provider sends the browser back to the callback, which hands the
// verified answer to the domain (Service.ConfirmStepUpExternal) and goes
// back to the approval page; the next decision uses the confirmation.

// stepUpView is how the viewer steps up, for the decision forms.
type stepUpView struct {
	// AtProvider: confirm at the identity provider, no code field.
	AtProvider bool
	Provider   string    // the provider's configured name
	Until      time.Time // a confirmation serves a decision until then; zero: none
	// Problem is a catalog key: why the last confirmation did not work,
	// or that the decision needs one.
	Problem string
}

// Confirmed reports whether a confirmation waits for the next decision.
func (v stepUpView) Confirmed() bool { return !v.Until.IsZero() }

// stepUpProblems are the answers the callback sends back to the page
// (?stepup=…), as catalog keys.
var stepUpProblems = map[string]string{
	"refused":     "oidc.stepup.refused",
	"failed":      "oidc.stepup.failed",
	"cancelled":   "oidc.stepup.cancelled",
	"unreachable": "oidc.error.unreachable",
	"locked":      "error.detail.step_up_locked",
}

// stepUp gathers the viewer's step-up for the page's decision forms.
func (s *Server) stepUp(c *gin.Context) (stepUpView, error) {
	if s.idp == nil {
		return stepUpView{}, nil // no provider to confirm at: codes, as always
	}
	st, err := s.svc.StepUpStatusOf(c.Request.Context(), actor(c))
	if err != nil || !st.AtProvider {
		return stepUpView{}, err
	}
	return stepUpView{AtProvider: true, Provider: s.idpName, Until: st.ConfirmedUntil, Problem: stepUpProblems[c.Query("stepup")]}, nil
}

// stepUpForm is the confirmation button's form.
type stepUpForm struct {
	Page string `form:"page"` // the approval page to come back to
}

// oidcStepUpStart sends a signed-in account to the identity provider to
// sign in again (prompt=login, max_age), to come back to the approval
// page it was on.
func (s *Server) oidcStepUpStart(c *gin.Context) {
	if s.idp == nil {
		s.failStatus(c, http.StatusNotFound)
		return
	}
	var f stepUpForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	if !oidcrp.LocalPath(f.Page) {
		s.fail(c, incident.ErrInvalidInput)
		return
	}
	a := actor(c)
	status, err := s.svc.StepUpStatusOf(c.Request.Context(), a)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !status.AtProvider {
		s.redirect(c, f.Page) // the page shows the code field instead
		return
	}
	to, flow, err := s.idp.StartStepUp(c.Request.Context(), oidcrp.StepUpRequest{
		StepUp: oidcrp.StepUp{UserID: a.ID, Return: f.Page}, MaxAge: status.MaxAge, ACR: status.ACR})
	if err != nil {
		if !errors.Is(err, incident.ErrUnavailable) {
			s.fail(c, err)
			return
		}
		s.log.Warn("identity provider unreachable", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
		s.redirect(c, f.Page+"?stepup=unreachable")
		return
	}
	s.keepFlow(c, flow)
	// Not a redirect: the page's CSP (form-action 'self') does not let a
	// form's answer redirect to another site. A page of Tresor's own
	// moves on to the provider instead.
	s.render(c, http.StatusOK, "oidc_continue", oidcContinueView{Next: to, ToProvider: s.idpName})
}

// oidcStepUpBack finishes a step-up flow at the callback: the domain
// decides whether the answer confirms the account, and the browser goes
// back to the approval page, which shows the outcome. err is Finish's.
// The session cookie is not sent on this cross-site request, so the
// account is the one the flow was started for; the domain takes the
// confirmation only from the person linked to it.
func (s *Server) oidcStepUpBack(c *gin.Context, flow oidcrp.Flow, ext incident.ExternalSignIn, err error) {
	outcome := ""
	var pe *oidcrp.ProviderError
	switch {
	case errors.As(err, &pe):
		outcome = "cancelled"
	case errors.Is(err, incident.ErrUnavailable):
		s.log.Warn("identity provider unreachable", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
		outcome = "unreachable"
	case err != nil:
		s.log.Warn("identity provider step-up answer rejected", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
		outcome = "failed"
	default:
		_, err = s.svc.ConfirmStepUpExternal(c.Request.Context(), flow.StepUp.UserID, flow.Started, ext)
		switch {
		case errors.Is(err, incident.ErrStepUpLocked):
			outcome = "locked"
		case errors.Is(err, incident.ErrStepUpFailed):
			s.log.Warn("identity provider step-up refused", "request_id", st(c).requestID, "reason", string(incident.RefusalOf(err)))
			outcome = "refused"
		case err != nil:
			s.fail(c, err)
			return
		}
	}
	next := flow.StepUp.Return
	if outcome != "" {
		next += "?stepup=" + outcome
	}
	// On a phone the approval page is long: land on the confirmation,
	// just above the decision form.
	next += "#step-up"
	// As after a sign-in: a page of Tresor's own moves on, so that the
	// approval page is a same-site navigation with the session cookie.
	s.render(c, http.StatusOK, "oidc_continue", oidcContinueView{Next: next, StepUp: true})
}
