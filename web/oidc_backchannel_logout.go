package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
)

// oidcBackchannelLogout takes the identity provider's back-channel logout
// (OpenID Connect Back-Channel Logout 1.0): a POST from the provider's
// server with a signed logout token instead of a CSRF token
// (csrfSignedToken). A valid token ends the sessions and API tokens of
// the person's account created before its iat at once
// (Service.EndExternalAccess); a token used already is refused, and would
// spare a later sign-in anyway. Answers are
// the specification's: 200, 400 with invalid_request, no-store.
func (s *Server) oidcBackchannelLogout(c *gin.Context) {
	if s.idp == nil {
		s.failStatus(c, http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", "no-store")
	// A token that fails verification makes the relying party fetch the
	// provider's keys again; an address sending bad tokens is stopped
	// after a few, so that nobody can make Tresor hammer the provider
	// (and be throttled by it) through this unauthenticated route.
	limitKey := "backchannel-logout:" + c.ClientIP()
	if s.limiter.locked(limitKey) {
		c.JSON(http.StatusTooManyRequests, gin.H{"error": "temporarily_unavailable"})
		return
	}
	ctx := c.Request.Context()
	lo, err := s.idp.VerifyLogout(ctx, c.PostForm("logout_token"))
	switch {
	case errors.Is(err, oidcrp.ErrRejected):
		s.limiter.fail(limitKey)
		s.log.Warn("back-channel logout refused", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
		c.JSON(http.StatusBadRequest, gin.H{"error": "invalid_request"})
		return
	case errors.Is(err, incident.ErrUnavailable):
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "temporarily_unavailable"})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	_, err = s.svc.EndExternalAccess(ctx, lo)
	switch {
	case errors.Is(err, incident.ErrLogoutReplayed), errors.Is(err, incident.ErrInvalidInput):
		s.log.Warn("back-channel logout refused", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
		c.JSON(http.StatusBadRequest, gin.H{"error": "invalid_request"})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	c.Status(http.StatusOK)
}
