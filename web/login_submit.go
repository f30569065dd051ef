package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// loginSubmit checks user name and password (Service.Authenticate records
// the attempt) and starts a session at the stage the user's second factor
// calls for.
func (s *Server) loginSubmit(c *gin.Context) {
	var f loginForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	keys := []string{nameKey(f.Username), "ip:" + c.ClientIP()}
	if s.limiter.locked(keys...) {
		s.render(c, http.StatusTooManyRequests, "login", loginView{Error: "login.locked"})
		return
	}
	u, err := s.svc.Authenticate(ctx, f.Username, f.Password)
	if errors.Is(err, incident.ErrBadCredentials) {
		if s.limiter.fail(keys...) {
			if err := s.svc.RecordAuthEvent(ctx, incident.System, incident.AuthLockedOut, ""); err != nil {
				s.fail(c, err)
				return
			}
		}
		s.render(c, http.StatusUnauthorized, "login", loginView{Error: "login.failed"})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.limiter.reset(keys[0])
	stage := incident.StageActive
	_, err = s.sessions.SecondFactor(ctx, u.ID)
	switch {
	case err == nil:
		stage = incident.StageSecondFactor
	case !errors.Is(err, incident.ErrNotFound):
		s.fail(c, err)
		return
	case needsSecondFactor(u.Role):
		stage = incident.StageEnroll
	}
	if err := s.startSession(c, u, stage); err != nil {
		s.fail(c, err)
		return
	}
	switch stage {
	case incident.StageSecondFactor:
		s.redirect(c, "/login/second-factor")
	case incident.StageEnroll:
		s.redirect(c, "/account/second-factor")
	default:
		s.redirect(c, "/")
	}
}
