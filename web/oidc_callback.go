package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
)

// oidcCallback takes the identity provider's answer: it checks it against
// the flow cookie (oidcrp.Finish), lets the domain decide who this is
// (Service.SignInExternal) and starts a session. The policy's
// provider_enforces_mfa lets the provider's sign-in stand for Tresor's
// second factor; otherwise the second factor follows as after a password.
// A step-up flow (a confirmation for an approval) goes to oidcStepUpBack
// instead, once its state matched.
func (s *Server) oidcCallback(c *gin.Context) {
	if s.idp == nil {
		s.failStatus(c, http.StatusNotFound)
		return
	}
	flow, err := s.takeFlow(c)
	if err != nil {
		s.oidcRefused(c, oidcrp.ErrFlow, true)
		return
	}
	ctx := c.Request.Context()
	ext, err := s.idp.Finish(ctx, flow, c.Request.URL.Query())
	if flow.StepUp != nil && !errors.Is(err, oidcrp.ErrFlow) {
		s.oidcStepUpBack(c, flow, ext, err)
		return
	}
	if err != nil {
		s.oidcRefused(c, err, true)
		return
	}
	u, err := s.svc.SignInExternal(ctx, ext)
	if err != nil {
		s.oidcRefused(c, err, false)
		return
	}
	stage := account.StageActive
	if !s.policy.OIDC.ProviderEnforcesMFA {
		if stage, err = s.afterFirstFactor(ctx, u); err != nil {
			s.fail(c, err)
			return
		}
	}
	if err := s.startSession(c, u, stage); err != nil {
		s.fail(c, err)
		return
	}
	next := stageHome(stage)
	// Not a redirect: this request came from the provider's site, and a
	// redirect would carry on that cross-site navigation, on which the
	// SameSite=Strict session cookie is not sent. The page moves on by
	// itself, as a navigation of Tresor's own.
	s.render(c, http.StatusOK, "oidc_continue", oidcContinueView{Next: next})
}

// oidcContinueView is the page after a sign-in at the identity provider.
type oidcContinueView struct {
	Next   string
	StepUp bool // back from a confirmation for an approval, not a sign-in
	// ToProvider names the identity provider the page moves on to (a
	// confirmation for an approval begins); empty when back at Tresor.
	ToProvider string
}

// oidcRefused shows the login page with what went wrong, explained; the
// provider's own text is never shown, nor logged: the log gets the error's
// class (incident.ErrorClass), since go-oidc's errors carry the provider's
// answers and the token's claims.
// atProvider says err came from talking to the identity provider, so that
// an unreachable provider is told apart from a database that went away
// (the error page's 503).
func (s *Server) oidcRefused(c *gin.Context, err error, atProvider bool) {
	var pe *oidcrp.ProviderError
	status, key := http.StatusUnauthorized, "oidc.error.rejected"
	switch {
	case errors.As(err, &pe):
		key = "oidc.error.provider_other"
		switch pe.Code {
		case "access_denied":
			key = "oidc.error.access_denied"
		case "login_required", "interaction_required", "consent_required", "account_selection_required":
			key = "oidc.error.interaction"
		case "temporarily_unavailable", "server_error":
			key, status = "oidc.error.provider_down", http.StatusServiceUnavailable
		}
	case errors.Is(err, oidcrp.ErrFlow):
		key, status = "oidc.error.flow", http.StatusBadRequest
	case errors.Is(err, oidcrp.ErrRejected):
		s.log.Warn("identity provider answer rejected", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
	case errors.Is(err, incident.ErrNotMapped):
		key, status = "oidc.error.not_mapped", http.StatusForbidden
	case errors.Is(err, incident.ErrAccountDisabled):
		key, status = "oidc.error.disabled", http.StatusForbidden
	case errors.Is(err, incident.ErrInvalidInput):
		key = "oidc.error.rejected"
	case errors.Is(err, incident.ErrUnavailable) && atProvider:
		s.log.Warn("identity provider unreachable", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
		key, status = "oidc.error.unreachable", http.StatusServiceUnavailable
	default:
		s.fail(c, err)
		return
	}
	s.render(c, status, "login", loginView{Error: key})
}
