package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
)

// IdentityProvider is sign-in through the provider's identity provider;
// *oidcrp.RP implements it.
type IdentityProvider interface {
	// Start returns the address to send the browser to and the flow to
	// keep until it comes back.
	Start(ctx context.Context) (string, oidcrp.Flow, error)
	// StartStepUp is Start for a re-authentication of a signed-in
	// account (prompt=login, max_age).
	StartStepUp(ctx context.Context, req oidcrp.StepUpRequest) (string, oidcrp.Flow, error)
	// Finish checks the provider's answer against the flow.
	Finish(ctx context.Context, f oidcrp.Flow, q url.Values) (incident.ExternalSignIn, error)
	// VerifyLogout checks a back-channel logout token and returns whose
	// sign-in at the provider ended, and when.
	VerifyLogout(ctx context.Context, raw string) (incident.ExternalLogout, error)
	// EndSessionURL is the address that signs the person out at the
	// provider too; oidcrp.ErrNoEndSession when there is none.
	EndSessionURL(ctx context.Context, issuer, idTokenHint string) (string, error)
	// EndSessionOrigin is the origin of that address once known, else "";
	// it never reaches the provider.
	EndSessionOrigin() string
}

// oidcStart begins a sign-in at the identity provider.
func (s *Server) oidcStart(c *gin.Context) {
	if s.idp == nil {
		s.failStatus(c, http.StatusNotFound)
		return
	}
	to, flow, err := s.idp.Start(c.Request.Context())
	if err != nil {
		s.oidcRefused(c, err, true)
		return
	}
	s.keepFlow(c, flow)
	c.Redirect(http.StatusSeeOther, to)
}
